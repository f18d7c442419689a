"""accounts: when each last logged in, for the administration's list

Revision ID: 0017_last_login
Revises: 0016_agenda_announced
Create Date: 2026-12-03 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_last_login'
down_revision = '0016_agenda_announced'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN, not a batch: rebuilding the table on SQLite would drop the access epoch's triggers
    op.add_column('users', sa.Column('last_login_at', sa.DateTime(), nullable=True))
    # Accounts of before: their last login as the audit log recorded it.
    op.execute(
        "UPDATE users SET last_login_at = (SELECT MAX(created_at) FROM audit_events "
        "WHERE audit_events.action = 'auth.login' AND audit_events.actor_id = users.id)"
    )


def downgrade():
    op.drop_column('users', 'last_login_at')
