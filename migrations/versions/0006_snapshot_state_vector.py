"""Minutes snapshots keep their state vector, and are indexed by item and position in the log, so joining an item
neither decodes the whole snapshot nor reads every earlier version

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
        batch_op.drop_index('ix_minutes_snapshots_agenda_item_id')
        batch_op.create_index('ix_minutes_snapshots_item_upto', ['agenda_item_id', 'upto_update_id'], unique=False)


def downgrade():
    with op.batch_alter_table('minutes_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_minutes_snapshots_item_upto')
        batch_op.create_index('ix_minutes_snapshots_agenda_item_id', ['agenda_item_id'], unique=False)
        batch_op.drop_column('state_vector')
