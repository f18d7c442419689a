"""The backlog epoch: one counter that triggers raise whenever an item, a recommendation, an implementation or an
agency changes, so the Kennzahlen are counted again only when something they count has changed

Revision ID: 0008_backlog_epoch
Revises: 0007_access_epoch
Create Date: 2026-11-30 11:40:00

"""
from alembic import op

from fallkonferenz.epoch import BACKLOG


# revision identifiers, used by Alembic.
revision = '0008_backlog_epoch'
down_revision = '0007_access_epoch'
branch_labels = None
depends_on = None

# The tables and changes watched as of this revision (a later revision that watches more reinstalls the triggers).
WATCHED = {
    "escalations": ("INSERT", "UPDATE", "DELETE"),
    "recommendations": ("INSERT", "UPDATE", "DELETE"),
    "implementations": ("INSERT", "UPDATE", "DELETE"),
    "agencies": ("INSERT", "UPDATE", "DELETE"),
}


def upgrade():
    BACKLOG.upgrade(op, WATCHED)


def downgrade():
    BACKLOG.downgrade(op, WATCHED)
