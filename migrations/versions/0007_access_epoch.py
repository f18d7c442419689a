"""The access epoch: one counter that triggers raise whenever something changes that decides who may see what,
so the live minutes' eviction check can tell in one read whether it has anything to re-check

Revision ID: 0007_access_epoch
Revises: 0006_snapshot_state_vector
Create Date: 2026-11-30 05:30:00

"""
from alembic import op
import sqlalchemy as sa

from fallkonferenz.epoch import create_statements, drop_statements, raise_statement


# revision identifiers, used by Alembic.
revision = '0007_access_epoch'
down_revision = '0006_snapshot_state_vector'
branch_labels = None
depends_on = None

# The tables and changes watched as of this revision (a later revision that watches more reinstalls the triggers).
WATCHED = {
    "agencies": ("INSERT", "UPDATE", "DELETE"),
    "users": ("INSERT", "UPDATE", "DELETE"),
    "user_sessions": ("UPDATE OF id, user_id", "DELETE"),
    "conferences": ("INSERT", "UPDATE", "DELETE"),
    "participants": ("INSERT", "UPDATE", "DELETE"),
    "agenda_items": ("INSERT", "UPDATE", "DELETE"),
    "cases": ("INSERT", "UPDATE", "DELETE"),
    "consents": ("INSERT", "UPDATE", "DELETE"),
    "consent_grants": ("INSERT", "UPDATE", "DELETE"),
    "notes": ("INSERT", "UPDATE", "DELETE"),
    "goals": ("INSERT", "UPDATE", "DELETE"),
}


def upgrade():
    op.create_table('access_epoch',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_epoch'))
    )
    dialect = op.get_bind().dialect.name
    op.execute(raise_statement(dialect))
    for statement in create_statements(dialect, WATCHED):
        op.execute(statement)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name, WATCHED):
        op.execute(statement)
    op.drop_table('access_epoch')
