"""The access epoch: one counter that triggers raise whenever something changes that decides who may see what,
so the live minutes' eviction check can tell in one read whether it has anything to re-check

Revision ID: 0007_access_epoch
Revises: 0006_snapshot_state_vector
Create Date: 2026-11-30 05:30:00

"""

from alembic import op
import sqlalchemy as sa

from fallkonferenz.epoch import create_statements, drop_statements


# revision identifiers, used by Alembic.
revision = "0007_access_epoch"
down_revision = "0006_snapshot_state_vector"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_epoch")),
    )
    op.execute("INSERT INTO access_epoch (id, n) VALUES (1, 0)")
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("access_epoch")
