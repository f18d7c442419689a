"""minutes approval steps: every closing, decision, reopening and final approval, kept after a new round

Revision ID: 0009_approval_steps
Revises: 0008_backlog_epoch
Create Date: 2026-11-30 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_approval_steps'
down_revision = '0008_backlog_epoch'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('minutes_approval_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_minutes_approval_steps_agency_id_agencies')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_minutes_approval_steps_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_minutes_approval_steps_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_approval_steps'))
    )
    with op.batch_alter_table('minutes_approval_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_approval_steps_conference_id'), ['conference_id'], unique=False)


def downgrade():
    with op.batch_alter_table('minutes_approval_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_approval_steps_conference_id'))

    op.drop_table('minutes_approval_steps')
