"""Socket tests with real python-socketio clients against a real server process."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time

import pytest
import requests
import socketio
from pycrdt import Doc

from agenda.items import ERASED_CASE, ERASED_NOTE
from tests.minutes.live import (
    CSRF_RE,
    Editor,
    awareness_update,
    editors,
    login,
    presence_seen,
    two_processes,
    wait_for,
)


def test_concurrent_edits_converge(server):
    url, info = server
    a = Editor(url, login(url, info["users"]["KI"]))
    b = Editor(url, login(url, info["users"]["AA"]))
    try:
        assert a.join(info["general"])["ok"] and b.join(info["general"])["ok"]
        for i in range(10):
            assert a.type(info["general"], f"a{i} ", f"ka{i}")["ok"]
            assert b.type(info["general"], f"b{i} ", f"kb{i}")["ok"]
        assert wait_for(lambda: str(a.text) == str(b.text) and "a9" in str(b.text) and "b9" in str(a.text))
        late = Editor(url, login(url, info["users"]["ABH"]))
        assert late.join(info["general"])["ok"]
        assert str(late.text) == str(a.text)
        late.close()
    finally:
        a.close()
        b.close()


def test_no_byte_of_a_closed_case_item_reaches_an_agency_without_consent(server):
    url, info = server
    aa = Editor(url, login(url, info["users"]["AA"]))
    jc = Editor(url, login(url, info["users"]["JC"]))
    try:
        refused = jc.join(info["closed"])
        assert refused == {"ok": False, "status": 404, "error": "Tagesordnungspunkt nicht gefunden."}
        assert _refusals(info, info["ids"]["JC"]) == [{"item": info["closed"], "reason": "keine Einwilligung"}]
        forged = jc.call("update", {"item": info["closed"], "id": "forge1", "update": Doc().get_update()})
        assert forged["ok"] is False
        assert aa.join(info["closed"])["ok"]
        assert aa.type(info["closed"], "Vertraulich: Therapie", "aa-secret")["ok"]
        time.sleep(0.5)
        assert all(data.get("item") != info["closed"] for _, data in jc.events)
        assert "Therapie" not in str(jc.text)
    finally:
        aa.close()
        jc.close()


def test_typing_into_a_cases_minutes_is_in_the_audit_log_once_per_socket_and_ten_minutes(server):
    """The update log keeps each update's author only until compaction: the audit log keeps who wrote into the
    minutes of which case, at a socket's first stored edit of an item (not at every keystroke)."""
    url, info = server
    aa_id = info["ids"]["AA"]
    case_id = _case_id(info)
    before = len(_audited(info, "minutes.edit", aa_id))
    first = Editor(url, login(url, info["users"]["AA"]))
    try:
        assert first.join(info["closed"])["ok"]
        for i in range(3):
            assert first.type(info["closed"], f" Notiz {i}", f"aa-audit-{i}")["ok"]
        assert first.call("update", {"item": info["closed"], "id": "aa-audit-0", "update": Doc().get_update()})["ok"]
        edits = _audited(info, "minutes.edit", aa_id)[before:]
        assert edits == [(case_id, {"item": info["closed"]})]
        second = Editor(url, login(url, info["users"]["AA"]))  # another socket (a second tab): its own first edit
        assert second.join(info["closed"])["ok"]
        assert second.type(info["closed"], " Nachtrag", "aa-audit-second")["ok"]
        second.close()
        assert len(_audited(info, "minutes.edit", aa_id)[before:]) == 2
    finally:
        first.close()


def _case_id(info) -> int:
    with contextlib.closing(sqlite3.connect(info["instance"] / "sockets.db")) as db:
        return db.execute("SELECT id FROM cases WHERE number = ?", (info["case"],)).fetchone()[0]


def test_presence_carries_the_account_the_socket_logged_in_with_not_what_a_browser_claims(server):
    url, info = server
    with editors(url, info, "KI", "JC") as (ki, jc):
        assert ki.join(info["general"])["ok"] and jc.join(info["general"])["ok"]
        forged = {"user": {"name": "Leiterin ABH", "agency": "ABH", "color": "#000000"}, "cursor": None}
        state = awareness_update(ki.doc.client_id, forged)
        assert ki.call("awareness", {"item": info["general"], "state": state})["ok"]
        assert wait_for(lambda: jc.received("awareness"))
        person = presence_seen(jc)[ki.doc.client_id]["user"]
        assert person["agency"] == "KI" and person["name"] != "Leiterin ABH" and person["color"] != "#000000"
        # JC cannot take over KI's cursor (same Yjs client id) nor send anything but one well-formed entry.
        for bad in (
            awareness_update(ki.doc.client_id, {"user": {}, "cursor": None}),
            state[:-3],
            os.urandom(64),
            b"\x02" + state[1:],
        ):
            ack = jc.call("awareness", {"item": info["general"], "state": bad})
            assert ack == {"ok": False, "status": 422, "error": "Ungültige Anwesenheitsangabe."}
        # one cursor per socket and item: KI cannot add a second id (and so pose as a second person) either
        second = awareness_update(ki.doc.client_id + 1, {"user": {}, "cursor": None})
        ack = ki.call("awareness", {"item": info["general"], "state": second})
        assert ack == {"ok": False, "status": 422, "error": "Ungültige Anwesenheitsangabe."}
        time.sleep(0.3)
        assert len(ki.received("awareness")) == 0 and len(jc.received("awareness")) == 1


def _audited(info, action: str, user_id: int) -> list[tuple[int | None, dict]]:
    """A user's events of one kind in the server's audit log: (case id, detail), oldest first."""
    with contextlib.closing(sqlite3.connect(info["instance"] / "sockets.db")) as db:
        rows = db.execute(
            "SELECT case_id, detail FROM audit_events WHERE action = ? AND actor_id = ? ORDER BY id", (action, user_id)
        ).fetchall()
    return [(case_id, json.loads(detail)) for case_id, detail in rows]


def _refusals(info, user_id: int) -> list[dict]:
    """The refused attempts of a user on record in the server's audit log."""
    return [detail for _, detail in _audited(info, "minutes.refused", user_id)]


@pytest.mark.parametrize("origin", ["", "http://evil.example"])
def test_connection_needs_same_origin(server, origin):
    url, info = server
    with pytest.raises(socketio.exceptions.ConnectionError):
        Editor(url, login(url, info["users"]["KI"]), origin=origin)


def test_connection_needs_a_session(server):
    url, _info = server
    with pytest.raises(socketio.exceptions.ConnectionError), requests.Session() as anonymous:
        Editor(url, anonymous)


def test_an_account_that_must_choose_its_own_password_gets_no_connection(server):
    """The password an administrator set opens "Mein Konto" alone: no page, and no socket of the minutes."""
    url, info = server
    database = sqlite3.connect(info["instance"] / "sockets.db", timeout=10)
    flag = "UPDATE users SET must_change_password = ? WHERE id = ?"
    try:
        with database:
            database.execute(flag, (True, info["ja_id"]))
        http = login(url, info["users"]["JA"])
        assert http.get(url + "/", allow_redirects=False).headers["Location"].endswith("/konto")
        with pytest.raises(socketio.exceptions.ConnectionError):
            Editor(url, http)
    finally:
        with database:
            database.execute(flag, (False, info["ja_id"]))
        database.close()


def test_malformed_and_oversized_updates_are_refused_and_the_server_lives_on(server):
    url, info = server
    a = Editor(url, login(url, info["users"]["KI"]))
    try:
        for event in ("join", "leave", "update", "awareness"):  # no payload at all: a German refusal, not a 500
            ack = a.sio.call(event, namespace="/minutes", timeout=10)
            assert ack["ok"] is False and ack["status"] == 400 and ack["error"].startswith("Ungültige Nachricht"), event
        a.sio.emit("disconnect", {"item": info["general"]}, namespace="/minutes")  # an event, not a disconnect
        assert a.join(info["general"])["ok"]
        big_state = a.call("awareness", {"item": info["general"], "state": b"x" * 9000})
        assert big_state["status"] == 422 and "zu groß" in big_state["error"]
        before = str(a.text)
        for payload in (os.urandom(200), b"\x00\x01", "text", None):
            ack = a.call("update", {"item": info["general"], "id": f"bad{id(payload)}", "update": payload})
            assert ack["ok"] is False and ack["error"]
        big = a.call("update", {"item": info["general"], "id": "big", "update": b"\x01" * 1_000_000})
        assert big["ok"] is False and big["status"] in (413, 422)
        assert a.join(info["general"])["ok"] and str(a.text) == before
    finally:
        a.close()


def test_every_event_answers_a_payload_of_the_wrong_shape_with_a_german_refusal(server):
    """Each event's fields of every wrong kind: a refusal with a 4xx status in the acknowledgement, never the 500
    of an event that failed on the server, and the connection goes on."""
    url, info = server
    a = Editor(url, login(url, info["users"]["KI"]))
    item = info["general"]
    # what every event reads first: an object with the item's id
    common = [[item], "item", 7, True, {}, {"item": "eins"}, {"item": 2**70}, {"item": -1}, {"item": True}]
    common += [{"item": 1.5}, {"item": [item]}, {"item": {"id": item}}]
    # and what each reads besides
    own = {
        "join": [{"item": item, "sv": "kein Zustand"}, {"item": item, "sv": 42}, {"item": item, "sv": b"\xff" * 64}],
        "leave": [],
        "update": [
            {"item": item, "id": 5, "update": b"\x00"},
            {"item": item, "id": "u1", "update": "kein Update"},
            {"item": item, "id": "x", "update": [1, 2]},
        ],
        "awareness": [{"item": item, "state": 42}, {"item": item, "state": "kein Zustand"}],
    }
    try:
        assert a.join(item)["ok"]  # so that update and awareness reach their own checks
        for event, shapes in own.items():
            for data in common + shapes:
                ack = a.sio.call(event, data, namespace="/minutes", timeout=10)
                assert ack["ok"] is False and 400 <= ack["status"] < 500 and ack["error"], (event, data, ack)
        assert a.join(item)["ok"]  # still connected, still served
    finally:
        a.close()


def test_flooding_is_rate_limited_without_hurting_others(server):
    """1,000 updates fired at once from one client: refused beyond the rate, the server and the others carry on."""
    url, info = server
    flood = Editor(url, login(url, info["users"]["JA"]))
    calm = Editor(url, login(url, info["users"]["AA"]))
    try:
        assert flood.join(info["general"])["ok"] and calm.join(info["general"])["ok"]
        acks: list[dict] = []
        for i in range(1000):
            before = flood.doc.get_state()
            flood.text.insert(len(str(flood.text)), "x")
            payload = {"item": info["general"], "id": f"f{i}", "update": flood.doc.get_update(before)}
            flood.sio.emit("update", payload, namespace="/minutes", callback=acks.append)
        assert wait_for(lambda: len(acks) == 1000, timeout=60)
        refused = [a for a in acks if not a["ok"]]
        assert refused and all("Zu viele Änderungen" in a["error"] and a["status"] == 429 for a in refused)
        assert calm.type(info["general"], "ruhig", "calm1")["ok"]
    finally:
        flood.close()
        calm.close()


def test_revocation_evicts_within_one_second(server):
    """Evicted before the revocation's page answers: what the lead types right after never reaches AA."""
    url, info = server
    aa = Editor(url, login(url, info["users"]["AA"]))
    ki = login(url, info["users"]["KI"])
    lead = Editor(url, ki)
    try:
        assert aa.join(info["closed"])["ok"] and lead.join(info["closed"])["ok"]
        state = awareness_update(aa.doc.client_id, {"user": {}, "cursor": None})
        assert aa.call("awareness", {"item": info["closed"], "state": state})["ok"]
        assert wait_for(lambda: lead.received("awareness"))
        page = ki.get(f"{url}/faelle/{info['case']}/einwilligungen").text
        token = CSRF_RE.search(page).group(1)
        started = time.monotonic()
        resp = ki.post(
            f"{url}/faelle/{info['case']}/einwilligungen/{info['consent']}/widerruf",
            data={"reason": "Widerruf im Gespräch", "csrf_token": token},
            allow_redirects=False,
        )
        assert resp.status_code == 302
        assert lead.type(info["closed"], "Diagnose nach dem Widerruf", "lead-after-revoke")["ok"]
        assert wait_for(lambda: any(name == "evicted" for name, _ in aa.events), timeout=1.0)
        assert time.monotonic() - started < 1.0
        evicted = next(data for name, data in aa.events if name == "evicted")
        assert evicted["item"] == info["closed"] and "Einwilligung" in evicted["reason"]
        assert aa.type(info["closed"], "nach dem Widerruf", "after-revoke")["ok"] is False
        time.sleep(0.6)  # longer than a sweep: had AA still been in the room, the lead's update would be here
        assert not [data for name, data in aa.events if name == "update"]
        assert "Diagnose" not in str(aa.text)
        # AA's name and cursor left the lead's presence with the eviction, not 30 s later
        assert aa.doc.client_id not in presence_seen(lead)
    finally:
        aa.close()
        lead.close()


def test_logout_closes_the_users_sockets(server):
    url, info = server
    http = login(url, info["users"]["ABH"])
    editor = Editor(url, http)
    try:
        assert editor.join(info["general"])["ok"]
        token = CSRF_RE.search(http.get(url + "/").text).group(1)
        http.post(url + "/abmelden", data={"csrf_token": token})
        assert wait_for(lambda: not editor.sio.connected, timeout=2.0)
    finally:
        if editor.sio.connected:
            editor.close()


def test_a_change_made_by_hand_in_the_database_evicts_within_one_second(server):
    """The sweep learns of changes from the database's triggers, not from the app's services: SQL typed by an
    administrator that takes a participant off the conference evicts her as the app's own form does."""
    import sqlite3

    url, info = server
    ja = Editor(url, login(url, info["users"]["JA"]))
    database = sqlite3.connect(info["instance"] / "sockets.db", timeout=10)
    ja_seat = (info["conference"], info["ja_id"])
    (response,) = database.execute(
        "SELECT response FROM participants WHERE conference_id = ? AND user_id = ?", ja_seat
    ).fetchone()
    respond = "UPDATE participants SET response = ? WHERE conference_id = ? AND user_id = ?"
    try:
        assert ja.join(info["general"])["ok"]
        time.sleep(1.0)  # the seat has been checked and found allowed; from now on the sweep only reads the epoch
        started = time.monotonic()
        with database:
            database.execute(respond, ("vertretung", *ja_seat))
        assert wait_for(lambda: any(name == "evicted" for name, _ in ja.events), timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert ja.type(info["general"], "nach der Änderung", "after-sql")["ok"] is False
    finally:
        with database:
            database.execute(respond, (response, *ja_seat))
        database.close()
        ja.close()


@pytest.mark.redis
def test_two_processes_share_rooms_through_redis_and_evict_on_both(server):
    """Scale-out: clients on two processes see each other's edits; removing a participant evicts her there too."""
    _url, info = server
    with two_processes(info["instance"]) as (one, two):
        a = Editor(one, login(one, info["users"]["KI"]))
        b = Editor(two, login(two, info["users"]["JA"]))
        try:
            assert a.join(info["general"])["ok"] and b.join(info["general"])["ok"]
            assert a.type(info["general"], " über Redis", "redis-1")["ok"]
            assert wait_for(lambda: "über Redis" in str(b.text))
            ki = login(one, info["users"]["KI"])
            token = CSRF_RE.search(ki.get(f"{one}/konferenzen/{info['conference']}").text).group(1)
            started = time.monotonic()
            resp = ki.post(
                f"{one}/konferenzen/{info['conference']}/teilnehmende/{info['ja_id']}/entfernen",
                data={"csrf_token": token},
                allow_redirects=False,
            )
            assert resp.status_code == 302
            # Typed on the first process right after: the second evicts before it delivers this (the notice
            # travels the same queue, ahead of the update), not on its next sweep.
            assert a.type(info["general"], " nach der Abmeldung", "redis-2")["ok"]
            assert wait_for(lambda: any(n == "evicted" for n, _ in b.events), timeout=1.0)
            assert time.monotonic() - started < 1.0
            time.sleep(0.6)
            assert "nach der Abmeldung" not in str(b.text)
        finally:
            a.close()
            b.close()


@pytest.mark.redis
def test_no_one_takes_over_a_cursor_on_another_process(server):
    """A Yjs client id in presence belongs to the account that used it first, on every process sharing Redis: a
    participant on the second process cannot move or remove the cursor of one on the first. Once its socket has
    gone, the id is free again."""
    _url, info = server
    with two_processes(info["instance"]) as (one, two):
        a = Editor(one, login(one, info["users"]["KI"]))
        b = Editor(two, login(two, info["users"]["AA"]))
        try:
            item = info["general"]
            assert a.join(item)["ok"] and b.join(item)["ok"]
            mine = awareness_update(a.doc.client_id, {"cursor": None})
            assert a.call("awareness", {"item": item, "state": mine})["ok"]
            assert wait_for(lambda: a.doc.client_id in presence_seen(b))
            for taken in (awareness_update(a.doc.client_id, {"cursor": None}), awareness_update(a.doc.client_id, None)):
                ack = b.call("awareness", {"item": item, "state": taken})
                assert ack == {"ok": False, "status": 422, "error": "Ungültige Anwesenheitsangabe."}
            time.sleep(0.3)
            assert a.received("awareness") == []  # nothing of B's attempts reached A
            assert presence_seen(b)[a.doc.client_id]["user"]["agency"] == "KI"
            own = awareness_update(b.doc.client_id, {"cursor": None})
            assert b.call("awareness", {"item": item, "state": own})["ok"]  # B's own id is B's
            assert wait_for(lambda: presence_seen(a).get(b.doc.client_id, {}).get("user", {}).get("agency") == "AA")
            a.close()
            # A's page is gone, and its id with it: the others see A leave, and the id is no one's any more
            assert wait_for(lambda: a.doc.client_id not in presence_seen(b))
            c = Editor(two, login(two, info["users"]["AA"]))
            try:
                assert c.join(item)["ok"]
                reused = awareness_update(a.doc.client_id, {"cursor": None})
                assert c.call("awareness", {"item": item, "state": reused})["ok"]
            finally:
                c.close()
        finally:
            a.close()
            b.close()


@pytest.mark.redis
def test_a_presence_id_is_renewed_and_let_go_only_by_the_account_that_holds_it():
    """In Redis: a hold is renewed by its account's use, and letting go deletes it only while that account holds
    it (a socket that leaves late does not free an id that someone else took meanwhile)."""
    import secrets

    from minutes.sockets import SharedCursorOwners

    owners = SharedCursorOwners(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    client_id = secrets.randbelow(2**40)
    key = f"{owners.PREFIX}{client_id}"
    try:
        assert owners.claim(client_id, 1) and not owners.claim(client_id, 2)
        owners.redis.expire(key, 5)
        assert owners.claim(client_id, 1) and owners.redis.ttl(key) > 5  # used again: held for another day
        owners.release([(client_id, 2)])  # not account 2's to let go
        assert not owners.claim(client_id, 2)
        owners.release([(client_id, 1)])
        assert owners.claim(client_id, 2)
    finally:
        owners.redis.delete(key)


def test_while_the_database_is_unavailable_nothing_is_acknowledged_and_nothing_lost(server):
    """Hold the database's write lock for 2 s: the edit is acknowledged only after, and then it is stored."""
    import sqlite3
    import threading

    url, info = server
    editor = Editor(url, login(url, info["users"]["KI"]))
    try:
        assert editor.join(info["general"])["ok"]
        blocker = sqlite3.connect(info["instance"] / "sockets.db", timeout=10)
        blocker.execute("BEGIN IMMEDIATE")
        acks: list[tuple[float, dict]] = []
        started = time.monotonic()

        def send():
            ack = editor.type(info["general"], " während der Störung", "db-down-1")
            acks.append((time.monotonic(), ack))

        worker = threading.Thread(target=send)
        worker.start()
        time.sleep(2.0)
        assert acks == []  # no acknowledgement while the database cannot take the write
        blocker.rollback()
        blocker.close()
        worker.join(timeout=30)
        (at, ack) = acks[0]
        assert ack["ok"] and at - started >= 2.0
        fresh = Editor(url, login(url, info["users"]["AA"]))
        assert fresh.join(info["general"])["ok"]
        assert "während der Störung" in str(fresh.text)
        fresh.close()
    finally:
        editor.close()


def test_a_general_item_that_names_a_client_draws_a_hint_to_its_writer(server):
    """Everyone reads a general item: a name typed there earns its writer a hint once the typing pauses, and the
    hint goes when the name does. Only names the writer's agency may see count, else the hint confirms a guess."""
    url, info = server
    ki = Editor(url, login(url, info["users"]["KI"]))  # leads the case of "Senait Tesfay"
    jc = Editor(url, login(url, info["users"]["JC"]))  # has no consent for it
    try:
        assert ki.join(info["general"])["ok"] and jc.join(info["general"])["ok"]
        assert jc.type(info["general"], " Tesfay?", "jc-guess")["ok"]
        time.sleep(2.5)  # longer than the pause
        assert jc.received("hint") == []
        assert wait_for(lambda: "Tesfay?" in str(ki.text))
        assert ki.type(info["general"], " Frau Tesfay kommt nicht.", "ki-name")["ok"]
        assert wait_for(lambda: ki.received("hint"), timeout=4.0)
        hint = ki.received("hint")[-1]
        assert hint["item"] == info["general"] and "keinen Namen einer Klientin" in hint["text"]
        before = ki.doc.get_state()
        del ki.text[0 : len(str(ki.text))]
        cleared = ki.call("update", {"item": info["general"], "id": "ki-clear", "update": ki.doc.get_update(before)})
        assert cleared["ok"]
        assert wait_for(lambda: ki.received("hint")[-1]["text"] == "", timeout=4.0)
        assert jc.received("hint") == []
    finally:
        ki.close()
        jc.close()


def test_a_case_erased_during_the_meeting_takes_its_item_from_the_lead_and_says_so(server):
    """Erasing a case (here by hand in the database, as the app's erasure also changes the case row) takes its
    item from every socket within the sweep; the lead's page is told the item is now a "gelöschter Fall", not a
    case without consent."""
    url, info = server
    lead = Editor(url, login(url, info["users"]["KI"]))
    database = sqlite3.connect(info["instance"] / "sockets.db", timeout=10)
    erase = "UPDATE cases SET erased_at = ? WHERE number = ?"
    try:
        assert lead.join(info["closed"])["ok"]
        time.sleep(1.0)  # the seat has been checked and found allowed
        with database:
            database.execute(erase, ("2026-12-01 05:00:00", info["case"]))
        assert wait_for(lambda: any(name == "evicted" for name, _ in lead.events), timeout=1.0)
        evicted = next(data for name, data in lead.events if name == "evicted")
        assert evicted == {"item": info["closed"], "reason": ERASED_NOTE, "title": ERASED_CASE}
        assert lead.type(info["closed"], "nach der Löschung", "after-erase")["ok"] is False
    finally:
        with database:
            database.execute(erase, (None, info["case"]))
        database.close()
        lead.close()
