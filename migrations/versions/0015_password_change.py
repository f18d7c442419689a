"""own passwords: an account whose password an administrator set must choose its own at the next login

Revision ID: 0015_password_change
Revises: 0014_note_withdrawal
Create Date: 2026-12-01 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_password_change'
down_revision = '0014_note_withdrawal'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN, not a batch: rebuilding the table on SQLite would drop the access epoch's triggers
    op.add_column(
        'users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade():
    op.drop_column('users', 'must_change_password')
