"""closure hash scope: which closed minutes were hashed over their text before it was sealed

Minutes closed before revision 0011 carry a keyed hash of their text as it was then, in plain text; 0011 sealed
the entries of their case items in place. Minutes closed since are hashed over the text as stored. The check of
closed minutes needs to know which is which: only the first kind is rebuilt from its opened entries (and can no
longer be checked once a case in it is erased); for the second, any difference is a change.

Revision ID: 0013_closure_hash_scope
Revises: 0012_case_retention
Create Date: 2026-12-01 05:20:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '0013_closure_hash_scope'
down_revision = '0012_case_retention'
branch_labels = None
depends_on = None

closures = sa.table(
    "minutes_closures", sa.column("conference_id"), sa.column("frozen"), sa.column("sha256"), sa.column("hashed_plain")
)


def upgrade():
    # plain ADD COLUMN, not a batch: the table keeps its rows and constraints as they are
    op.add_column(
        'minutes_closures', sa.Column('hashed_plain', sa.Boolean(), nullable=False, server_default=sa.false())
    )
    conn = op.get_bind()
    ring = current_app.extensions["fk_keyring"]
    for conference_id, frozen, sha256 in conn.execute(
        sa.select(closures.c.conference_id, closures.c.frozen, closures.c.sha256)
    ).all():
        if ring.seal((frozen or "").encode()) != sha256:  # hashed before its case items were sealed
            conn.execute(
                closures.update().where(closures.c.conference_id == conference_id).values(hashed_plain=True)
            )


def downgrade():
    op.drop_column('minutes_closures', 'hashed_plain')
