"""Minutes operations: who may join an item, validated and durable updates, sync by state vector, compaction."""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from dataclasses import dataclass

from pycrdt import Doc, Text, get_state, get_update, merge_updates
from sqlalchemy import (
    DateTime,
    Integer,
    LargeBinary,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.orm import selectinload

from agenda.models import AgendaItem, Conference, Participant
from agenda.service import load_conference
from consent.policy import Viewer, bound, bound_params, listable_cases_clause, viewer_of
from fallkonferenz import audit
from fallkonferenz.casecrypto import CaseCipher, case_cipher
from fallkonferenz.cases.service import agency_access, shared_with, shares_case
from fallkonferenz.crypto import DecryptionError
from fallkonferenz.errors import DomainError, InvalidInput, NotFound
from fallkonferenz.extensions import db
from fallkonferenz.models import Case, CaseKey, User, utcnow
from fallkonferenz.prepared import Prepared
from fallkonferenz.vocab import ROLES

from .models import MinutesSnapshot, MinutesUpdate

MAX_UPDATE_BYTES = 1_000_000
COMPACT_AFTER = 500
UPDATE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class BadUpdate(DomainError):
    status = 422
    message = "Die Änderung ist beschädigt und wurde verworfen."


class UpdateTooLarge(DomainError):
    status = 413
    message = "Die Änderung ist zu groß (höchstens 1 MB)."


class SignedOut(DomainError):
    status = 401
    message = "Bitte melden Sie sich erneut an."


class SeatRefused(NotFound):
    message = "Tagesordnungspunkt nicht gefunden."
    keeps_audit = True  # raised after the refusal was audited and before anything is written


class Unsealable(DomainError):
    """A case item whose case key does not open (damaged, not destroyed): nothing of it is stored or frozen."""

    status = 409
    message = (
        "Ein Tagesordnungspunkt lässt sich derzeit nicht versiegeln. Bitte die Administration informieren; "
        "das Protokoll bleibt bis dahin offen."
    )


class MinutesClosed(DomainError):
    status = 409
    message = "Das Protokoll ist abgeschlossen; Änderungen sind nicht mehr möglich."


NAMESPACE = "/minutes"  # the Socket.IO namespace whose rooms are the agenda items


def room_for(item: AgendaItem | ItemRef) -> str:
    """Room names are made here, from a checked item, never taken from the client."""
    return room_of(item.id)


def room_of(item_id: int) -> str:
    """The room of an item the server already holds as checked (joined sockets, stored records)."""
    return f"item:{item_id}"


@dataclass
class Seat:
    item: AgendaItem
    conference: Conference


def seat(actor: User, item_id: int, *, audit_refusal: bool = True) -> Seat:
    """The item if the actor takes part in its conference and, for a case item, her agency may see the case.

    A refusal is audited (the item, and the case of a case item): an attempt on an item of someone else's
    conference or on a case without consent is on record for the data-protection officer.
    """
    item = db.session.get(AgendaItem, item_id) if isinstance(item_id, int) else None
    if item is None:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    try:
        conference = load_conference(actor, item.conference_id)
    except NotFound:
        conference = None
    if conference is None or not _takes_part(actor, conference):
        reason = "keine Teilnahme"
    elif item.case_id is not None and not shares_case(actor, item.case_id):
        reason = "keine Einwilligung"
    else:
        return Seat(item, conference)
    if not audit_refusal:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    audit.record("minutes.refused", actor=actor, case_id=item.case_id, detail={"item": item.id, "reason": reason})
    raise SeatRefused()


def _takes_part(actor: User, conference: Conference) -> bool:
    if conference.state == "abgesagt":
        return False
    return conference.moderator_id == actor.id or any(
        p.user_id == actor.id and p.active for p in conference.participants
    )


def allowed_seats(users: dict[int, User], pairs) -> set[tuple[int, int]]:
    """`seat` for many (user id, item id) pairs at once, in a constant number of queries: the pairs still allowed.

    The eviction sweep re-checks every joined item a few times a second; one `seat` per socket would hold the
    interpreter for long stretches while editors wait for their updates.
    """
    pairs = set(pairs)
    items = {
        i.id: i for i in db.session.scalars(select(AgendaItem).where(AgendaItem.id.in_({item for _, item in pairs})))
    }
    conferences = {
        c.id: c
        for c in db.session.scalars(
            select(Conference)
            .where(Conference.id.in_({i.conference_id for i in items.values()}))
            .options(selectinload(Conference.participants))
        )
    }
    case_ids = {i.case_id for i in items.values() if i.case_id is not None}
    agency_ids = {u.agency_id for u in users.values()}
    table = agency_access(case_ids, agency_ids) if case_ids else {}
    allowed = set()
    for user_id, item_id in pairs:
        user, item = users.get(user_id), items.get(item_id)
        if user is None or item is None or not _takes_part(user, conferences[item.conference_id]):
            continue
        if item.case_id is None or shared_with(user, item.case_id, table):
            allowed.add((user_id, item_id))
    return allowed


# -- sealing: the minutes of a case item are case data --------------------------------------------------------


# The case key of each agenda item, looked up whenever it is needed (one small query): an item id can come back
# on SQLite after the item was removed, so a cached "general item, nothing to seal" could seal nothing of a case.
def _with_key(*columns):
    return select(*columns).outerjoin(CaseKey, CaseKey.case_id == AgendaItem.case_id)


_KEY_COLUMNS = (AgendaItem.case_id, CaseKey.wrapped, CaseKey.master_version, CaseKey.key_version)
_ITEM_KEYS = _with_key(AgendaItem.id, *_KEY_COLUMNS).where(AgendaItem.id.in_(bindparam("ids", expanding=True)))
# The same for one item, on the driver: each stored update asks it.
_ITEM_KEY = Prepared(_with_key(*_KEY_COLUMNS).where(AgendaItem.id == bindparam("item_id", type_=Integer)))


def _cipher(case_id, wrapped, master_version, key_version) -> CaseCipher | None:
    """None for a general item; for a case item without a key row, a cipher that opens nothing."""
    if case_id is None:
        return None
    if key_version is None:
        return CaseCipher(case_id, None, 0)
    return case_cipher(case_id, None if wrapped is None else bytes(wrapped), master_version, key_version)


def item_ciphers(item_ids) -> dict[int, CaseCipher | None]:
    """The case cipher of each of these agenda items (see `_cipher`), in one query."""
    ids = list(set(item_ids))
    if not ids:
        return {}
    return {row[0]: _cipher(*row[1:]) for row in db.session.execute(_ITEM_KEYS, {"ids": ids})}


def item_cipher(item_id: int) -> CaseCipher | None:
    """`item_ciphers` for one item, on the driver (None also for an unknown item)."""
    rows = _ITEM_KEY.rows(db.session.connection(), {"item_id": item_id})
    return _cipher(*rows[0]) if rows else None


def _seal(cipher: CaseCipher | None, table: str, record: str, field: str, data: bytes) -> bytes:
    return data if cipher is None else cipher.encrypt(table, record, field, data)


def _open(cipher: CaseCipher | None, table: str, record: str, field: str, blob: bytes) -> bytes | None:
    """The plain bytes, or None if they do not decrypt (logged and audited): the document goes on without them."""
    if cipher is None:
        return blob
    try:
        return cipher.read_bytes(table, record, field, blob)
    except DecryptionError:
        return None


def seal_update(cipher, item_id: int, client_update_id: str, data: bytes) -> bytes:
    """An update as the log stores it: sealed under the case key for a case item, bound to item and update id."""
    return _seal(cipher, "minutes_updates", f"{item_id}/{client_update_id}", "data", data)


def open_update(cipher, item_id: int, client_update_id: str, blob: bytes) -> bytes | None:
    return _open(cipher, "minutes_updates", f"{item_id}/{client_update_id}", "data", blob)


def seal_state(cipher, item_id: int, upto: int, state: bytes) -> bytes:
    """A snapshot's state as stored: sealed like an update, bound to item and the update id it reaches."""
    return _seal(cipher, "minutes_snapshots", f"{item_id}/{upto}", "state", state)


def open_state(cipher, item_id: int, upto: int, blob: bytes) -> bytes | None:
    return _open(cipher, "minutes_snapshots", f"{item_id}/{upto}", "state", blob)


# -- documents ------------------------------------------------------------------------------------------


EMPTY_UPDATE = b"\x00\x00"  # an update that carries nothing
ERASED_PAST = 2**31 - 1  # the update id an erased item's document is taken to have seen (the largest INTEGER)
EMPTY_STATE = b"\x00"  # the state vector of an empty document


class _Cache:
    """Per-process documents, caught up from the database by update id (other processes write too)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.docs: dict[int, tuple[Doc, int]] = {}

    def get(self, item_id: int) -> Doc:
        return self.get_many([item_id])[item_id]

    def loaded(self, item_id: int) -> Doc | None:
        """The item's document if this process holds it; callers catch it up with `get`."""
        with self.lock:
            entry = self.docs.get(item_id)
        return None if entry is None else entry[0]

    def stored_update(self, item_id: int) -> tuple[bytes, bytes]:
        """The item's whole state as one update and its state vector, from the newest snapshot and later updates.

        Used for an item this process has not loaded: merging the stored updates is much cheaper than building
        the document, and right after a compaction the snapshot's stored state vector spares decoding it, so a
        cold join costs little more than reading the snapshot.
        """
        cipher = item_cipher(item_id)
        snapshot = db.session.execute(
            select(MinutesSnapshot.upto_update_id, MinutesSnapshot.state, MinutesSnapshot.state_vector)
            .where(MinutesSnapshot.agenda_item_id == item_id)
            .order_by(MinutesSnapshot.upto_update_id.desc())
            .limit(1)
        ).first()
        upto = snapshot.upto_update_id if snapshot else 0
        state = open_state(cipher, item_id, upto, snapshot.state) if snapshot else None
        later = [
            data
            for client_id, blob in db.session.execute(
                select(MinutesUpdate.client_update_id, MinutesUpdate.data)
                .where(MinutesUpdate.agenda_item_id == item_id, MinutesUpdate.id > upto)
                .order_by(MinutesUpdate.id)
            )
            if (data := open_update(cipher, item_id, client_id, blob)) is not None
        ]
        if state is not None and not later and snapshot.state_vector is not None:
            return state, snapshot.state_vector
        parts = ([state] if state is not None else []) + later
        if not parts:
            return EMPTY_UPDATE, EMPTY_STATE
        whole = parts[0] if len(parts) == 1 else merge_updates(*parts)
        return whole, get_state(whole)

    def get_many(self, item_ids) -> dict[int, Doc]:
        """Catch several items up with three queries, whatever their number."""
        item_ids = list(dict.fromkeys(item_ids))
        if not item_ids:
            return {}
        ciphers = item_ciphers(item_ids)
        with self.lock:
            for item_id, cipher in ciphers.items():
                if cipher is not None and cipher.erased:
                    # What it held of an erased case goes; an empty document stands for it, past every update id,
                    # so that nothing of its log is read (or tried to open) again.
                    self.docs[item_id] = (new_doc(), ERASED_PAST)
            state = {i: self.docs.get(i, (None, 0)) for i in item_ids}
            docs = {i: doc if doc is not None else new_doc() for i, (doc, _last) in state.items()}
            last = {i: seen for i, (_doc, seen) in state.items()}
            # A compaction elsewhere may have folded updates we have not seen: take its snapshot first.
            newest = dict(
                db.session.execute(
                    select(MinutesSnapshot.agenda_item_id, func.max(MinutesSnapshot.upto_update_id))
                    .where(MinutesSnapshot.agenda_item_id.in_(item_ids))
                    .group_by(MinutesSnapshot.agenda_item_id)
                ).all()
            )
            behind = [(i, upto) for i, upto in newest.items() if upto > last[i]]
            if behind:
                for item_id, upto, snapshot in db.session.execute(
                    select(MinutesSnapshot.agenda_item_id, MinutesSnapshot.upto_update_id, MinutesSnapshot.state).where(
                        or_(
                            *(
                                (MinutesSnapshot.agenda_item_id == i) & (MinutesSnapshot.upto_update_id == upto)
                                for i, upto in behind
                            )
                        )
                    )
                ):
                    plain = open_state(ciphers.get(item_id), item_id, upto, snapshot)
                    if plain is not None:
                        docs[item_id].apply_update(plain)
                    last[item_id] = upto
            for item_id, update_id, client_id, blob in db.session.execute(
                select(
                    MinutesUpdate.agenda_item_id, MinutesUpdate.id, MinutesUpdate.client_update_id, MinutesUpdate.data
                )
                .where(MinutesUpdate.agenda_item_id.in_(item_ids), MinutesUpdate.id > min(last.values()))
                .order_by(MinutesUpdate.id)
            ):
                if update_id > last[item_id]:
                    data = open_update(ciphers.get(item_id), item_id, client_id, blob)
                    if data is not None:
                        docs[item_id].apply_update(data)
                    last[item_id] = update_id
            for item_id in item_ids:
                self.docs[item_id] = (docs[item_id], last[item_id])
            return docs


CACHE = _Cache()


def new_doc() -> Doc:
    doc = Doc()
    doc.get("text", type=Text)
    return doc


def text_of(item_id: int) -> str:
    """The item's current minutes text."""
    return texts_of([item_id])[item_id]


def texts_of(item_ids) -> dict[int, str]:
    """The current minutes text of several items, in a constant number of queries."""
    return {i: str(doc.get("text", type=Text)) for i, doc in CACHE.get_many(item_ids).items()}


def join(actor: User, item_id: int, client_state: bytes | None) -> tuple[ItemRef, bytes, bytes]:
    """Admit the actor to an item (closed minutes too, to read): returns the item, what the client lacks, and the
    server's state vector."""
    item, _closed = checked_item(actor, item_id)
    doc = CACHE.loaded(item.id)
    try:
        if doc is not None:
            doc = CACHE.get(item.id)  # catch up with what other processes wrote
            diff = doc.get_update(client_state) if client_state else doc.get_update()
            state = doc.get_state()
        else:
            stored, state = CACHE.stored_update(item.id)
            empty = not client_state or client_state == EMPTY_STATE
            diff = stored if empty else get_update(stored, client_state)
    except ValueError:
        raise BadUpdate("Der Synchronisationsstand des Editors ist beschädigt.") from None
    audit.record("minutes.join", actor=actor, case_id=item.case_id, detail={"item": item.id})
    return item, diff, state


def validate(data) -> bytes:
    """Refuse anything that is not a well-formed Yjs update, without touching any document."""
    if not isinstance(data, bytes | bytearray):
        raise BadUpdate()
    if len(data) >= MAX_UPDATE_BYTES:
        raise UpdateTooLarge()
    try:
        Doc().apply_update(bytes(data))
    except (ValueError, RuntimeError):
        raise BadUpdate() from None
    return bytes(data)


@dataclass(frozen=True)
class ItemRef:
    """An agenda item as an update needs it: checked, but not loaded as an object."""

    id: int
    case_id: int | None
    conference_id: int


def seat_clause(viewer, at, *, today=None):
    """SQL condition on an agenda item joined with its conference: the rule of `seat`, in one statement.

    The conference is not cancelled; the viewer moderates it or takes part (not replaced by a colleague, see
    Participant.active); a case item's case is one shared with the viewer's agency (lead or consent; its own
    entries in the case are not enough, see `Access.shared`).
    """
    takes_part = or_(
        Conference.moderator_id == viewer.user_id,
        exists(
            select(Participant.id).where(
                Participant.conference_id == Conference.id,
                Participant.user_id == viewer.user_id,
                Participant.active,
            )
        ),
    )
    sees_case = or_(
        AgendaItem.case_id.is_(None),
        exists(
            select(Case.id).where(
                Case.id == AgendaItem.case_id, listable_cases_clause(viewer, at, today=today, own_entries=False)
            )
        ),
    )
    return and_(Conference.state != "abgesagt", takes_part, sees_case)


def _seat_conditions(role: str) -> list:
    """The rule of `seat` for the bound parameters item_id, user_id, agency_id, now and today, on an agenda item
    joined with its conference. It also checks that the account is still active with this role and agency, so a
    socket can pass who it connected as without loading the user for every update."""
    viewer, at, today = bound(role)
    still = exists(
        select(User.id).where(
            User.id == viewer.user_id, User.active.is_(True), User.role == role, User.agency_id == viewer.agency_id
        )
    )
    return [
        AgendaItem.id == bindparam("item_id"),
        still,
        seat_clause(viewer, at, today=today),
    ]


def _closed():
    from .models import MinutesClosure

    return exists(select(MinutesClosure.conference_id).where(MinutesClosure.conference_id == Conference.id))


def _seated(role: str, *columns):
    """`columns` of the agenda item if the rule of `seat` holds for the bound parameters (see `_seat_params`)."""
    return select(*columns).join(Conference, Conference.id == AgendaItem.conference_id).where(*_seat_conditions(role))


def _seat_params(viewer: Viewer, item_id: int) -> dict:
    """The bound parameters of the seat rule: who asks, for which item, now."""
    if not isinstance(item_id, int):
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    return bound_params(viewer, utcnow()) | {"item_id": item_id}


@functools.cache
def _seat_statement(role: str):
    """The seat check of joins, built once per role with bound parameters (building it costs more than running
    it)."""
    return _seated(role, AgendaItem.id, AgendaItem.case_id, AgendaItem.conference_id, _closed().label("closed"))


@functools.cache
def _append(role: str | None):
    """Append an update to the log unless this client update id is there already (a resend after reconnect); with a
    role, only if the seat holds for it and the minutes are open. One statement, compiled once, run on the driver.

    A resend is found with NOT EXISTS, which SQLite and PostgreSQL share. Two resends of one update racing each other
    on PostgreSQL meet the unique constraint instead; the client then sends it again.
    """
    resend = exists(
        select(MinutesUpdate.id).where(
            MinutesUpdate.agenda_item_id == bindparam("item_id"),
            MinutesUpdate.client_update_id == bindparam("client_id"),
        )
    )
    conditions = [~resend]
    if role is not None:
        conditions.append(_seated(role, AgendaItem.id).where(~_closed()).exists())
    values = select(
        bindparam("item_id", type_=Integer),
        bindparam("client_id", type_=String),
        bindparam("user_id", type_=Integer),
        bindparam("data", type_=LargeBinary),
        bindparam("at", type_=DateTime),
    ).where(*conditions)
    columns = ["agenda_item_id", "client_update_id", "user_id", "data", "created_at"]
    return Prepared(insert(MinutesUpdate).from_select(columns, values))


# A transaction-scoped advisory lock per agenda item (the first key names the lock's purpose: "FK" + 1).
_ITEM_APPEND_LOCK = text("SELECT pg_advisory_xact_lock(17995, :item)")


def checked_item(actor: User | Viewer, item_id: int) -> tuple[ItemRef, bool]:
    """The rule of `seat` in one statement: the item and whether its minutes are closed; a refusal goes the long
    way (through `seat`) to be audited.

    `actor` is the user or who a socket connected as (a `Viewer`): if the account was deactivated since, the
    answer is `SignedOut`; if its role or agency changed, the check is made as who the user is now.
    """
    viewer = viewer_of(actor)
    params = _seat_params(viewer, item_id)
    # On the Core connection: the statement names columns only, so the ORM has nothing to add but its overhead.
    row = db.session.connection().execute(_seat_statement(viewer.role), params).first()
    if row is None:
        user = db.session.get(User, viewer.user_id)
        if user is None or not user.active:
            raise SignedOut()
        if viewer_of(user) != viewer:
            return checked_item(user, item_id)
        seat(user, item_id)  # raises, with the refusal audited
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    return ItemRef(row.id, row.case_id, row.conference_id), row.closed


def update_seat(actor: User | Viewer, item_id: int) -> ItemRef:
    """Re-check an incoming update's seat; closed minutes take no edits."""
    item, closed = checked_item(actor, item_id)
    if closed:
        raise MinutesClosed()
    return item


def apply_update(actor: User | Viewer, item_id: int, client_update_id: str, data) -> tuple[int, bool]:
    """Append a validated update to the log (the caller commits before acknowledging): the item's id, and False if
    it was a resend.

    Usually one statement does it all: the seat check, the closed check and the append. When it stores nothing,
    the long way finds out why: a refusal, closed minutes, a resend, or an account that changed since its socket
    connected (then checked as the user is now).
    """
    if not isinstance(client_update_id, str) or not UPDATE_ID_RE.match(client_update_id):
        raise InvalidInput("Ungültige Kennung der Änderung.")
    data = validate(data)
    viewer = viewer_of(actor)
    row = _seat_params(viewer, item_id)
    cipher = item_cipher(item_id)
    if cipher is not None and cipher.key is None:
        update_seat(actor, item_id)  # whoever may not write here learns nothing more than that
        raise Unsealable()
    sealed = seal_update(cipher, item_id, client_update_id, data)
    row.update(client_id=client_update_id, data=sealed, at=row["now"])
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # Ids come from a sequence, in the order of INSERT, not of COMMIT. Appends to one item take turns, so that
        # its ids are committed in order: a reader that has seen id n of an item has seen all its earlier ones
        # (the cache catches up by id; compaction folds and deletes up to an id). SQLite serialises writers anyway.
        connection.execute(_ITEM_APPEND_LOCK, {"item": item_id & 0x7FFFFFFF})
    if _append(viewer.role).execute(connection, row) == 1:
        return item_id, True
    update_seat(actor, item_id)  # raises with the reason
    return item_id, _append(None).execute(connection, row) == 1


def warm_up(*also) -> None:
    """Prepare, once at a server's start, the statements a join and an update run, and `also` (each called with
    item 0).

    After a restart every open minutes page rejoins at once. Each statement is compiled the first time a process
    runs it, so the first joins would wait for that on their clients' time: in a fresh process a first join took
    10-13 ms here, a later join of another item 3-4 ms. This goes the ways of an update, of a join and of the audit
    record of an edit for item 0, which does not exist, as account 0, which does not exist either, in every role;
    every check finds nothing, and the transaction is rolled back, so nothing is stored or logged. Meanwhile it holds
    the write lock (SQLite) or the audit chain's head row (PostgreSQL) for a moment, as any audited request does.
    """
    try:
        for role in ROLES:
            with contextlib.suppress(DomainError):  # nothing exists, so every check refuses
                apply_update(Viewer(0, 0, role), 0, "warm-up", EMPTY_UPDATE)
        CACHE.stored_update(0)
        for step in also:
            step(0)
        note_edit(Viewer(0, 0, "case_worker"), 0)
    finally:
        db.session.rollback()


def import_text(item_id: int, user_id: int | None, text: str) -> None:
    """History (demo data): an item's minutes text as one stored update, sealed like an editor's."""
    doc = new_doc()
    doc.get("text", type=Text).insert(0, text)
    client_id = f"import-{item_id}"
    data = seal_update(item_cipher(item_id), item_id, client_id, doc.get_update())
    db.session.add(MinutesUpdate(agenda_item_id=item_id, client_update_id=client_id, user_id=user_id, data=data))


NO_CASE = (None, False)  # `item_cases` of a general item (and of one that no longer exists)


def item_cases(item_ids) -> dict[int, tuple[int | None, bool]]:
    """The case of each of these agenda items (None for a general one) and whether it was erased, in one query."""
    rows = db.session.execute(
        select(AgendaItem.id, AgendaItem.case_id, Case.erased_at.is_not(None))
        .outerjoin(Case, Case.id == AgendaItem.case_id)
        .where(AgendaItem.id.in_(list(item_ids)))
    )
    return {item_id: (case_id, bool(erased)) for item_id, case_id, erased in rows}


def note_edit(actor: User | Viewer, item_id: int) -> None:
    """Who writes into an item's minutes goes into the audit log (see MinutesNamespace._note_edit): each update's
    author stays in the update log only until compaction folds it into a version."""
    case_id, _erased = item_cases([item_id]).get(item_id, NO_CASE)
    audit.record("minutes.edit", actor=actor, case_id=case_id, detail={"item": item_id})


def is_closed(conference: Conference) -> bool:
    """Closed minutes take no more edits: a cancelled conference, or minutes frozen for approval."""
    from .models import MinutesClosure

    return conference.state == "abgesagt" or db.session.get(MinutesClosure, conference.id) is not None


UNFOLDABLE: set[int] = set()  # items whose log did not decrypt in full: not compacted again by this process


def compact(item_id: int) -> MinutesSnapshot | None:
    """Fold the log into a snapshot (a version), then drop the folded updates; editors are not blocked. Nothing is
    folded while a part of the log does not decrypt."""
    if item_id in UNFOLDABLE:
        return None
    upto = db.session.scalar(select(func.max(MinutesUpdate.id)).where(MinutesUpdate.agenda_item_id == item_id))
    if upto is None:
        return None
    authors = db.session.scalars(
        select(MinutesUpdate.user_id)
        .where(MinutesUpdate.agenda_item_id == item_id, MinutesUpdate.id <= upto)
        .distinct()
    ).all()
    # The cached document may already hold updates past `upto`: snapshot exactly up to `upto`.
    exact = new_doc()
    cipher = item_cipher(item_id)
    previous = db.session.execute(
        select(MinutesSnapshot.upto_update_id, MinutesSnapshot.state)
        .where(MinutesSnapshot.agenda_item_id == item_id)
        .order_by(MinutesSnapshot.upto_update_id.desc())
        .limit(1)
    ).first()
    parts = [open_state(cipher, item_id, *previous)] if previous is not None else []
    parts += [
        open_update(cipher, item_id, client_id, blob)
        for client_id, blob in db.session.execute(
            select(MinutesUpdate.client_update_id, MinutesUpdate.data)
            .where(MinutesUpdate.agenda_item_id == item_id, MinutesUpdate.id <= upto)
            .order_by(MinutesUpdate.id)
        )
    ]
    if None in parts:
        # Something did not open (tampered, or the case erased): folding and deleting the log would make that
        # final. It stays as it is, on record as a crypto failure, for whoever investigates; this process does
        # not try again (each try would read the whole log and record the failure again).
        UNFOLDABLE.add(item_id)
        return None
    for part in parts:
        exact.apply_update(part)
    snap = MinutesSnapshot(
        agenda_item_id=item_id,
        upto_update_id=upto,
        state=seal_state(cipher, item_id, upto, exact.get_update()),
        state_vector=exact.get_state(),
        authors=",".join(str(a) for a in sorted(a for a in authors if a)),
    )
    db.session.add(snap)
    db.session.execute(delete(MinutesUpdate).where(MinutesUpdate.agenda_item_id == item_id, MinutesUpdate.id <= upto))
    db.session.flush()
    return snap


def pending_count(item_id: int) -> int:
    return db.session.scalar(select(func.count()).where(MinutesUpdate.agenda_item_id == item_id))
