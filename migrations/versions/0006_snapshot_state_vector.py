"""Minutes snapshots keep their state vector, so joining an item need not decode the whole snapshot

Revision ID: 0006_snapshot_state_vector
Revises: 0005_backlog
Create Date: 2026-11-29 23:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_snapshot_state_vector'
down_revision = '0005_backlog'
branch_labels = None
depends_on = None


def upgrade():
    # Existing snapshots keep NULL: a join then computes the vector from the snapshot, as before.
    with op.batch_alter_table('minutes_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_vector', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('minutes_snapshots', schema=None) as batch_op:
        batch_op.drop_column('state_vector')
