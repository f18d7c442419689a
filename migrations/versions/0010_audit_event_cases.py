"""audit event cases: the cases an event showed beside others, for the access report and the officer's filter

Revision ID: 0010_audit_event_cases
Revises: 0009_approval_steps
Create Date: 2026-11-30 22:10:00

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_audit_event_cases'
down_revision = '0009_approval_steps'
branch_labels = None
depends_on = None

# Where the events written before this revision name the cases whose data they showed.
SHOWN = {"case.list": "names_shown", "agenda.read": "cases"}


def upgrade():
    # one b-tree (no rowid), in the order the reports read it, and no foreign key to check on every list
    op.create_table('audit_event_cases',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'event_id', name=op.f('pk_audit_event_cases')),
    sqlite_with_rowid=False,
    )

    conn = op.get_bind()
    events = sa.table("audit_events", sa.column("id"), sa.column("action"), sa.column("detail"))
    links = sa.table("audit_event_cases", sa.column("event_id"), sa.column("case_id"))
    rows = []
    for event_id, action, detail in conn.execute(
        sa.select(events.c.id, events.c.action, events.c.detail).where(events.c.action.in_(list(SHOWN)))
    ):
        try:
            ids = json.loads(detail or "{}").get(SHOWN[action]) or []
        except (ValueError, AttributeError):
            continue
        rows.extend({"event_id": event_id, "case_id": i} for i in sorted(set(ids)) if isinstance(i, int))
        if len(rows) >= 5000:
            conn.execute(links.insert(), rows)
            rows = []
    if rows:
        conn.execute(links.insert(), rows)


def downgrade():
    op.drop_table('audit_event_cases')
