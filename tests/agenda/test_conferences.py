"""Planning a conference end to end: poll, invitations, consent-aware agenda, responses, calendar files."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import icalendar
import pytest

from agenda import items
from agenda.models import AgendaItem, Conference, Participant
from fallkonferenz.extensions import db
from fallkonferenz.localtime import WEEKDAYS, local_date, today
from fallkonferenz.models import AuditEvent, OutboxMessage, User, utcnow
from tests.agenda.conftest import as_local, conference_form, german_day, slot, user
from tests.factories import PASSWORD


def _add(client, cid, **data):
    page = client.get(f"/konferenzen/{cid}").get_data(as_text=True)
    marker = 'name="version" value="'
    version = int(page.split(marker, 1)[1].split('"', 1)[0]) if marker in page else ""
    form = {"kind": "fallbesprechung", "case": "", "title": "", "time_box": "20", "presenter": "0", "version": version}
    form.update(data)
    return client.post(f"/konferenzen/{cid}/top", data=form)


def _outbox(query):
    return query(
        lambda: [(m.to_address, m.subject, m.body, m.ics or "") for m in db.session.query(OutboxMessage)], commit=False
    )


def test_coordinator_plans_through_the_poll_and_everyone_is_invited(scene, clients, planned, query):
    ki, jc = clients["KI"], clients["JC"]
    slots = [slot(4), slot(5, 14)]
    resp = ki.post(
        f"/konferenzen/{planned}/umfrage",
        data={"start0": slots[0][0], "end0": slots[0][1], "start1": slots[1][0], "end1": slots[1][1]},
    )
    assert resp.status_code == 302
    asked = [body for _, subject, body, _ in _outbox(query) if subject.startswith("Terminumfrage")]
    assert len(asked) == 3  # JC, AA, ABH; not the moderator who asks
    # the proposed slots, not the placeholder time as if it were fixed, and no "Zu- oder Absage" yet
    for start, end in slots:
        day, clock = start.split("T")
        assert f"{german_day(day)} {clock} bis {end.split('T')[1]} Uhr" in asked[0]
    assert "Vorgeschlagene Termine:" in asked[0] and "Zu- oder Absage" not in asked[0]
    assert "Termin wird per Umfrage gesucht" in ki.get("/konferenzen").get_data(as_text=True)  # not a fixed date
    # the slots with their weekdays, where people weigh them against their week: the answer form and the e-mail
    weekday = WEEKDAYS[datetime.fromisoformat(slots[0][0]).weekday()]
    day = german_day(slots[0][0])
    assert f"<legend>{weekday}, {day} " in jc.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert f"{weekday}, {day} " in asked[0]
    slot_ids = query(lambda: [s.id for s in db.session.get(Conference, planned).poll.slots], commit=False)
    assert (
        jc.post(
            f"/konferenzen/{planned}/umfrage/antwort", data={f"slot-{slot_ids[0]}": "nein", f"slot-{slot_ids[1]}": "ja"}
        ).status_code
        == 302
    )
    # Answers can change until the slot is fixed.
    assert (
        jc.post(f"/konferenzen/{planned}/umfrage/antwort", data={f"slot-{slot_ids[0]}": "vielleicht"}).status_code
        == 302
    )
    table = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "vielleicht" in table and "Zusagen" in table
    assert 'id="steuerung-h"' in table and '<th scope="col">Aktion</th>' in table  # while it is being planned
    # the page does not show the placeholder time as if it were the date
    assert "<strong>noch offen</strong>" in table and "läuft (2 Vorschläge)" in table
    # JC's form shows what JC answered, so that changing one answer does not mean giving all again
    mine = jc.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert f'name="slot-{slot_ids[0]}" value="vielleicht" checked' in mine
    assert f'name="slot-{slot_ids[1]}" value="ja" checked' in mine
    assert mine.count(" checked>") == 2
    # Until the date is fixed, the calendar file holds a placeholder, and says so
    event = next(
        iter(icalendar.Calendar.from_ical(jc.get(f"/konferenzen/{planned}/einladung.ics").data).walk("VEVENT"))
    )
    assert str(event["STATUS"]) == "TENTATIVE" and "Terminumfrage" in str(event["DESCRIPTION"])
    placeholder_sequence = int(event["SEQUENCE"])
    # A Zusage before the date is fixed would be to no date: the poll is the answer until then.
    early = jc.post(f"/konferenzen/{planned}/antwort", data={"response": "zusage"})
    assert early.status_code == 409 and "Terminumfrage" in early.get_data(as_text=True)
    assert ki.post(f"/konferenzen/{planned}/umfrage/{slot_ids[1]}/festlegen").status_code == 302
    conference = query(lambda: db.session.get(Conference, planned), commit=False)
    assert conference.state == "eingeladen" and as_local(conference.start) == slots[1][0]
    # JC said "ja" to the fixed slot: that is its acceptance; the others still answer the invitation
    responses = query(
        lambda: {p.user.agency.code: p.response for p in db.session.get(Conference, planned).participants},
        commit=False,
    )
    assert responses["JC"] == "zusage" and responses["AA"] == "offen"
    invitations = [m for m in _outbox(query) if m[1].startswith("Einladung")]
    assert len(invitations) == 4  # moderator, JC, AA, ABH
    cal = icalendar.Calendar.from_ical(invitations[0][3])
    assert cal["METHOD"] == "REQUEST" and str(next(iter(cal.walk("VEVENT")))["STATUS"]) == "CONFIRMED"
    # a calendar holding the placeholder takes the fixed time as its newer version
    assert int(next(iter(cal.walk("VEVENT")))["SEQUENCE"]) > placeholder_sequence
    # Fixing twice is refused; answering after the fix too.
    assert ki.post(f"/konferenzen/{planned}/umfrage/{slot_ids[0]}/festlegen").status_code == 409
    assert jc.post(f"/konferenzen/{planned}/umfrage/antwort", data={f"slot-{slot_ids[0]}": "ja"}).status_code == 409


def test_a_general_item_with_a_case_number_is_refused_not_stripped(scene, clients, planned, query):
    """A report is bound to no case and goes to every participant: a case number typed into it is refused with the
    form kept, not silently dropped."""
    resp = _add(clients["KI"], planned, kind="bericht", title="Bericht JC", case=scene.open_case)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Nur eine Fallbesprechung gehört zu einem Fall" in page
    assert 'value="Bericht JC"' in page and f'value="{scene.open_case}"' in page
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 0


@pytest.mark.parametrize("title", ["Abschiebung droht – wie {closed}", "Wie bei Frau Tesfay", "Haddad, Ausbildung"])
def test_a_case_item_title_names_no_case_not_even_its_own(scene, clients, planned, query, title):
    """The whole case team reads a case item's title, and may not know another case named in it (JC has no consent
    for the closed case); its own number and name stand beside it for those who may see them."""
    resp = _add(clients["KI"], planned, case=scene.open_case, title=title.format(closed=scene.closed_case), confirm="1")
    assert resp.status_code == 422 and "Der Titel darf kein" in resp.get_data(as_text=True)
    api = clients["KI"].api(
        "POST",
        f"/api/v1/conferences/{planned}/items",
        json={"kind": "fallbesprechung", "case": scene.open_case, "name": title.format(closed=scene.closed_case)}
        | {"timeBox": 10, "confirmClosed": True},
    )
    assert api.status_code == 422 and "keine" in api.get_json()["errors"]["name"]
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 0


def test_consent_aware_agenda_closes_case_items_to_agencies_without_consent(scene, clients, planned, query):
    ki = clients["KI"]
    # The open case is closed only to ABH: the form names it and waits for confirmation.
    first = _add(ki, planned, case=scene.open_case)
    assert first.status_code == 409 and "ABH" in first.get_data(as_text=True)
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 0
    assert _add(ki, planned, case=scene.open_case, confirm="1").status_code == 302
    second = _add(ki, planned, case=scene.closed_case)
    body = second.get_data(as_text=True)
    assert second.status_code == 409 and "ABH, JC" in body
    assert _add(ki, planned, case=scene.closed_case, confirm="1", title="Wohnsitzauflage").status_code == 302
    assert _add(ki, planned, kind="verschiedenes", title="Verschiedenes", time_box="10").status_code == 302
    ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})

    expected = {  # agency -> case numbers it may see in full
        "KI": {scene.open_case, scene.closed_case},
        "AA": {scene.open_case, scene.closed_case},
        "JC": {scene.open_case},
        "ABH": set(),
    }
    for code, visible in expected.items():
        client = clients[code]
        page = client.get(f"/konferenzen/{planned}").get_data(as_text=True)
        api = client.get(f"/api/v1/conferences/{planned}").get_data(as_text=True)
        ics = client.get(f"/konferenzen/{planned}/einladung.ics").get_data(as_text=True)
        for number in (scene.open_case, scene.closed_case):
            for text in (page, api):
                assert (number in text) is (number in visible), (code, number)
                assert (scene.names[number] in text) is (number in visible), (code, number)
            assert number not in ics and scene.names[number] not in ics
        hidden = 2 - len(visible)
        assert page.count("vertraulicher Fall") == hidden, code
        if scene.closed_case not in visible:
            assert "Wohnsitzauflage" not in page and "Wohnsitzauflage" not in api
    # The moderator sees for whom each item is closed.
    moderator = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Geschlossen für: ABH, JC" in moderator
    # No e-mail or calendar file carries a case number, a client name or an item title.
    for _to, subject, body, ics in _outbox(query):
        for secret in (scene.open_case, scene.closed_case, "Haddad", "Tesfay", "Amal", "Senait", "Wohnsitzauflage"):
            assert secret not in subject + body + ics


def test_people_not_invited_get_404_everywhere(scene, clients, planned):
    ja = clients["JA"]
    for url in (f"/konferenzen/{planned}", f"/konferenzen/{planned}/einladung.ics", f"/api/v1/conferences/{planned}"):
        assert ja.get(url).status_code == 404
    assert ja.post(f"/konferenzen/{planned}/antwort", data={"response": "zusage"}).status_code == 404
    assert ja.post(f"/konferenzen/{planned}/umfrage/antwort", data={"slot-1": "ja"}).status_code == 404
    assert "Fallkonferenz Musterstadt" not in ja.get("/konferenzen").get_data(as_text=True)


def test_participants_cannot_change_the_agenda(scene, clients, planned, query):
    jc = clients["JC"]
    assert _add(jc, planned, kind="bericht", title="Bericht").status_code == 403
    assert jc.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"}).status_code == 403
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 0


def test_responses_and_a_substitute_from_the_same_agency(scene, clients, planned, query, world):
    def add_colleague(username: str, name: str, role: str = "case_worker") -> int:
        from fallkonferenz.auth.service import create_user

        return query(
            lambda: create_user(username=username, display_name=name, agency_code="JC", role=role, password="x" * 12).id
        )

    colleague = add_colleague("jc.kollegin", "JC Kollegin")
    steering = add_colleague("jc.lenkung", "JC Lenkung", "steering")
    clients["KI"].post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
    # only colleagues who may take part in a case conference are offered (not the agency's steering member)
    offered = clients["JC"].get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert f'<option value="{colleague}">JC Kollegin</option>' in offered
    assert f'<option value="{steering}">' not in offered
    nobody = clients["JC"].post(f"/konferenzen/{planned}/antwort", data={"response": "vertretung", "substitute": ""})
    assert nobody.status_code == 422 and "Bitte wählen Sie, wer Sie vertritt." in nobody.get_data(as_text=True)
    # the refusal comes back on the conference page, the choice kept and the field marked
    kept = nobody.get_data(as_text=True)
    assert 'id="antwort-h"' in kept and 'value="vertretung" checked' in kept and 'id="substitute-error"' in kept
    assert clients["AA"].post(f"/konferenzen/{planned}/antwort", data={"response": "zusage"}).status_code == 302
    assert clients["ABH"].post(f"/konferenzen/{planned}/antwort", data={"response": "absage"}).status_code == 302
    # A substitute must be a colleague of the same agency.
    wrong = clients["JC"].post(
        f"/konferenzen/{planned}/antwort", data={"response": "vertretung", "substitute": str(scene.ids["AA"])}
    )
    assert wrong.status_code == 422
    ok = clients["JC"].post(
        f"/konferenzen/{planned}/antwort", data={"response": "vertretung", "substitute": str(colleague)}
    )
    # the colleague has the seat: JC goes to the dashboard, and the conference, its minutes and its calendar
    # entry are no longer hers
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/")
    assert "Sie werden von JC Kollegin vertreten" in clients["JC"].get("/").get_data(as_text=True)
    assert clients["JC"].get(f"/konferenzen/{planned}").status_code == 404
    assert clients["JC"].get(f"/konferenzen/{planned}/protokoll").status_code == 404
    assert clients["JC"].get(f"/konferenzen/{planned}/einladung.ics").status_code == 404
    confirmed = [(to, ics) for to, subject, _, ics in _outbox(query) if subject.startswith("Vertretung bestätigt")]
    assert [to for to, _ in confirmed] == ["jc.case_worker@invalid"]
    cancel = icalendar.Calendar.from_ical(confirmed[0][1])
    assert str(cancel["METHOD"]) == "CANCEL"
    invitation = next(
        ics
        for to, subject, _, ics in _outbox(query)
        if to == "jc.case_worker@invalid" and subject.startswith("Einladung")
    )
    sequence = [
        int(next(iter(c.walk("VEVENT")))["SEQUENCE"]) for c in (icalendar.Calendar.from_ical(invitation), cancel)
    ]
    assert sequence[1] > sequence[0]  # a new version of the event, which calendars apply
    assert clients["JC"].post(f"/konferenzen/{planned}/antwort", data={"response": "zusage"}).status_code == 404
    rows = query(
        lambda: {p.user_id: p.response for p in db.session.query(Participant).filter_by(conference_id=planned)},
        commit=False,
    )
    assert rows[scene.ids["AA"]] == "zusage" and rows[scene.ids["ABH"]] == "absage"
    assert rows[scene.ids["JC"]] == "vertretung" and rows[colleague] == "offen"
    table = clients["KI"].get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "JC Kollegin" in table and "Vertretung" in table and "Absage" in table
    invited = [to for to, subject, _, _ in _outbox(query) if subject.startswith("Einladung")]
    assert "jc.kollegin@invalid" in invited


def test_update_keeps_the_uid_and_raises_the_sequence_cancel_sends_cancel(scene, clients, planned, query):
    ki = clients["KI"]
    ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
    form = conference_form(scene, title="Fallkonferenz Februar")
    form.pop("participants")
    assert ki.post(f"/konferenzen/{planned}/bearbeiten", data=form).status_code == 302
    assert (
        ki.post(f"/konferenzen/{planned}/status", data={"state": "abgesagt", "reason": "Raum belegt"}).status_code
        == 302
    )
    calendars = [icalendar.Calendar.from_ical(ics) for _, _, _, ics in _outbox(query) if ics]
    events = [next(iter(c.walk("VEVENT"))) for c in calendars]
    assert len({str(e["UID"]) for e in events}) == 1
    sequence = [(str(c["METHOD"]), int(e["SEQUENCE"])) for c, e in zip(calendars, events, strict=True)]
    assert sequence == [("REQUEST", 0)] * 4 + [("REQUEST", 1)] * 4 + [("CANCEL", 2)] * 4
    cancelled = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Raum belegt" in cancelled
    # nothing is left to steer or to remove: no empty section, no empty column
    assert 'id="steuerung-h"' not in cancelled and '<th scope="col">Aktion</th>' not in cancelled


def test_timetable_and_overrun_warning(scene, clients, planned):
    ki = clients["KI"]
    for i in range(3):
        assert _add(ki, planned, kind="bericht", title=f"Bericht {i}", time_box="50").status_code == 302
    page = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "10:00–10:50" in page and "10:50–11:40" in page and "11:40–12:30" in page
    assert "überschreitet das Ende der Konferenz um 30 Minuten" in page


def test_keyboard_reorder_and_stale_order_conflict(scene, clients, planned, query):
    ki = clients["KI"]
    for title in ("Erster", "Zweiter", "Dritter"):
        _add(ki, planned, kind="bericht", title=title)
    ids = query(lambda: [i.id for i in db.session.get(Conference, planned).items], commit=False)
    version = query(lambda: db.session.get(Conference, planned).agenda_version, commit=False)
    assert (
        ki.post(
            f"/konferenzen/{planned}/top/{ids[2]}/verschieben", data={"richtung": "hoch", "version": version}
        ).status_code
        == 302
    )
    order = query(lambda: [i.title for i in db.session.get(Conference, planned).items], commit=False)
    assert order == ["Erster", "Dritter", "Zweiter"]
    # The same (now stale) version again: refused with a message, nothing lost or moved.
    stale = ki.post(f"/konferenzen/{planned}/top/{ids[0]}/verschieben", data={"richtung": "runter", "version": version})
    page = stale.get_data(as_text=True)
    # the conference page itself, with the agenda as it is now and why nothing happened (not a bare error page)
    assert stale.status_code == 409 and "inzwischen geändert" in page and "Nicht gespeichert" in page
    assert page.index("Dritter") < page.index("Zweiter") and f'name="version" value="{version + 1}"' in page
    assert query(lambda: [i.title for i in db.session.get(Conference, planned).items], commit=False) == order
    # an item typed into a page that has gone stale, for a place in the order, is not lost: the form comes back
    typed = ki.post(
        f"/konferenzen/{planned}/top",
        data={"kind": "bericht", "title": "Bericht der Ausländerbehörde", "time_box": "10", "version": version}
        | {"position": "2"},
    )
    page = typed.get_data(as_text=True)
    assert typed.status_code == 409 and "inzwischen geändert" in page and 'value="Bericht der Ausländerbehörde"' in page
    removed = ki.post(f"/konferenzen/{planned}/top/{ids[0]}/entfernen", data={"version": version})
    assert removed.status_code == 409 and "Nicht gespeichert" in removed.get_data(as_text=True)
    assert query(lambda: [i.title for i in db.session.get(Conference, planned).items], commit=False) == order
    fresh = version + 1
    resp = ki.post(
        f"/konferenzen/{planned}/reihenfolge",
        data={f"pos-{ids[0]}": "3", f"pos-{ids[1]}": "1", f"pos-{ids[2]}": "2", "version": fresh},
    )
    assert resp.status_code == 302
    assert query(lambda: [i.title for i in db.session.get(Conference, planned).items], commit=False) == [
        "Zweiter",
        "Dritter",
        "Erster",
    ]
    # put at the end, the same item clashes with nothing changed meanwhile: saved from the stale page, too
    appended = ki.post(
        f"/konferenzen/{planned}/top",
        data={"kind": "bericht", "title": "Bericht der Ausländerbehörde", "time_box": "10", "version": version},
    )
    assert appended.status_code == 302
    titles = query(lambda: [i.title for i in db.session.get(Conference, planned).items], commit=False)
    assert titles == ["Zweiter", "Dritter", "Erster", "Bericht der Ausländerbehörde"]


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        ({10: 2}, [20, 10, 30, 40]),  # TOP 1 set to 2, the others left as they were
        ({30: 1}, [30, 10, 20, 40]),  # TOP 3 set to 1
        ({10: 4, 40: 1}, [40, 20, 30, 10]),  # two swapped ends
        ({}, [10, 20, 30, 40]),
        ({10: 1, 20: 2, 30: 3, 40: 4}, [10, 20, 30, 40]),
    ],
)
def test_a_position_moves_one_item_and_the_others_keep_their_order(positions, expected):
    assert items.order_from_positions([10, 20, 30, 40], positions) == expected


def test_saving_an_unchanged_order_says_so(scene, clients, planned, query):
    ki = clients["KI"]
    for title in ("Erster", "Zweiter"):
        _add(ki, planned, kind="bericht", title=title)
    ids = query(lambda: [i.id for i in db.session.get(Conference, planned).items], commit=False)
    version = query(lambda: db.session.get(Conference, planned).agenda_version, commit=False)
    resp = ki.post(
        f"/konferenzen/{planned}/reihenfolge",
        data={f"pos-{ids[0]}": "1", f"pos-{ids[1]}": "2", "version": version},
        follow_redirects=True,
    )
    assert "Die Reihenfolge ist unverändert." in resp.get_data(as_text=True)
    assert query(lambda: db.session.get(Conference, planned).agenda_version, commit=False) == version
    bad = ki.post(f"/konferenzen/{planned}/reihenfolge", data={f"pos-{ids[0]}": "99", "version": version})
    assert bad.status_code == 422 and "von 1 bis 50" in bad.get_data(as_text=True)


def test_overlap_warning_names_the_other_conference_only_to_who_may_see_it(scene, clients, planned, query):
    ki = clients["KI"]
    other = ki.post("/konferenzen/neu", data=conference_form(scene, title="Übergangskonferenz", participants=("JA",)))
    other_id = int(other.headers["Location"].rsplit("/", 1)[-1])
    resp = ki.post(
        f"/konferenzen/{other_id}/teilnehmende", data={"user": [str(scene.ids["JC"])]}, follow_redirects=True
    )
    body = resp.get_data(as_text=True)
    assert "Fallkonferenz Musterstadt" in body and "zur gleichen Zeit" in body


def test_reminders_are_sent_once(scene, clients, query, app):
    ki = clients["KI"]
    resp = ki.post("/konferenzen/neu", data=conference_form(scene, days=0, start=slot(1, 9)[0], end=slot(1, 9)[1]))
    cid = int(resp.headers["Location"].rsplit("/", 1)[-1])
    ki.post(f"/konferenzen/{cid}/status", data={"state": "eingeladen"})
    runner = app.test_cli_runner()
    from datetime import timedelta

    from agenda import service

    def remind():
        start = db.session.get(Conference, cid).start
        return service.send_reminders(start - timedelta(hours=20))

    first, second = query(remind), query(remind)
    assert first == 4 and second == 0
    # The cron command, run now (inside or outside the 24-hour window), adds nothing either.
    assert "0 Erinnerung" in runner.invoke(args=["agenda", "send-reminders"]).output


def test_private_calendar_feed_with_revocable_token(scene, clients, planned, app, monkeypatch):
    jc = clients["JC"]
    monkeypatch.setitem(app.config, "BASE_URL", "https://fallkonferenz.kreis-musterstadt.example/")
    assert "data-confirm" not in jc.get("/kalender").get_data(as_text=True)  # no link yet: nothing to lose
    page = jc.post("/kalender", data={"action": "neu"}).get_data(as_text=True)
    url = page.split('<code class="token">', 1)[1].split("<", 1)[0]
    # with a link in use, replacing or revoking it asks first
    assert 'data-confirm="Neuen Kalender-Link erzeugen? Der bisherige wird sofort ungültig' in page
    assert 'data-confirm="Kalender-Link widerrufen?' in page
    # the address users reach the app by (behind a proxy ending TLS), not the host the request came to
    assert url.startswith("https://fallkonferenz.kreis-musterstadt.example/kalender/")
    path = url.split("://", 1)[1].split("/", 1)[1]
    anonymous = app.test_client()
    feed = anonymous.get("/" + path)
    assert feed.status_code == 200 and "Fallkonferenz Musterstadt" in feed.get_data(as_text=True)
    icalendar.Calendar.from_ical(feed.get_data(as_text=True))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["agencies", "deactivate", "JC"]).exit_code == 0
    assert anonymous.get("/" + path).status_code == 404  # an agency that left sees no more conferences
    assert runner.invoke(args=["agencies", "activate", "JC"]).exit_code == 0
    assert anonymous.get("/" + path).status_code == 200
    jc.login(scene.users["JC"], PASSWORD)  # the deactivation ended her session
    jc.post("/kalender", data={"action": "widerrufen"})
    assert anonymous.get("/" + path).status_code == 404
    assert anonymous.get("/kalender/falsch.ics").status_code == 404


def test_case_page_lists_conferences_that_discussed_it(scene, clients, planned):
    _add(clients["KI"], planned, case=scene.open_case, confirm="1")
    page = clients["JC"].get(f"/faelle/{scene.open_case}/konferenzen").get_data(as_text=True)
    assert "Fallkonferenz Musterstadt" in page
    assert clients["ABH"].get(f"/faelle/{scene.open_case}/konferenzen").status_code == 404


def test_a_date_still_polled_is_shown_as_such_not_as_its_placeholder(scene, clients, planned):
    _add(clients["KI"], planned, case=scene.open_case, confirm="1")
    slots = [slot(4), slot(5, 14)]
    form = {"start0": slots[0][0], "end0": slots[0][1], "start1": slots[1][0], "end1": slots[1][1]}
    assert clients["KI"].post(f"/konferenzen/{planned}/umfrage", data=form).status_code == 302
    day = german_day(slot(3)[0])  # the placeholder: the day the form was planned for
    for client, address in (
        (clients["JC"], f"/faelle/{scene.open_case}/konferenzen"),
        (clients["JC"], "/"),
        (clients["KI"], f"/konferenzen/{planned}/protokoll"),
    ):
        page = client.get(address).get_data(as_text=True)
        assert "Termin wird per Umfrage gesucht" in page, address
        assert day not in page, address


@pytest.mark.parametrize("code", ["JA", "ABH"])
def test_adding_a_case_the_moderator_cannot_see_is_404_and_changes_nothing(scene, clients, planned, query, code, world):
    def foreign_case():
        from tests.agenda.conftest import user
        from tests.factories import make_case

        return make_case(user(world[code]), family="Fremd").number

    number = query(foreign_case)
    resp = _add(clients["KI"], planned, case=number, confirm="1", title="Bitte behalten")
    assert resp.status_code == 404
    page = resp.get_data(as_text=True)
    assert "Fremd" not in page
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 0
    # the conference page comes back with the form as typed and the case field marked, as for a typo
    assert "Bitte Fallnummer prüfen." in page and 'value="Bitte behalten"' in page and f'value="{number}"' in page
    typo = _add(clients["KI"], planned, case="FK-2026-999", confirm="1")
    assert typo.status_code == 404 and "Bitte Fallnummer prüfen." in typo.get_data(as_text=True)


def test_users_of_inactive_accounts_cannot_be_invited(scene, clients, planned, query):
    query(lambda: setattr(db.session.get(User, scene.ids["JA"]), "active", False))
    resp = clients["KI"].post(f"/konferenzen/{planned}/teilnehmende", data={"user": [str(scene.ids["JA"])]})
    assert resp.status_code == 422 and "Deaktiviertes Konto" in resp.get_data(as_text=True)


def test_wiedervorlage_brings_back_open_tasks_and_decisions_only_where_the_case_is_visible(
    scene, clients, planned, query
):
    from datetime import timedelta

    from agenda.models import Decision, Task
    from fallkonferenz.models import Case, utcnow

    def meeting_on(case, title: str, days_ago: int, state: str) -> AgendaItem:
        """An earlier conference with the case as its only item; returns the item."""
        start = utcnow() - timedelta(days=days_ago)
        meeting = Conference(
            title=title, start=start, end=start + timedelta(hours=2), moderator_id=scene.ids["KI"], state=state
        )
        item = AgendaItem(title="Fallbesprechung", kind="fallbesprechung", case_id=case.id, time_box=20, position=1)
        meeting.items = [item]
        db.session.add(meeting)
        db.session.flush()
        return item

    def earlier():
        case = db.session.query(Case).filter_by(number=scene.open_case).one()
        item = meeting_on(case, "Fallkonferenz Herbst", 60, "beendet")
        db.session.add(Decision(agenda_item_id=item.id, case_id=case.id, text="Sprachkurs B1 beantragen"))
        db.session.add(
            Task(
                agenda_item_id=item.id,
                case_id=case.id,
                description="Kita-Platz klären",
                responsible_agency_id=1,
                status="offen",
                due_date=utcnow().date() - timedelta(days=3),
            )
        )
        db.session.add(
            Task(
                agenda_item_id=item.id,
                case_id=case.id,
                description="Erledigtes",
                responsible_agency_id=1,
                status="erledigt",
            )
        )
        # A later meeting on the case that never took place (invited, not held) has no minutes to bring back.
        meeting_on(case, "Fallkonferenz Zwischentermin", 10, "eingeladen")

    query(earlier)
    _add(clients["KI"], planned, case=scene.open_case, confirm="1")
    jc = clients["JC"].get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Wiedervorlage aus „Fallkonferenz Herbst“" in jc
    assert "Sprachkurs B1 beantragen" in jc and "Kita-Platz klären" in jc and "Erledigtes" not in jc
    assert re.search(r"Kita-Platz klären \(KI, bis [0-9.]+\) <strong class=\"overdue\">\(überfällig\)</strong>", jc)
    abh = clients["ABH"].get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Kita-Platz" not in abh and "Sprachkurs" not in abh and "Herbst" not in abh


def test_dashboard_lists_my_next_conferences(scene, clients, planned):
    page = clients["JC"].get("/").get_data(as_text=True)
    assert f'<a href="/konferenzen/{planned}">Fallkonferenz Musterstadt</a>' in page
    assert "Fallkonferenz Musterstadt" not in clients["JA"].get("/").get_data(as_text=True)


def test_a_conference_ended_early_is_past_at_once(scene, clients, planned, query):
    """Ended before its planned end time, a conference leaves the upcoming ones and is listed among the past."""
    from agenda import service as agenda_service

    def end_now():
        conference = db.session.get(Conference, planned)
        conference.state, conference.start = "beendet", utcnow() - timedelta(hours=1)
        conference.end = utcnow() + timedelta(hours=2)  # planned till later; ended already

    query(end_now)
    upcoming, past = query(
        lambda: [[c.id for c in group] for group in agenda_service.my_conferences(user(scene.users["JC"]))],
        commit=False,
    )
    assert planned not in upcoming and planned in past
    assert f'<a href="/konferenzen/{planned}">' not in clients["JC"].get("/").get_data(as_text=True)


def test_past_conferences_page_instead_of_stopping_at_fifty(scene, clients, planned, query):
    """A moderator holds a conference a week: after a year her list went on in pages, not cut off without a word."""

    def hold_many():
        for week in range(1, 53):
            start = utcnow() - timedelta(days=7 * week)
            db.session.add(
                Conference(
                    title=f"Runde {week:02d}",
                    start=start,
                    end=start + timedelta(hours=2),
                    moderator_id=scene.ids["KI"],
                    state="beendet",
                )
            )

    query(hold_many)
    ki = clients["KI"]

    def past_titles(page: str) -> list[str]:
        return re.findall(r">(Runde \d\d)</a>", page)

    first = ki.get("/konferenzen").get_data(as_text=True)
    assert past_titles(first) == [f"Runde {w:02d}" for w in range(1, 51)]  # the latest first
    assert "Meine kommenden Konferenzen" in first and 'href="/konferenzen?seite=2">ältere Konferenzen »</a>' in first
    second = ki.get("/konferenzen?seite=2").get_data(as_text=True)
    assert past_titles(second) == ["Runde 51", "Runde 52"]
    assert "Vergangene Konferenzen – Seite 2" in second and "Meine kommenden Konferenzen" not in second
    assert 'href="/konferenzen">« neuere Konferenzen</a>' in second and "ältere Konferenzen" not in second
    beyond = ki.get("/konferenzen?seite=3").get_data(as_text=True)
    assert "keine vergangenen Konferenzen mehr" in beyond and past_titles(beyond) == []
    # the other agencies took no part: none of it is theirs
    assert past_titles(clients["JC"].get("/konferenzen").get_data(as_text=True)) == []
    for bad in ("0", "-1", "zwei", "1.5", "99999999999", "<b>"):
        answer = ki.get("/konferenzen", query_string={"seite": bad})
        assert answer.status_code == 400, bad
        page = answer.get_data(as_text=True)
        assert "Ungültige Seitenzahl – es wird die erste Seite angezeigt." in page
        assert past_titles(page)[:1] == ["Runde 01"] and "<b>" not in page
    # the API pages the past ones alike
    first = ki.api("GET", "/api/v1/conferences").get_json()
    assert [c["name"] for c in first["past"]][:2] == ["Runde 01", "Runde 02"] and len(first["past"]) == 50
    assert first["page"] == 1 and first["hasMorePast"] is True and [c["id"] for c in first["upcoming"]] == [planned]
    second = ki.api("GET", "/api/v1/conferences?page=2").get_json()
    assert [c["name"] for c in second["past"]] == ["Runde 51", "Runde 52"] and second["hasMorePast"] is False
    refused = ki.api("GET", "/api/v1/conferences?page=null")
    assert refused.status_code == 422 and "page" in refused.get_json()["errors"]


def test_the_moderator_does_not_send_a_substitute(scene, clients, planned, query):
    """She leads the conference and closes its minutes: she answers yes or no, and is not offered a substitute."""
    ki = clients["KI"]
    ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
    from fallkonferenz.auth.service import create_user

    colleague = query(
        lambda: (
            create_user(
                username="ki.kollegin",
                display_name="KI Kollegin",
                agency_code="KI",
                role="case_worker",
                password="x" * 12,
            ).id
        )
    )
    # a colleague is there to choose, and still the moderator is not offered a substitute
    page = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert f'<option value="{colleague}"' not in page and 'value="vertretung"' not in page and 'id="antwort-h"' in page
    resp = ki.post(f"/konferenzen/{planned}/antwort", data={"response": "vertretung", "substitute": str(colleague)})
    assert resp.status_code == 422 and "Die Moderation lässt sich nicht vertreten" in resp.get_data(as_text=True)
    rows = query(lambda: [p.user_id for p in db.session.get(Conference, planned).participants], commit=False)
    assert colleague not in rows
    assert ki.get(f"/konferenzen/{planned}/protokoll").status_code == 200


def test_without_a_colleague_to_send_no_substitute_is_offered(scene, clients, planned):
    """ABH has nobody else who takes part in case conferences: "Vertretung schicken" would be a dead end."""
    clients["KI"].post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
    page = clients["ABH"].get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert 'id="antwort-h"' in page and 'value="vertretung"' not in page
    assert "Eine Vertretung können Sie hier nicht schicken" in page


def test_the_dashboard_lists_what_waits_for_an_answer(scene, clients, planned, query):
    ki, jc = clients["KI"], clients["JC"]
    slots = [slot(4), slot(5, 14)]
    ki.post(
        f"/konferenzen/{planned}/umfrage",
        data={"start0": slots[0][0], "end0": slots[0][1], "start1": slots[1][0], "end1": slots[1][1]},
    )
    home = jc.get("/").get_data(as_text=True)
    assert "Ihre Antwort wird erwartet" in home and "Terminumfrage: Fallkonferenz Musterstadt" in home
    assert "Ihre Antwort wird erwartet" not in ki.get("/").get_data(as_text=True)  # she asked; nobody waits for her
    # while the poll runs, inviting is what fixing a slot does
    assert "Jetzt einladen" not in ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    early = ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
    assert early.status_code == 409 and "Terminumfrage läuft noch" in early.get_data(as_text=True)
    # while the poll is open, the conference page asks for the poll's answers, not for a Zusage to no date
    assert 'id="antwort-h"' not in jc.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Termin wird per Umfrage gesucht" in home  # not the date typed before the poll
    slot_ids = query(lambda: [s.id for s in db.session.get(Conference, planned).poll.slots], commit=False)
    jc.post(f"/konferenzen/{planned}/umfrage/antwort", data={f"slot-{slot_ids[0]}": "vielleicht"})
    assert "Terminumfrage: Fallkonferenz Musterstadt" not in jc.get("/").get_data(as_text=True)
    ki.post(f"/konferenzen/{planned}/umfrage/{slot_ids[0]}/festlegen")  # fixing the slot invites everyone
    # "vielleicht" is no answer to the invitation (a "ja" to the fixed slot would have been)
    assert "Einladung: Fallkonferenz Musterstadt" in jc.get("/").get_data(as_text=True)
    jc.post(f"/konferenzen/{planned}/antwort", data={"response": "zusage"})
    assert "Ihre Antwort wird erwartet" not in jc.get("/").get_data(as_text=True)


def test_the_dashboard_sends_as_many_statements_for_one_conference_as_for_three(app, scene, clients, query):
    from tests.conftest import counting

    ki, jc = clients["KI"], clients["JC"]

    def statements() -> int:
        with counting(app) as sent:
            assert jc.get("/").status_code == 200
        return len(sent)

    for days in (3, 4, 5):
        ki.post("/konferenzen/neu", data=conference_form(scene, days=days, title=f"Fallkonferenz {days}"))
        if days == 3:
            one = statements()
    assert statements() == one


def test_a_moderator_who_takes_part_answers_her_own_poll(scene, clients, query):
    ki = clients["KI"]
    created = ki.post("/konferenzen/neu", data=conference_form(scene, participants=("KI", "JC")))
    conference_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    slots = [slot(4), slot(5, 14)]
    data = {"start0": slots[0][0], "end0": slots[0][1], "start1": slots[1][0], "end1": slots[1][1]}
    assert ki.post(f"/konferenzen/{conference_id}/umfrage", data=data).status_code == 302
    page = ki.get(f"/konferenzen/{conference_id}").get_data(as_text=True)
    assert "Ihre eigene Antwort" in page and "Antworten speichern" in page
    slot_ids = query(lambda: [s.id for s in db.session.get(Conference, conference_id).poll.slots], commit=False)
    answer = {f"slot-{slot_ids[0]}": "ja", f"slot-{slot_ids[1]}": "nein"}
    assert ki.post(f"/konferenzen/{conference_id}/umfrage/antwort", data=answer).status_code == 302
    table = ki.get(f"/konferenzen/{conference_id}").get_data(as_text=True)
    assert f'name="slot-{slot_ids[0]}" value="ja" checked' in table
    # her row in the table holds her answers, and the count of "ja" includes her
    assert re.search(r"<th scope=\"row\">[^<]+</th><td>ja</td><td>nein</td>", table)


def test_the_moderator_is_not_offered_to_herself_and_has_said_yes(scene, clients, query):
    ki = clients["KI"]
    form = ki.get("/konferenzen/neu").get_data(as_text=True)
    assert "Sie selbst nehmen als Moderation immer teil." in form
    assert f'value="{scene.ids["KI"]}"' not in form and f'value="{scene.ids["JC"]}"' in form
    created = ki.post("/konferenzen/neu", data=conference_form(scene))
    conference_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    responses = query(
        lambda: {p.user.agency.code: p.response for p in db.session.get(Conference, conference_id).participants},
        commit=False,
    )
    assert responses == {"KI": "zusage", "JC": "offen", "AA": "offen", "ABH": "offen"}


def test_the_moderator_tells_the_invited_of_a_changed_agenda_without_naming_a_case(scene, clients, planned, query):
    """Items added after the invitation: the moderator is offered one notice to everyone, which names no case, goes
    out once per change, and only after the invitation (which carries the agenda's size itself)."""
    ki, jc = clients["KI"], clients["JC"]
    button = "Teilnehmende benachrichtigen"
    early = ki.post(f"/konferenzen/{planned}/tagesordnung/benachrichtigen")
    assert early.status_code == 409 and "erst nach der Einladung" in early.get_data(as_text=True)
    assert ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"}).status_code == 302
    assert button not in ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert ki.api("GET", f"/api/v1/conferences/{planned}").get_json()["agendaChangedSinceNotice"] is False

    assert _add(ki, planned, case=scene.open_case, confirm="1").status_code == 302
    assert button in ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert button not in jc.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert jc.post(f"/konferenzen/{planned}/tagesordnung/benachrichtigen").status_code == 403
    assert not [m for m in _outbox(query) if m[1].startswith("Tagesordnung geändert")]

    told = ki.post(f"/konferenzen/{planned}/tagesordnung/benachrichtigen")
    assert told.status_code == 302
    assert "3 Personen wurden über die geänderte Tagesordnung benachrichtigt." in ki.get(
        told.headers["Location"]
    ).get_data(as_text=True)
    notices = [m for m in _outbox(query) if m[1].startswith("Tagesordnung geändert")]
    assert sorted(to.split("@")[0] for to, *_ in notices) == sorted(scene.users[c] for c in ("JC", "AA", "ABH"))
    for _to, _subject, body, ics in notices:
        assert "Tagesordnung: 1 Punkt, davon 1 Fallbesprechung\n" in body and ics == ""
        assert scene.open_case not in body and "Haddad" not in body and "Amal" not in body
    again = ki.post(f"/konferenzen/{planned}/tagesordnung/benachrichtigen")
    assert again.status_code == 409 and "kennen die Tagesordnung schon" in again.get_data(as_text=True)
    assert len([m for m in _outbox(query) if m[1].startswith("Tagesordnung geändert")]) == 3
    assert "conference.agenda_notice" in query(lambda: [e.action for e in db.session.query(AuditEvent)], commit=False)

    # The API: the same flag and the same notice; a change of time tells everyone anyway and clears the flag.
    assert _add(ki, planned, kind="bericht", title="Bericht des Jobcenters", time_box="10").status_code == 302
    assert ki.api("GET", f"/api/v1/conferences/{planned}").get_json()["agendaChangedSinceNotice"] is True
    assert jc.api("POST", f"/api/v1/conferences/{planned}/agenda-notice").status_code == 403
    assert ki.api("POST", f"/api/v1/conferences/{planned}/agenda-notice").get_json() == {"notified": 3}
    assert ki.api("POST", f"/api/v1/conferences/{planned}/agenda-notice").status_code == 409
    assert clients["ABH"].api("POST", f"/api/v1/conferences/{planned + 1000}/agenda-notice").status_code == 404


def test_a_conference_cancelled_during_its_date_poll_tells_those_asked(scene, clients, planned, query):
    ki = clients["KI"]
    slots = [slot(4), slot(5, 14)]
    form = {"start0": slots[0][0], "end0": slots[0][1], "start1": slots[1][0], "end1": slots[1][1]}
    assert ki.post(f"/konferenzen/{planned}/umfrage", data=form).status_code == 302
    resp = ki.post(f"/konferenzen/{planned}/status", data={"state": "abgesagt", "reason": "Themen erledigt"})
    assert resp.status_code == 302
    told = [(to, body, ics) for to, subject, body, ics in _outbox(query) if subject.startswith("Abgesagt")]
    assert sorted(to.split("@")[0] for to, _, _ in told) == sorted(scene.users[c] for c in ("JC", "AA", "ABH"))
    assert all("Grund: Themen erledigt" in body and ics == "" for _, body, ics in told)


def test_mail_wording_follows_the_reader_and_the_day(scene, clients, planned, query, app):
    """The moderator is not "invited" to her own meeting; a reminder on the day says "heute"; a cancellation's
    calendar file is called so."""
    ki = clients["KI"]
    assert ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"}).status_code == 302
    invitations = {to.split("@")[0]: body for to, subject, body, _ in _outbox(query) if subject.startswith("Einl")}
    assert "die Einladungen zu Ihrer Konferenz sind verschickt:" in invitations[scene.users["KI"]]
    assert "Sie sind zu folgender Konferenz eingeladen:" in invitations[scene.users["JC"]]
    # an agenda still empty is said so, not counted as "0 Punkte"; every message closes the same way, once
    assert all("Tagesordnung: noch keine Punkte\n" in body for body in invitations.values())
    assert all(body.count("Mit freundlichen Grüßen\nFallkonferenz") == 1 for body in invitations.values())

    def later_today():
        conference = db.session.get(Conference, planned)
        conference.start = utcnow() + timedelta(minutes=10)
        conference.end = conference.start + timedelta(hours=1)
        return local_date(conference.start) == today()

    # "heute", unless the test runs in the last ten minutes before midnight
    day = "heute" if query(later_today) else "morgen"
    from agenda import service as agenda_service

    assert query(lambda: agenda_service.send_reminders()) == 4
    reminders = [(subject, body) for _, subject, body, _ in _outbox(query) if subject.startswith("Erinnerung")]
    assert reminders and all(subject.endswith(f"({day})") for subject, _ in reminders)
    # after the greeting's comma the letter goes on in lower case
    assert all(f",\n\nwir erinnern Sie an die Konferenz {day}:" in body for _, body in reminders)
    assert (
        ki.post(f"/konferenzen/{planned}/status", data={"state": "abgesagt", "reason": "Krankheit"}).status_code == 302
    )
    with app.app_context():
        from fallkonferenz.mail import _email

        cancellation = db.session.query(OutboxMessage).filter(OutboxMessage.subject.startswith("Abgesagt")).first()
        names = [part.get_filename() for part in _email(cancellation).iter_attachments()]
    assert names == ["absage.ics"]


def test_a_declined_conference_leaves_the_calendar_feed(scene, clients, planned, query):
    jc = clients["JC"]
    assert clients["KI"].post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"}).status_code == 302
    page = jc.post("/kalender", data={"action": "neu"}).get_data(as_text=True)
    path = "/" + page.split('<code class="token">', 1)[1].split("<", 1)[0].split("://", 1)[1].split("/", 1)[1]
    assert "Fallkonferenz Musterstadt" in jc.get(path).get_data(as_text=True)
    assert jc.post(f"/konferenzen/{planned}/antwort", data={"response": "absage"}).status_code == 302
    feed = jc.get(path).get_data(as_text=True)
    assert "BEGIN:VCALENDAR" in feed and "Fallkonferenz Musterstadt" not in feed
    assert "Fallkonferenz Musterstadt" in jc.get("/konferenzen").get_data(as_text=True)


def _poll(client, cid, *days):
    slots = [slot(d) for d in days]
    form = {}
    for i, (start, end) in enumerate(slots):
        form[f"start{i}"], form[f"end{i}"] = start, end
    assert client.post(f"/konferenzen/{cid}/umfrage", data=form).status_code == 302


def test_a_poll_where_no_slot_suits_is_ended_and_a_new_one_can_follow(scene, clients, planned, query):
    ki, jc = clients["KI"], clients["JC"]
    _poll(ki, planned, 4, 5)
    page = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Umfrage ohne Termin beenden" in page and "Alle Antworten werden verworfen" in page
    # only the moderator ends it
    assert jc.post(f"/konferenzen/{planned}/umfrage/beenden").status_code == 403
    resp = ki.post(f"/konferenzen/{planned}/umfrage/beenden", follow_redirects=True)
    assert resp.status_code == 200 and "Die Terminumfrage ist beendet" in resp.get_data(as_text=True)
    assert query(lambda: db.session.get(Conference, planned).poll, commit=False) is None
    ended = [(to, body) for to, subject, body, _ in _outbox(query) if subject.startswith("Terminumfrage beendet")]
    assert sorted(to.split("@")[0] for to, _ in ended) == sorted(scene.users[c] for c in ("JC", "AA", "ABH"))
    # the placeholder time is no date anyone agreed to: the message says that none is fixed
    assert all("Termin: steht noch nicht fest" in body and " Uhr" not in body for _, body in ended)
    actions = query(lambda: [e.action for e in db.session.query(AuditEvent)], commit=False)
    assert "poll.end" in actions
    # the conference is planned again: a second poll, or an invitation for a date she sets herself
    page = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Terminumfrage starten" in page and "Jetzt einladen" in page
    # nothing left to end
    resp = ki.post(f"/konferenzen/{planned}/umfrage/beenden")
    assert resp.status_code == 409 and "keine Terminumfrage" in resp.get_data(as_text=True)
    _poll(ki, planned, 6, 7)
    assert query(lambda: len(db.session.get(Conference, planned).poll.slots), commit=False) == 2


def test_a_slot_that_has_passed_cannot_be_fixed_and_the_page_says_what_to_do(scene, clients, planned, query):
    ki = clients["KI"]
    _poll(ki, planned, 4, 5)

    def first_slot_passes():
        first = db.session.get(Conference, planned).poll.slots[0]
        first.start, first.end = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
        return first.id

    passed = query(first_slot_passes)
    page = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "vergangen, kann nicht mehr festgelegt werden" in page
    assert f"/umfrage/{passed}/festlegen" not in page  # no button for it
    resp = ki.post(f"/konferenzen/{planned}/umfrage/{passed}/festlegen")  # a page opened before it passed
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Der Beginn darf nicht in der Vergangenheit liegen." in text and "beenden Sie die Umfrage" in text
    state = query(lambda: (lambda c: (c.state, c.polling))(db.session.get(Conference, planned)), commit=False)
    assert state == ("geplant", True)
