"""agenda notices: which version of the agenda the participants were last told of

Revision ID: 0016_agenda_announced
Revises: 0015_password_change
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_agenda_announced'
down_revision = '0015_password_change'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'conferences', sa.Column('agenda_announced_version', sa.Integer(), server_default='0', nullable=False)
    )
    # Conferences of before: their participants are taken to know the agenda as it is (no notice is offered).
    op.execute('UPDATE conferences SET agenda_announced_version = agenda_version')


def downgrade():
    op.drop_column('conferences', 'agenda_announced_version')
