"""The access epoch: one counter that triggers raise whenever something changes that decides who may see what,
so the live minutes' eviction check can tell in one read whether it has anything to re-check

Revision ID: 0007_access_epoch
Revises: 0006_snapshot_state_vector
Create Date: 2026-11-30 05:30:00

"""
from alembic import op

from fallkonferenz.epoch import ACCESS


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
    ACCESS.upgrade(op, WATCHED)


def downgrade():
    ACCESS.downgrade(op, WATCHED)
