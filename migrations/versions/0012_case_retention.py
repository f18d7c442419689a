"""case retention: a case is closed by its lead agency and erased when the retention period has passed

Revision ID: 0012_case_retention
Revises: 0011_sealed_minutes
Create Date: 2026-12-01 01:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_case_retention'
down_revision = '0011_sealed_minutes'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN, not a batch: rebuilding the table on SQLite would drop the access epoch's triggers
    op.add_column('cases', sa.Column('closed_on', sa.Date(), nullable=True))
    op.add_column('cases', sa.Column('erased_at', sa.DateTime(), nullable=True))
    op.create_index('ix_cases_closed_on', 'cases', ['closed_on'])


def downgrade():
    op.drop_index('ix_cases_closed_on', table_name='cases')
    # plain DROP COLUMN (SQLite 3.35 and later): a batch would rebuild the table, which other tables point at
    op.drop_column('cases', 'erased_at')
    op.drop_column('cases', 'closed_on')
