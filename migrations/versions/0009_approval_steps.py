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

    # What the approval tables hold already becomes the start of each history, in the order it happened: the
    # closing of minutes now closed, every agency's decision (also an objection to an earlier closing, kept while
    # the minutes were reopened), and the final approval.
    op.execute(
        "INSERT INTO minutes_approval_steps (conference_id, at, kind, agency_id, user_id, reason, sha256) "
        "SELECT conference_id, at, kind, agency_id, user_id, reason, sha256 FROM ("
        " SELECT conference_id, closed_at AS at, 'abgeschlossen' AS kind, NULL AS agency_id,"
        "  closed_by_id AS user_id, '' AS reason, sha256, 0 AS rank FROM minutes_closures"
        " UNION ALL"
        " SELECT conference_id, at, decision, agency_id, user_id, reason, '', 1 FROM minutes_approvals"
        " UNION ALL"
        " SELECT conference_id, final_at, 'endgueltig', NULL, NULL, '', sha256, 2 FROM minutes_closures"
        "  WHERE final_at IS NOT NULL"
        ") AS steps ORDER BY conference_id, rank, at"
    )


def downgrade():
    with op.batch_alter_table('minutes_approval_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_approval_steps_conference_id'))

    op.drop_table('minutes_approval_steps')
