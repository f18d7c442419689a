"""sealed minutes: the minutes of a case item are encrypted under the case's data key

The update log, the snapshots, the frozen text of closed minutes, and the decisions and tasks of a case item were
stored in plain text, so destroying a case's key (crypto-shredding) left them readable. From this revision they
are sealed like the case's own fields: AES-GCM under the case key, bound to their record. Decisions and tasks get
a column for the ciphertext; their text column keeps "" for a case item. General items stay as they are: every
participant reads them.

The keyed hash of closed minutes stays as it was computed (over the plain text): the approval steps name it.

Revision ID: 0011_sealed_minutes
Revises: 0010_audit_event_cases
Create Date: 2026-12-01 01:40:00

"""
import base64
import json

from alembic import op
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from fallkonferenz.crypto import associated_data, decrypt_field, encrypt_field


# revision identifiers, used by Alembic.
revision = '0011_sealed_minutes'
down_revision = '0010_audit_event_cases'
branch_labels = None
depends_on = None

BATCH = 1000

items = sa.table("agenda_items", sa.column("id"), sa.column("case_id"), sa.column("conference_id"))
keys = sa.table(
    "case_keys", sa.column("case_id"), sa.column("wrapped"), sa.column("master_version"), sa.column("key_version")
)
updates = sa.table(
    "minutes_updates", sa.column("id"), sa.column("agenda_item_id"), sa.column("client_update_id"), sa.column("data")
)
snapshots = sa.table(
    "minutes_snapshots", sa.column("id"), sa.column("agenda_item_id"), sa.column("upto_update_id"), sa.column("state")
)
closures = sa.table("minutes_closures", sa.column("conference_id"), sa.column("frozen"))
decisions = sa.table("decisions", sa.column("id"), sa.column("case_id"), sa.column("text"), sa.column("sealed"))
tasks = sa.table("tasks", sa.column("id"), sa.column("case_id"), sa.column("description"), sa.column("sealed"))


class _Keys:
    """The data key of each case, unwrapped with the app's keyring; None for a destroyed key."""

    def __init__(self, conn):
        ring = current_app.extensions["fk_keyring"]
        self.keys = {}
        for case_id, wrapped, master_version, key_version in conn.execute(sa.select(keys)):
            aead = AESGCM(ring.unwrap(wrapped, case_id, master_version)) if wrapped is not None else None
            self.keys[case_id] = (aead, key_version)

    def seal(self, case_id, table, record, field, plain: bytes) -> bytes | None:
        aead, version = self.keys.get(case_id, (None, 0))
        if aead is None:
            return None  # the case is erased: so is this
        return encrypt_field(aead, plain, associated_data(table, record, field, version))

    def open(self, case_id, table, record, field, blob: bytes) -> bytes | None:
        aead, version = self.keys.get(case_id, (None, 0))
        if aead is None:
            return None
        return decrypt_field(aead, blob, associated_data(table, record, field, version))


def _case_items(conn) -> dict[int, int]:
    return dict(conn.execute(sa.select(items.c.id, items.c.case_id).where(items.c.case_id.is_not(None))).all())


def _convert_log(conn, key, case_of, forward: bool) -> None:
    """The update log and the snapshots of case items, sealed (forward) or opened."""
    change = key.seal if forward else key.open
    for table, record_column, field in ((updates, "client_update_id", "data"), (snapshots, "upto_update_id", "state")):
        last = 0
        while True:
            rows = conn.execute(
                sa.select(table.c.id, table.c.agenda_item_id, table.c[record_column], table.c[field])
                .where(table.c.id > last, table.c.agenda_item_id.in_(list(case_of) or [0]))
                .order_by(table.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            for row_id, item_id, record, value in rows:
                new = change(case_of[item_id], table.name, f"{item_id}/{record}", field, value)
                if new is None:
                    conn.execute(table.delete().where(table.c.id == row_id))
                else:
                    conn.execute(table.update().where(table.c.id == row_id).values({field: new}))
            last = rows[-1][0]


def _convert_texts(conn, key, forward: bool) -> None:
    """Decisions and tasks of a case: text into the sealed column (forward) or back."""
    for table, field in ((decisions, "text"), (tasks, "description")):
        column = table.c[field]
        condition = table.c.case_id.is_not(None) & (table.c.sealed.is_(None) if forward else table.c.sealed.is_not(None))
        for row_id, case_id, plain, sealed in conn.execute(
            sa.select(table.c.id, table.c.case_id, column, table.c.sealed).where(condition)
        ).all():
            if forward:
                values = {field: "", "sealed": key.seal(case_id, table.name, row_id, field, plain.encode())}
            else:
                opened = key.open(case_id, table.name, row_id, field, sealed)
                values = {field: opened.decode() if opened is not None else "", "sealed": None}
            conn.execute(table.update().where(table.c.id == row_id).values(values))


def _convert_frozen(conn, key, case_of, forward: bool) -> None:
    """The frozen text of closed minutes: the entries of case items sealed (forward) or opened."""
    for conference_id, body in conn.execute(sa.select(closures.c.conference_id, closures.c.frozen)).all():
        frozen = json.loads(body or "{}")
        for item, entry in frozen.items():
            case_id = case_of.get(int(item))
            if case_id is None or ("sealed" in entry) != (not forward):
                continue
            record = f"{conference_id}/{item}"
            if forward:
                raw = json.dumps(entry, ensure_ascii=False).encode()
                sealed = key.seal(case_id, "minutes_closures", record, "frozen", raw)
                frozen[item] = {"sealed": base64.b64encode(sealed).decode()} if sealed else {"text": "", "html": ""}
            else:
                opened = key.open(case_id, "minutes_closures", record, "frozen", base64.b64decode(entry["sealed"]))
                frozen[item] = json.loads(opened) if opened is not None else {"text": "", "html": ""}
        body = json.dumps(frozen, sort_keys=True, ensure_ascii=False)
        conn.execute(closures.update().where(closures.c.conference_id == conference_id).values(frozen=body))


def _convert(forward: bool) -> None:
    conn = op.get_bind()
    key, case_of = _Keys(conn), _case_items(conn)
    _convert_log(conn, key, case_of, forward)
    _convert_texts(conn, key, forward)
    _convert_frozen(conn, key, case_of, forward)


def upgrade():
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.LargeBinary(), nullable=True))
    _convert(forward=True)


def downgrade():
    _convert(forward=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('sealed')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_column('sealed')
