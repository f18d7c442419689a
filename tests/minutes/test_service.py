"""Minutes core: who may join, malformed and oversized updates, durable log, sync by state vector, compaction."""

from __future__ import annotations

import os
import re
import threading
from datetime import date, datetime, time, timedelta

import pytest
from pycrdt import Doc, Text
from sqlalchemy import select, text, update

from agenda import items
from agenda import service as agenda_service
from consent import service as consent_service
from consent.models import Consent
from consent.policy import viewer_of
from fallkonferenz import epoch
from fallkonferenz.auth import service as auth_service
from fallkonferenz.cases import service as case_service
from fallkonferenz.errors import InvalidInput, NotFound
from fallkonferenz.extensions import db
from fallkonferenz.models import Case, User, utcnow
from minutes import records, service
from minutes.models import MinutesSnapshot, MinutesUpdate
from minutes.sockets import MinutesNamespace
from tests.agenda.conftest import user
from tests.conftest import counting
from tests.factories import PASSWORD


def _edit(doc: Doc, text: str) -> bytes:
    """Type into a client-side document and return the update it produces."""
    before = doc.get_state()
    doc.get("text", type=Text).insert(len(str(doc.get("text", type=Text))), text)
    return doc.get_update(before)


def test_two_clients_converge_through_the_log(scene, items_, query):
    a, b = Doc(), Doc()
    ua = _edit(a, "Ziel: B1 ")
    ub = _edit(b, "Kita-Platz offen")

    def send(code, update, uid):
        return service.apply_update(user(scene.users[code]), items_["open"], uid, update)[1]

    assert query(send, "KI", ua, "a1") is True
    assert query(send, "JC", ub, "b1") is True
    # A resend after a lost acknowledgement is harmless: stored once.
    assert query(send, "KI", ua, "a1") is False
    assert query(lambda: db.session.query(MinutesUpdate).count(), commit=False) == 2

    def sync(code, doc):
        _seat, diff, _sv = service.join(user(scene.users[code]), items_["open"], doc.get_state())
        doc.apply_update(diff)
        return str(doc.get("text", type=Text))

    assert query(sync, "KI", a) == query(sync, "JC", b)
    assert "B1" in str(a.get("text", type=Text)) and "Kita" in str(a.get("text", type=Text))


@pytest.mark.parametrize(
    "payload",
    [os.urandom(64), b"\x01\x02\x03", b"", "kein bytes", None],
)
def test_malformed_updates_are_rejected_without_touching_the_document(scene, items_, query, payload):
    good = _edit(Doc(), "bleibt")
    query(lambda: service.apply_update(user(scene.users["KI"]), items_["general"], "ok1", good))
    with pytest.raises(service.BadUpdate):
        query(lambda: service.apply_update(user(scene.users["KI"]), items_["general"], "bad1", payload))
    assert query(lambda: service.text_of(items_["general"]), commit=False) == "bleibt"
    assert query(lambda: db.session.query(MinutesUpdate).count(), commit=False) == 1


def test_truncated_update_is_rejected(scene, items_, query):
    update = _edit(Doc(), "Ein längerer Text, der abgeschnitten wird")
    with pytest.raises(service.BadUpdate):
        query(lambda: service.apply_update(user(scene.users["KI"]), items_["general"], "t1", update[:-5]))


def test_update_of_one_megabyte_is_refused(scene, items_, query):
    doc = Doc()
    big = _edit(doc, "x" * 1_000_000)
    with pytest.raises(service.UpdateTooLarge):
        query(lambda: service.apply_update(user(scene.users["KI"]), items_["general"], "big", big))


def test_forged_update_id_is_refused(scene, items_, query):
    with pytest.raises(InvalidInput):
        query(lambda: service.apply_update(user(scene.users["KI"]), items_["general"], "../../x", _edit(Doc(), "a")))


@pytest.mark.parametrize(
    ("code", "item", "allowed"),
    [
        ("JC", "closed", False),
        ("JC", "open", True),
        ("JA", "general", False),
        ("ABH", "general", True),
        ("AA", "closed", True),
    ],
)
def test_joining_follows_participation_and_consent(scene, items_, query, code, item, allowed):
    def join():
        item_ref, _diff, _sv = service.join(user(scene.users[code]), items_[item], None)
        return service.room_for(item_ref)

    if allowed:
        assert query(join) == f"item:{items_[item]}"
    else:
        with pytest.raises(NotFound):
            query(join)


def test_a_case_items_minutes_are_sealed_and_a_changed_or_moved_update_fails_closed(scene, items_, query):
    """The update log of a case item holds ciphertext under the case's key, bound to item and update id: a flipped
    byte or an update copied to another item is not applied (and the failure is audited), nothing else breaks."""
    doc = Doc()
    for uid, words in (("u1", "Therapieplatz gefunden. "), ("u2", "Kita offen.")):
        query(
            lambda uid=uid, words=words: service.apply_update(
                user(scene.users["KI"]), items_["open"], uid, _edit(doc, words)
            )
        )
    rows = query(lambda: db.session.execute(select(MinutesUpdate.id, MinutesUpdate.data)).all(), commit=False)
    assert all(b"Therapieplatz" not in data and b"Kita" not in data for _, data in rows)
    assert query(lambda: service.text_of(items_["open"]), commit=False) == "Therapieplatz gefunden. Kita offen."

    (first, data), (second, _) = rows
    flipped = bytearray(data)
    flipped[-3] ^= 0x01
    query(lambda: db.session.execute(update(MinutesUpdate).where(MinutesUpdate.id == second).values(data=data)))
    query(
        lambda: db.session.execute(update(MinutesUpdate).where(MinutesUpdate.id == first).values(data=bytes(flipped)))
    )

    def failures():
        from fallkonferenz.models import AuditEvent

        return db.session.query(AuditEvent).filter_by(action="crypto.failure").count()

    service.CACHE.docs.clear()
    # neither the flipped update nor the copy of it under the other update's id opens: the text is gone, not garbled
    assert query(lambda: service.text_of(items_["open"])) == ""
    assert query(failures, commit=False) == 2
    # and compaction does not make that final: it folds nothing while a part of the log does not open, and does not
    # read (and record) the same failure again with every later try
    assert query(lambda: service.compact(items_["open"])) is None
    assert query(lambda: db.session.query(MinutesUpdate).count(), commit=False) == 2
    recorded = query(failures, commit=False)
    assert query(lambda: service.compact(items_["open"])) is None
    assert query(failures, commit=False) == recorded
    # a general item's log stays readable to the server in every process; no ciphertext there
    query(lambda: service.apply_update(user(scene.users["KI"]), items_["general"], "g1", _edit(Doc(), "Raumfrage")))
    general = query(
        lambda: db.session.scalar(select(MinutesUpdate.data).where(MinutesUpdate.client_update_id == "g1")),
        commit=False,
    )
    assert b"Raumfrage" in general


def test_an_item_that_takes_the_id_of_a_removed_general_item_is_sealed(scene, planned, query):
    """SQLite gives a removed item's id to the next one: a case item that gets it must not be taken for the general
    item it replaced (nothing of the case may be stored in plain text)."""
    ki = lambda: user(scene.users["KI"])  # noqa: E731
    general = query(lambda: items.add_item(ki(), planned, items.ItemInput("Verschiedenes", "verschiedenes", 10)).id)
    query(lambda: service.apply_update(ki(), general, "g1", _edit(Doc(), "Raumfrage")))
    query(lambda: items.remove_item(ki(), planned, general))
    case_item = query(
        lambda: (
            items.add_item(
                ki(), planned, items.ItemInput("", "fallbesprechung", 20, scene.open_case), confirmed=True
            ).id
        )
    )
    query(lambda: service.apply_update(ki(), case_item, "c1", _edit(Doc(), "Therapieplatz gefunden")))
    stored = query(
        lambda: db.session.scalar(select(MinutesUpdate.data).where(MinutesUpdate.client_update_id == "c1")),
        commit=False,
    )
    assert b"Therapieplatz" not in stored
    assert query(lambda: service.text_of(case_item), commit=False) == "Therapieplatz gefunden"


@pytest.mark.parametrize("which", ["general", "open"])  # plain, and sealed under the case key
def test_compaction_folds_the_log_into_a_snapshot_and_keeps_the_text(scene, items_, query, which):
    doc = Doc()
    for i in range(30):
        query(lambda i=i: service.apply_update(user(scene.users["KI"]), items_[which], f"u{i}", _edit(doc, f"{i} ")))
    before = query(lambda: service.text_of(items_[which]), commit=False)
    snap = query(lambda: service.compact(items_[which]))
    assert snap is not None
    assert query(lambda: db.session.query(MinutesUpdate).count(), commit=False) == 0
    # A fresh process (empty cache) rebuilds the same text from the snapshot.
    service.CACHE.docs.clear()
    assert query(lambda: service.text_of(items_[which]), commit=False) == before
    query(lambda: service.apply_update(user(scene.users["KI"]), items_[which], "after", _edit(doc, "Ende")))
    assert query(lambda: service.text_of(items_[which]), commit=False).endswith("Ende")
    assert query(lambda: db.session.query(MinutesSnapshot).count(), commit=False) == 1


@pytest.mark.parametrize("which", ["general", "open"])  # plain, and sealed under the case key
def test_a_cold_join_gets_the_whole_text_and_the_right_state_vector(scene, items_, query, which):
    """Joining an item this process has not loaded: from the snapshot's stored vector, or computed when it lacks one
    (snapshots from before the column) or updates came after it."""
    doc = Doc()
    for i in range(5):
        query(lambda i=i: service.apply_update(user(scene.users["KI"]), items_[which], f"u{i}", _edit(doc, f"{i} ")))
    query(lambda: service.compact(items_[which]))

    def cold_join():
        service.CACHE.docs.clear()
        _ref, diff, state = service.join(user(scene.users["KI"]), items_[which], None)
        return diff, state

    def check():
        diff, state = query(cold_join)
        client = Doc()
        client.apply_update(diff)
        assert state == client.get_state() and state == doc.get_state()
        assert str(client.get("text", type=Text)) == str(doc.get("text", type=Text))

    stored = query(lambda: db.session.scalar(select(MinutesSnapshot.state_vector)), commit=False)
    assert stored == doc.get_state()
    check()
    query(lambda: db.session.execute(update(MinutesSnapshot).values(state_vector=None)))
    check()
    query(lambda: service.apply_update(user(scene.users["KI"]), items_[which], "later", _edit(doc, "später")))
    check()


def test_cancelled_conference_takes_no_edits(scene, items_, planned, query):
    query(lambda: agenda_service.set_state(user(scene.users["KI"]), planned, "abgesagt", "Ausfall"))
    with pytest.raises(NotFound):
        query(lambda: service.apply_update(user(scene.users["KI"]), items_["general"], "x1", _edit(Doc(), "a")))


def test_an_agency_that_wrote_in_a_case_loses_its_items_with_the_consent(app, scene, items_, query, planned):
    """Its own notes keep the case in JC's list, but open nothing the team wrote: after the revocation JC is
    refused the item, evicted by the sweep, sees "vertraulicher Fall", and no longer gets the item's tasks."""
    jc, ki = scene.users["JC"], scene.users["KI"]
    query(lambda: case_service.add_note(user(jc), scene.open_case, "bildung_arbeit", "Maßnahme beantragt."))
    query(lambda: records.add_decision(user(ki), items_["open"], "Kurs ab März; Attest liegt vor."))
    query(
        lambda: records.add_task(
            user(ki), items_["open"], "Anmeldung prüfen", user(jc).agency.code, None, date.today() + timedelta(days=7)
        )
    )

    def my_tasks() -> list[str]:
        return [r.task.description for r in records.my_tasks(user(jc))]

    assert "Anmeldung prüfen" in query(my_tasks, commit=False)
    consent_id = query(
        lambda: db.session.scalar(
            select(Consent.id).join(Case, Case.id == Consent.case_id).where(Case.number == scene.open_case)
        )
    )
    query(lambda: consent_service.revoke_consent(user(ki), scene.open_case, consent_id, "Widerruf der Klientin"))

    with pytest.raises(NotFound):
        query(lambda: service.join(user(jc), items_["open"], None))
    pairs = {(scene.ids["JC"], items_["open"])}
    assert query(lambda: service.allowed_seats({scene.ids["JC"]: user(jc)}, pairs), commit=False) == set()
    view = query(lambda: items.conference_view(user(jc), planned))
    item = next(i for i in view.items if i.id == items_["open"])
    assert item.confidential and item.case_number is None and item.title == items.CONFIDENTIAL
    assert "Anmeldung prüfen" not in query(my_tasks, commit=False)
    # the note JC wrote is still its own: the case stays in its list, with that note
    assert scene.open_case in [r.number for r in query(lambda: case_service.list_cases(user(jc)).rows)]


def test_the_sweeps_batch_check_agrees_with_seat_for_every_user_and_item(scene, items_, query):
    """The eviction sweep checks all sockets at once; it must admit exactly whom `seat` admits."""

    def both():
        from fallkonferenz.models import User

        users = {u.id: u for u in db.session.query(User)}
        pairs = {(u, i) for u in users for i in items_.values()}
        expected = set()
        for user_id, item_id in pairs:
            try:
                service.seat(users[user_id], item_id, audit_refusal=False)
            except NotFound:
                continue
            expected.add((user_id, item_id))
        return service.allowed_seats(users, pairs), expected

    batch, single = query(both, commit=False)
    assert batch == single
    # the check is not vacuous: some pairs are admitted, some refused (JA is not invited, JC lacks consent)
    ids = scene.ids
    assert (ids["JC"], items_["open"]) in batch and (ids["JC"], items_["closed"]) not in batch
    assert (ids["JA"], items_["general"]) not in batch and (ids["AA"], items_["closed"]) in batch


def test_the_per_update_check_agrees_with_seat_for_every_user_and_item(scene, items_, query):
    """Updates are re-checked in one statement; it must admit exactly whom `seat` admits, and refuse the rest."""

    def both():
        from fallkonferenz.models import User

        agree = []
        for u in db.session.query(User):
            for item_id in items_.values():
                try:
                    service.seat(u, item_id, audit_refusal=False)
                    expected = True
                except NotFound:
                    expected = False
                for actor in (u, viewer_of(u)):  # the user, and who a socket connected as
                    try:
                        service.update_seat(actor, item_id)
                        got = True
                    except NotFound:
                        got = False
                    agree.append((u.username, item_id, expected, got))
        return agree

    rows = query(both, commit=False)
    assert all(expected == got for _u, _i, expected, got in rows), [r for r in rows if r[2] != r[3]]
    assert any(r[2] for r in rows) and not all(r[2] for r in rows)


def test_a_socket_that_connected_before_the_account_changed_is_checked_as_the_user_is_now(scene, items_, query):
    """Sockets pass who they connected as; an account deactivated since stores nothing, a changed agency counts."""
    from fallkonferenz.models import Agency, User

    jc = query(lambda: viewer_of(user(scene.users["JC"])), commit=False)
    send = lambda uid: service.apply_update(jc, items_["closed"], uid, _edit(Doc(), "x"))  # noqa: E731
    with pytest.raises(NotFound):  # JC has no consent for the closed case
        query(send, "c1")

    def move_to_aa():
        aa = db.session.query(Agency).filter_by(code="AA").one()
        db.session.get(User, jc.user_id).agency_id = aa.id

    query(move_to_aa)
    assert query(send, "c2")[1] is True  # now at AA, whose consent covers the case

    query(lambda: setattr(db.session.get(User, jc.user_id), "active", False))
    with pytest.raises(service.SignedOut):
        query(send, "c3")
    stored = query(lambda: set(db.session.scalars(select(MinutesUpdate.client_update_id))), commit=False)
    assert stored == {"c2"}


# -- the access epoch and the eviction sweep ---------------------------------------------------------------


def _epoch(query) -> int | None:
    return query(epoch.ACCESS.current, commit=False)


def _by_hand(app, sql: str, **params) -> None:
    """SQL on a connection of its own, as an administrator would type it: no service, no ORM session."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(sql), params)


def _sweeper() -> tuple[MinutesNamespace, list[tuple[str, int]]]:
    """A namespace whose eviction sweep can be run by hand, and the (socket, item) pairs it evicts; a socket it
    ends entirely shows as (socket, None)."""
    namespace, evicted = MinutesNamespace(), []
    namespace._evict = lambda sid, item_id, erased=False: evicted.append((sid, item_id))
    namespace.disconnect = lambda sid: evicted.append((sid, None))
    return namespace, evicted


def _signed_in(query, user_id: int) -> str:
    """Sign the user in; the session's key as a socket keeps it."""
    token = query(lambda: auth_service.start_session(db.session.get(User, user_id)))
    return auth_service.token_hash(token)


def test_what_can_take_a_seat_away_raises_the_access_epoch(app, scene, items_, query, planned):
    """Every kind of change the eviction check must notice raises the counter, whoever makes it and how."""
    token = query(lambda: auth_service.start_session(user(scene.users["ABH"])))
    query(lambda: auth_service.start_session(user(scene.users["JA"])))
    query(lambda: case_service.add_note(user(scene.users["KI"]), scene.open_case, "familie", "Kita-Platz zugesagt."))
    jc_consent = query(
        lambda: db.session.scalar(
            select(Consent.id).join(Case, Case.id == Consent.case_id).where(Case.number == scene.open_case)
        )
    )
    ki = scene.users["KI"]
    by_service = {
        "consent revoked": lambda: consent_service.revoke_consent(
            user(ki), scene.open_case, jc_consent, "Widerruf im Gespräch"
        ),
        "participant removed": lambda: agenda_service.remove_participant(user(ki), planned, scene.ids["JC"]),
        "user deactivated": lambda: auth_service.set_user_active(user(ki), scene.ids["AA"], False),
        "session ended": lambda: auth_service.end_session(token, user(scene.users["ABH"])),
        "item removed": lambda: items.remove_item(user(ki), planned, items_["closed"]),
        "conference cancelled": lambda: agenda_service.set_state(user(ki), planned, "abgesagt", "Ausfall"),
    }
    by_hand = {
        "role changed": ("UPDATE users SET role = 'steering' WHERE id = :id", {"id": scene.ids["JA"]}),
        "grant deleted": ("DELETE FROM consent_grants WHERE consent_id = :id", {"id": jc_consent}),
        "lead agency changed": ("UPDATE cases SET lead_agency_id = lead_agency_id", {}),
        "notes deleted": ("DELETE FROM notes", {}),
        "session moved to another user": (
            "UPDATE user_sessions SET user_id = :id WHERE user_id = :id",
            {"id": scene.ids["JA"]},
        ),
    }
    if query(lambda: db.engine.dialect.name, commit=False) == "postgresql":
        by_hand["sessions truncated"] = ("TRUNCATE user_sessions", {})
    for name, change in by_service.items():
        before = _epoch(query)
        query(change)
        assert _epoch(query) > before, name
    for name, (sql, params) in by_hand.items():
        before = _epoch(query)
        _by_hand(app, sql, **params)
        assert _epoch(query) > before, name


def test_typing_and_records_leave_the_access_epoch_alone(scene, items_, query):
    """The minutes' own writes decide nothing about who may see what: a meeting in full swing keeps the sweep quiet."""
    before = _epoch(query)
    assert before is not None
    for k in range(3):
        query(lambda k=k: service.apply_update(user(scene.users["JC"]), items_["open"], f"e{k}", _edit(Doc(), "Ziel ")))
    query(lambda: records.add_decision(user(scene.users["KI"]), items_["open"], "Sprachkurs ab März"))
    query(lambda: records.add_task(user(scene.users["KI"]), items_["general"], "Raum buchen", "KI", None, None))
    # a login (its time is kept for the administration's list) takes no seat away either
    query(lambda: auth_service.authenticate(scene.users["AA"], PASSWORD, "127.0.0.1"))
    assert _epoch(query) == before


def test_a_quiet_eviction_pass_reads_the_epoch_and_nothing_else(app, scene, items_, query, planned, monkeypatch):
    """Checked once, a seat is re-checked only when the epoch moves; a new seat is checked on its own. A full pass
    reads only tables whose changes raise the epoch."""
    ki, jc = user_ids = (scene.ids["KI"], scene.ids["JC"])
    keys = {uid: _signed_in(query, uid) for uid in user_ids}
    namespace, evicted = _sweeper()
    asked: list[set] = []
    allowed_seats = service.allowed_seats
    monkeypatch.setattr(
        service, "allowed_seats", lambda users, pairs: asked.append(set(pairs)) or allowed_seats(users, pairs)
    )
    read: set[str] = set()

    def sweep(seats: dict[str, tuple[int, set[int]]]) -> int:
        snapshot = {sid: (uid, keys[uid], items) for sid, (uid, items) in seats.items()}
        with counting(app) as statements:
            query(namespace._check, snapshot, commit=False)
        read.update(t for t in db.metadata.tables for sql in statements if re.search(rf"\b{t}\b", sql))
        return len(statements)

    seats = {"ki": (ki, {items_["closed"], items_["general"]}), "jc": (jc, {items_["general"]})}
    assert sweep(seats) > 1
    assert namespace.checked == {"ki": {items_["closed"], items_["general"]}, "jc": {items_["general"]}}
    assert sweep(seats) == 1  # nothing changed: only the epoch is read
    assert sweep(seats) == 1

    seats["jc"] = (jc, {items_["general"], items_["closed"]})  # a seat the check has not seen (JC: no consent)
    assert sweep(seats) > 1
    assert asked[-1] == {(jc, items_["closed"])}  # only the new seat
    assert evicted == [("jc", items_["closed"])]
    seats["jc"] = (jc, {items_["general"]})
    assert sweep(seats) == 1

    query(lambda: agenda_service.remove_participant(db.session.get(User, ki), planned, jc))
    assert sweep(seats) > 1  # the epoch moved: every seat is checked again
    assert asked[-1] == {(ki, items_["closed"]), (ki, items_["general"]), (jc, items_["general"])}
    assert evicted[1:] == [("jc", items_["general"])]
    assert namespace.checked == {"ki": {items_["closed"], items_["general"]}, "jc": set()}
    read -= {"audit_events", "audit_head"}  # the evictions' audit records, written, not read for the check
    assert read and read <= set(epoch.ACCESS.watched) | {epoch.ACCESS.table}, read - set(epoch.ACCESS.watched)


def test_a_revocation_dated_ahead_evicts_when_its_time_comes(app, scene, items_, query, monkeypatch):
    """Another process's clock may run ahead: its revocation is seen as not yet in force. The sweep checks again at
    that time, although nothing raises the epoch then."""
    jc = scene.ids["JC"]
    key = _signed_in(query, jc)
    namespace, evicted = _sweeper()
    snapshot = {"jc": (jc, key, {items_["open"], items_["general"]})}
    ahead = case_service.now() + timedelta(seconds=30)
    _by_hand(app, "UPDATE consents SET revoked_at = :at", at=ahead)
    query(namespace._check, snapshot, commit=False)
    assert evicted == [] and namespace.recheck_at == ahead
    query(namespace._check, snapshot, commit=False)
    assert evicted == []
    monkeypatch.setattr(case_service, "now", lambda: ahead + timedelta(microseconds=1))
    query(namespace._check, snapshot, commit=False)
    assert evicted == [("jc", items_["open"])]


def test_a_consent_that_ends_evicts_on_the_next_day_without_any_change(app, scene, items_, query, monkeypatch):
    """Consents end by date: nothing raises the epoch at midnight, the new day makes the sweep check everything."""
    jc = scene.ids["JC"]
    key = _signed_in(query, jc)
    until = query(
        lambda: db.session.scalar(
            select(Consent.valid_until).join(Case, Case.id == Consent.case_id).where(Case.number == scene.open_case)
        )
    )
    namespace, evicted = _sweeper()
    snapshot = {"jc": (jc, key, {items_["open"], items_["general"]})}
    query(namespace._check, snapshot, commit=False)
    assert evicted == [] and namespace.checked == {"jc": {items_["open"], items_["general"]}}

    day_after = datetime.combine(until + timedelta(days=1), time(0, 0, 1))
    _by_hand(app, "UPDATE user_sessions SET last_seen = :at", at=day_after)  # JC is still at work then
    monkeypatch.setattr(case_service, "now", lambda: day_after)
    query(namespace._check, snapshot, commit=False)
    assert evicted == [("jc", items_["open"])]
    assert namespace.checked == {"jc": {items_["general"]}}


def test_a_session_that_idles_out_ends_its_sockets(app, scene, items_, query, monkeypatch):
    """Typing in the minutes is no page view: when the session would end for pages, its sockets end too, although
    nothing raises the epoch then. A page view in between keeps both open."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    jc = scene.ids["JC"]
    key = _signed_in(query, jc)
    # Seen at ten in the morning (UTC) of today: the two minutes below never cross midnight, when the new day
    # alone makes the sweep check everything again (so the test would fail if run just before midnight).
    seen = datetime.combine(utcnow().date(), time(10, 0))
    _by_hand(app, "UPDATE user_sessions SET last_seen = :at", at=seen)
    namespace, evicted = _sweeper()
    snapshot = {"jc": (jc, key, {items_["general"]})}

    def sweep_at(moment) -> int:
        monkeypatch.setattr(case_service, "now", lambda: moment)
        with counting(app) as statements:
            query(namespace._check, snapshot, commit=False)
        return len(statements)

    assert sweep_at(seen + timedelta(seconds=1)) > 1
    assert evicted == [] and namespace.recheck_at == seen + timedelta(minutes=1)
    assert sweep_at(seen + timedelta(seconds=59)) == 1  # quiet until the session would idle out
    _by_hand(app, "UPDATE user_sessions SET last_seen = :at", at=seen + timedelta(seconds=50))  # a page view
    assert sweep_at(seen + timedelta(seconds=61)) > 1
    assert evicted == [] and namespace.recheck_at == seen + timedelta(seconds=110)
    sweep_at(seen + timedelta(seconds=111))
    assert evicted == [("jc", None)]


def test_appends_to_one_item_are_committed_in_the_order_of_their_ids(app, scene, items_, query):
    """A process catches its documents up by update id, and compaction folds and deletes up to an id: both hold
    only if an item's updates are committed in id order. On PostgreSQL ids come from a sequence at INSERT time,
    so an append waits while another append to the same item is not yet committed (on SQLite every writer does)."""
    doc = Doc()
    updates = {"first": _edit(doc, "eins "), "second": _edit(doc, "zwei ")}
    appended, release, second_done = threading.Event(), threading.Event(), threading.Event()

    def append(update_id: str, then=None):
        with app.app_context():
            service.apply_update(user(scene.users["KI"]), items_["general"], update_id, updates[update_id])
            if then is not None:
                then()
            db.session.commit()

    def first_then():
        appended.set()
        release.wait(10)

    first = threading.Thread(target=append, args=("first", first_then))
    first.start()
    assert appended.wait(10)
    second = threading.Thread(target=lambda: (append("second"), second_done.set()))
    second.start()
    try:
        assert not second_done.wait(0.5), "the second append did not wait for the first to commit"
    finally:
        release.set()
        first.join(10)
        second.join(10)
    assert second_done.is_set()
    ids = query(
        lambda: dict(db.session.execute(select(MinutesUpdate.client_update_id, MinutesUpdate.id)).all()), commit=False
    )
    assert ids["first"] < ids["second"]
    assert query(lambda: service.text_of(items_["general"]), commit=False) == "eins zwei "
