"""Cases over HTTP and API: creation, notes, goals, search, bad input of every kind."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, Case, Goal, Note, User, utcnow
from tests.factories import PASSWORD, all_categories, make_case, make_consent, make_user

XSS = "<script>alert(1)</script><img src=x>"


@pytest.fixture
def ki(world, client_for):
    return client_for(world["KI"], PASSWORD)


def _user(username):
    return db.session.query(User).filter_by(username=username).one()


def _counts(query):
    return query(lambda: tuple(db.session.query(m).count() for m in (Case, Note, Goal)), commit=False)


def _case_form(**over):
    data = {
        "given_name": "Mariam",
        "family_name": "Rahimi",
        "birth_date": "2003-04-03",
        "nationality": "afghanisch",
        "languages": "Dari, Deutsch (A2)",
        "address": "Am Markt 3, 12345 Musterstadt",
        "phone": "0151 111",
        "residence_status": "Aufenthaltsgestattung",
        "rechtskreise": ["SGB II"],
        "fields": ["sprache", "familie"],
    }
    data.update(over)
    return data


def test_create_case_numbers_it_and_shows_it(ki, query):
    resp = ki.post("/faelle/neu", data=_case_form())
    assert resp.status_code == 302
    number = resp.headers["Location"].rsplit("/", 1)[-1]
    assert number.startswith("FK-") and len(number) == len("FK-2026-0001")
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert "Mariam Rahimi" in page and "Familie/Kinderbetreuung" in page
    second = ki.post("/faelle/neu", data=_case_form(family_name="Zweite")).headers["Location"]
    assert int(second[-4:]) == int(number[-4:]) + 1


def test_a_second_case_for_a_known_client_is_shown_before_it_is_opened(ki, world, query, client_for):
    """The same person twice makes two half records: the form names the case its agency already sees with this
    name and birth date, and opens a second one only when the worker says it is someone else. A case the agency
    may not see is never named."""
    first = ki.post("/faelle/neu", data=_case_form()).headers["Location"].rsplit("/", 1)[-1]
    before = _counts(query)
    again = ki.post("/faelle/neu", data=_case_form(given_name="mariam", address="Neue Straße 1"))
    page = again.get_data(as_text=True)
    assert again.status_code == 409 and "Gibt es diesen Fall schon?" in page and first in page
    assert "Mariam Rahimi" in page and 'value="Neue Straße 1"' in page  # what was typed stays
    assert _counts(query) == before  # nothing opened
    # another birth date: another person, no question asked
    other = ki.post("/faelle/neu", data=_case_form(birth_date="2001-01-01"))
    assert other.status_code == 302
    confirmed = ki.post("/faelle/neu", data=_case_form(andere_person="1"))
    assert confirmed.status_code == 302 and confirmed.headers["Location"].rsplit("/", 1)[-1] != first
    # a name the index finds by its beginning is not the same name: "Mariama Rahimiova" is someone else, also when
    # many such cases came after the real one
    query(lambda: [make_case(_user(world["KI"]), given="Mariama", family="Rahimiova") for _ in range(25)])
    assert ki.post("/faelle/neu", data=_case_form(given_name="Mariama", family_name="Rahimi")).status_code == 302
    still = ki.post("/faelle/neu", data=_case_form())
    assert still.status_code == 409 and first in still.get_data(as_text=True)
    assert "Rahimiova" not in still.get_data(as_text=True)
    # JC has no consent for KI's cases: it is not told that they exist
    jc = client_for(world["JC"], PASSWORD)
    theirs = jc.post("/faelle/neu", data=_case_form())
    assert theirs.status_code == 302 and first not in theirs.get_data(as_text=True)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"given_name": ""}, "Dieses Feld ist erforderlich."),
        ({"family_name": "   "}, "Dieses Feld ist erforderlich."),
        ({"given_name": "A" * 10000}, "Höchstens 200 Zeichen."),
        ({"birth_date": "2999-01-01"}, "nicht in der Zukunft"),
        ({"birth_date": "gestern"}, "gültiges Datum"),
        ({"fields": ["zauberei"]}, "Unbekannte Auswahl."),
    ],
)
def test_bad_case_input_is_refused_in_german_and_keeps_what_was_typed(ki, query, over, message):
    before = _counts(query)
    resp = ki.post("/faelle/neu", data=_case_form(**over))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert message in body
    assert 'value="Am Markt 3, 12345 Musterstadt"' in body
    assert _counts(query) == before
    # the summary names the field and leads to it
    field = next(iter(over))
    assert f'<a href="#{field}">' in body.split('class="error-summary"', 1)[1].split("</div>", 1)[0]


def test_html_and_script_in_every_text_field_are_rendered_inert(ki, query):
    data = dict.fromkeys(
        ("given_name", "family_name", "nationality", "languages", "address", "phone", "residence_status"), XSS
    )
    resp = ki.post("/faelle/neu", data=_case_form(**data))
    assert resp.status_code == 302
    number = resp.headers["Location"].rsplit("/", 1)[-1]
    ki.post(f"/faelle/{number}/vermerke", data={"category": "familie", "text": XSS})
    ki.post(
        f"/faelle/{number}/ziele",
        data={"title": XSS, "field": "sprache", "responsible_agency_id": "1", "status": "offen"},
    )
    for url in (f"/faelle/{number}", "/faelle/", f"/faelle/{number}/bearbeiten"):
        body = ki.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in ki.get(f"/faelle/{number}").get_data(as_text=True)


def test_notes_and_goals_round_trip_and_bad_ones_keep_the_text(ki, query, world):
    number = query(lambda: make_case(_user(world["KI"])).number)
    ok = ki.post(f"/faelle/{number}/vermerke", data={"category": "gesundheit", "text": "Therapieplatz ab Mai."})
    assert ok.status_code == 302
    bad = ki.post(f"/faelle/{number}/vermerke", data={"category": "unbekannt", "text": "Nicht verlieren bitte"})
    assert bad.status_code == 422 and "Nicht verlieren bitte" in bad.get_data(as_text=True)
    assert "Bitte wählen Sie einen Eintrag aus der Liste." in bad.get_data(as_text=True)
    assert "Not a valid" not in bad.get_data(as_text=True)
    nul = ki.post(f"/faelle/{number}/vermerke", data={"category": "familie", "text": "a\x00b"})
    assert nul.status_code == 422 and "Nullbyte" in nul.get_data(as_text=True)
    # Escapes that are no UTF-8 (no browser sends them) are refused, not stored as the literal text "%ED%A0%80"
    raw = f"csrf_token={ki.csrf}&category=familie&text=%ED%A0%80abc".encode()
    broken = ki.http.post(f"/faelle/{number}/vermerke", data=raw, content_type="application/x-www-form-urlencoded")
    assert broken.status_code == 422 and "kein UTF-8" in broken.get_data(as_text=True)
    typed = ki.post(f"/faelle/{number}/vermerke", data={"category": "familie", "text": "100 %ED ist kein Code"})
    assert typed.status_code == 302  # a percent sign typed by a person is text like any other
    # the form to write one comes before the notes (the newest first), however many there are, and the page's
    # own menu leads to it
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert '<a href="#vermerk-schreiben">Vermerk schreiben</a>' in page
    order = [page.index(s) for s in ('id="vermerk-schreiben"', "100 %ED ist kein Code", "Therapieplatz ab Mai.")]
    assert order == sorted(order)
    empty = ki.post(f"/faelle/{number}/vermerke", data={"category": "familie", "text": ""})
    assert empty.status_code == 422 and "Dieses Feld ist erforderlich." in empty.get_data(as_text=True)
    goal = ki.post(
        f"/faelle/{number}/ziele",
        data={
            "title": "B1 erreichen",
            "field": "sprache",
            "responsible_agency_id": "1",
            "due_date": (utcnow().date() + timedelta(days=60)).isoformat(),
            "status": "offen",
        },
    )
    assert goal.status_code == 302
    past = {"title": "B2 erreichen", "field": "sprache", "responsible_agency_id": "1", "status": "offen"}
    late = ki.post(f"/faelle/{number}/ziele", data=past | {"due_date": "01.01.2020"})
    body = late.get_data(as_text=True)
    assert late.status_code == 422 and "Das Zieldatum darf nicht in der Vergangenheit liegen." in body
    assert 'value="B2 erreichen"' in body  # kept
    gid = query(lambda: db.session.query(Goal.id).scalar(), commit=False)
    assert "(überfällig)" not in ki.get(f"/faelle/{number}").get_data(as_text=True)

    def past_due():
        db.session.get(Goal, gid).due_date = utcnow().date() - timedelta(days=2)

    query(past_due)  # the date came and went with the goal still open: the case page says so
    assert "(überfällig)" in ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert ki.post(f"/faelle/{number}/ziele/{gid}/status", data={"status": "erreicht"}).status_code == 302
    assert "(überfällig)" not in ki.get(f"/faelle/{number}").get_data(as_text=True)  # reached: nothing overdue
    assert ki.post(f"/faelle/{number}/ziele/{gid}/status", data={"status": "vergessen"}).status_code == 422
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert "Therapieplatz ab Mai." in page and "B1 erreichen" in page
    assert query(lambda: db.session.get(Goal, gid).status, commit=False) == "erreicht"


def test_a_note_filed_wrongly_is_withdrawn_by_its_agency_and_leaves_a_trace(world, query, client_for):
    """JC files health data under Leistungen, which AA may read too. JC withdraws it: the text is destroyed at once
    (for everyone, in the database too), and the note stays as a trace of who, when and why. No other agency may
    withdraw it, a reason is needed, and twice is refused."""
    from fallkonferenz.models import AuditEvent, Note

    def setup():
        case = make_case(_user(world["KI"]))
        make_consent(case, _user(world["KI"]), [("JC", "leistungen"), ("AA", "leistungen")])
        return case.number

    number = query(setup)
    jc, aa, ki = (client_for(world[code], PASSWORD) for code in ("JC", "AA", "KI"))
    wrong = {"category": "leistungen", "text": "Diagnose Depression, Therapie ab Mai"}
    assert jc.post(f"/faelle/{number}/vermerke", data=wrong).status_code == 302
    note_id = query(lambda: db.session.query(Note.id).scalar(), commit=False)
    assert "Diagnose Depression" in aa.get(f"/faelle/{number}").get_data(as_text=True)
    page = jc.get(f"/faelle/{number}").get_data(as_text=True)
    assert f'action="/faelle/{number}/vermerke/{note_id}/zurueckziehen"' in page
    assert "zurueckziehen" not in aa.get(f"/faelle/{number}").get_data(as_text=True)  # not AA's note
    withdraw = f"/faelle/{number}/vermerke/{note_id}/zurueckziehen"
    for other in (aa, ki):  # whoever did not write it: as if there were no such note
        assert other.post(withdraw, data={"reason": "kategorie"}).status_code == 404
    for bad in ("", "weil", "<script>"):
        refused = jc.post(withdraw, data={"reason": bad})
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422 and "Bitte wählen Sie, warum" in body and "Diagnose Depression" in body
        # named at the top of the page, where the focus goes, with a link to the reason's field
        assert f'<a href="#withdraw-{note_id}">Grund: Bitte wählen Sie, warum' in body
    assert re.search(rf'<select id="withdraw-{note_id}" name="reason" required', page)  # asked before the question
    assert jc.post(withdraw, data={"reason": "kategorie"}).status_code == 302
    for client in (jc, aa):  # those who could read it see that it was there and why it went
        body = client.get(f"/faelle/{number}").get_data(as_text=True)
        assert "Diagnose Depression" not in body and "unter der falschen Datenkategorie erfasst" in body
    assert "Datenkategorie erfasst" not in ki.get(f"/faelle/{number}").get_data(as_text=True)  # KI never read it
    stored = query(lambda: db.session.get(Note, note_id), commit=False)
    assert stored.text_enc == b"" and stored.withdrawn_at is not None and stored.withdraw_reason == "kategorie"
    api = jc.api("GET", f"/api/v1/cases/{number}/notes").get_json()["items"]
    assert api[0]["text"] == "" and api[0]["withdrawReason"] == "kategorie" and api[0]["withdrawnAt"]
    assert jc.post(withdraw, data={"reason": "doppelt"}).status_code == 409
    # a withdrawn note is no note of JC's any more: once the consent is gone, JC sees nothing of the case
    from consent.models import Consent

    consent_id = query(lambda: db.session.query(Consent.id).scalar(), commit=False)
    assert ki.post(f"/faelle/{number}/einwilligungen/{consent_id}/widerruf", data={"reason": ""}).status_code == 302
    assert jc.get(f"/faelle/{number}").status_code == 404 and number not in jc.get("/faelle/").get_data(as_text=True)
    assert query(lambda: db.session.query(AuditEvent).filter_by(action="note.withdraw").count(), commit=False) == 1


def test_other_agency_writes_into_a_consented_case_and_always_sees_its_own_note(world, query, client_for):
    def setup():
        case = make_case(_user(world["KI"]))
        make_consent(case, _user(world["KI"]), [("JC", "leistungen")])
        return case.number

    number = query(setup)
    jc = client_for(world["JC"], PASSWORD)
    assert (
        jc.post(f"/faelle/{number}/vermerke", data={"category": "gesundheit", "text": "JC-eigener Vermerk"}).status_code
        == 302
    )
    assert "JC-eigener Vermerk" in jc.get(f"/faelle/{number}").get_data(as_text=True)
    # The KI sees JC's health note only with a consent granting KI Gesundheit.
    ki = client_for(world["KI"], PASSWORD)
    assert "JC-eigener Vermerk" not in ki.get(f"/faelle/{number}").get_data(as_text=True)


def test_only_the_lead_agency_edits_master_data(world, query, client_for):
    def setup():
        case = make_case(_user(world["KI"]))
        make_consent(case, _user(world["KI"]), all_categories("JC"))
        return case.number

    number = query(setup)
    jc = client_for(world["JC"], PASSWORD)
    assert jc.post(f"/faelle/{number}/bearbeiten", data=_case_form(family_name="Geändert")).status_code == 403
    ki = client_for(world["KI"], PASSWORD)
    assert ki.post(f"/faelle/{number}/bearbeiten", data=_case_form(family_name="Neuer Name")).status_code == 302
    assert "Neuer Name" in ki.get("/faelle/?q=neuer").get_data(as_text=True)


def test_search_by_number_and_partial_name(world, query, client_for):
    def setup():
        ki = _user(world["KI"])
        return make_case(ki, given="Senait", family="Tesfay").number, make_case(ki, family="Okafor").number

    first, second = query(setup)
    ki = client_for(world["KI"], PASSWORD)
    body = ki.get("/faelle/", query_string={"q": "tesf"}).get_data(as_text=True)
    assert first in body and second not in body
    assert '<p role="status">1 Fall gefunden.</p>' in body
    assert '<p role="status">2 Fälle gefunden.</p>' in ki.get("/faelle/").get_data(as_text=True)
    body = ki.get("/faelle/", query_string={"q": first.lower()}).get_data(as_text=True)
    assert first in body and second not in body
    body = ki.get("/faelle/", query_string={"q": "Senait Tesfay"}).get_data(as_text=True)
    assert first in body and second not in body
    assert ki.get("/faelle/", query_string={"q": "%_\\"}).status_code in (200, 422)
    assert ki.get("/faelle/", query_string={"seite": "abc"}).status_code == 200


def test_a_name_searched_through_the_form_never_appears_in_an_address(world, query, client_for):
    """The form posts the search; the address it leads to holds the text sealed to this login, so a client's name
    is in no history, bookmark or log. Another login (or the same person after logging out) cannot read it back:
    a clear message and a 400, and the list is not filtered by anything."""
    first, second = query(
        lambda: (
            make_case(_user(world["KI"]), given="Senait", family="Tesfay").number,
            make_case(_user(world["KI"]), family="Okafor").number,
        )
    )
    ki = client_for(world["KI"], PASSWORD)
    sent = ki.post("/faelle/suche", data={"q": "  Tesfay ", "stelle": "KI", "feld": ""})
    assert sent.status_code == 303
    address = sent.headers["Location"]
    assert "Tesfay" not in address.lower() and "tesfay" not in address.lower() and "q=" not in address
    assert address.startswith("/faelle/?stelle=KI&suche=")
    body = ki.get(address).get_data(as_text=True)
    assert first in body and second not in body
    assert 'value="Tesfay"' in body and 'autocomplete="off"' in body  # the field shows it, the browser keeps none
    # the pages of the result keep the sealed search, not the text
    pages = re.findall(r'href="(/faelle/\?[^"]*seite=[^"]*)"', body)
    assert all("Tesfay" not in p for p in pages)
    # the address does not even tell how long the name is
    other = ki.post("/faelle/suche", data={"q": "Tesfay Senait", "stelle": "KI"}).headers["Location"]
    assert len(other) == len(address)
    # an empty search goes back to the whole list; no CSRF token, no search
    assert ki.post("/faelle/suche", data={"q": " "}).headers["Location"] == "/faelle/"
    assert ki.http.post("/faelle/suche", data={"q": "Tesfay"}).status_code in (400, 403)
    # another agency's login, a changed token, rubbish: refused with a message, the list unfiltered
    jc = client_for(world["JC"], PASSWORD)
    token = address.split("suche=", 1)[1]
    for other, bad in ((jc, token), (ki, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")), (ki, "%%%"), (ki, "x")):
        stale = other.get("/faelle/", query_string={"suche": bad})
        page = stale.get_data(as_text=True)
        assert stale.status_code == 400 and "Bitte suchen Sie erneut." in page and 'id="q" name="q" value=""' in page
    # logging out ends it too: the same person, logged in again, holds a new session
    assert ki.post("/abmelden").status_code == 302
    again = client_for(world["KI"], PASSWORD)
    assert again.get(address).status_code == 400


def test_a_sealed_search_expires_with_an_idle_login(app, world, query, client_for):
    """A sealed search lives as long as an idle login would: a bookmark of it dies, and so does the search of a
    token user, whose search is bound to her account rather than to a login. Expired: a 400 and a message."""
    from fallkonferenz.casecrypto import keyring

    number = query(lambda: make_case(_user(world["KI"]), given="Senait", family="Tesfay").number)
    ki = client_for(world["KI"], PASSWORD)
    with ki.http.session_transaction() as sess:
        sid = sess["sid"]
    life = app.config["SESSION_IDLE_MINUTES"] * 60
    with app.app_context():
        ring = keyring()
        fresh = ring.hide("Tesfay", sid, issued=time.time() - life + 60)
        old = ring.hide("Tesfay", sid, issued=time.time() - life - 60)
        ahead = ring.hide("Tesfay", sid, issued=time.time() + 3600)
        # the keyring itself: the age is checked against the time given, whatever the search is bound to (a token
        # user's search is bound to her account, which does not end as a login does)
        assert ring.unhide(old, sid, max_age=life + 120) == "Tesfay"
        assert ring.unhide(old, sid, max_age=life) is None
        account = ring.hide("Tesfay", "user:7", issued=time.time() - life - 60)
        assert ring.unhide(account, "user:7", max_age=life + 120) == "Tesfay"
        assert ring.unhide(account, "user:7", max_age=life) is None
    found = ki.get("/faelle/", query_string={"suche": fresh})
    assert found.status_code == 200 and number in found.get_data(as_text=True)
    for token in (old, ahead):
        stale = ki.get("/faelle/", query_string={"suche": token})
        page = stale.get_data(as_text=True)
        assert stale.status_code == 400 and "abgelaufen" in page and number in page  # unfiltered list, a message
        assert 'id="q" name="q" value=""' in page


def test_filters_by_master_data_find_only_cases_whose_master_data_the_viewer_sees(world, query, client_for):
    """Handlungsfelder and Rechtskreise are Stammdaten: a filter by them must not tell JC what they are in a case
    whose consent grants JC only Leistungen (JC still lists the case, without them)."""

    def setup():
        ki = _user(world["KI"])
        case = make_case(ki, family="Okafor", fields=["gesundheit"], rechtskreise=["SGB VIII"])
        make_consent(case, ki, [("JC", "leistungen")])
        return case.number

    number = query(setup)
    jc, ki = client_for(world["JC"], PASSWORD), client_for(world["KI"], PASSWORD)
    assert number in jc.get("/faelle/").get_data(as_text=True)
    for filters in ({"feld": "gesundheit"}, {"feld": "ges"}, {"rechtskreis": "SGB VIII"}):
        assert number not in jc.get("/faelle/", query_string=filters).get_data(as_text=True), filters
        assert number in ki.get("/faelle/", query_string=filters).get_data(as_text=True), filters


def test_access_report_lists_who_read_the_case(world, query, client_for):
    def setup():
        case = make_case(_user(world["KI"]))
        make_consent(case, _user(world["KI"]), all_categories("JC"))
        return case.number

    number = query(setup)
    jc = client_for(world["JC"], PASSWORD)
    for _ in range(3):
        jc.get(f"/faelle/{number}")
    ki = client_for(world["KI"], PASSWORD)
    report = ki.get(f"/faelle/{number}/zugriffe")
    body = report.get_data(as_text=True)
    assert report.status_code == 200 and "<td>Fall gelesen</td>" in body and "JC" in body
    assert "3× an diesem Tag, zuerst um" in body  # one row for the three reads
    # reading the report is on record as that, not as a read of the case's data
    actions = query(
        lambda: [e.action for e in db.session.query(AuditEvent).filter_by(actor_id=_user(world["KI"]).id)],
        commit=False,
    )
    assert "case.access_report" in actions and "case.read" not in actions
    assert client_for(world["JC"], PASSWORD).get(f"/faelle/{number}/zugriffe").status_code == 403


def test_access_report_and_officer_find_the_case_in_lists_agendas_and_minutes(world, query, client_for):
    """A list, an agenda or minutes show several cases at once: each of them finds the event in its access report
    and under the officer's case filter; a case the list did not show does not."""
    from agenda import items
    from agenda import service as agenda_service

    def setup():
        ki = _user(world["KI"])
        shared = make_case(ki, family="Listenfall")
        make_consent(shared, ki, all_categories("JC"))
        other = make_case(ki, family="Anderer")  # no consent: JC never sees it
        start = utcnow() + timedelta(days=2)
        conference = agenda_service.create_conference(
            ki,
            agenda_service.ConferenceInput("Fallkonferenz Bericht", "fallkonferenz", start, start + timedelta(hours=2)),
            [_user(world["JC"]).id],
        )
        for case in (shared, other):
            items.add_item(ki, conference.id, items.ItemInput("", "fallbesprechung", 15, case.number), confirmed=True)
        return shared.number, other.number, conference.id, make_user("KI", "dpo").username

    shared, other, conference_id, officer = query(setup)
    jc = client_for(world["JC"], PASSWORD)
    assert "Listenfall" in jc.get("/faelle/").get_data(as_text=True)
    assert jc.get(f"/konferenzen/{conference_id}").status_code == 200
    assert jc.get(f"/konferenzen/{conference_id}/protokoll").status_code == 200
    ki = client_for(world["KI"], PASSWORD)
    assert ki.get(f"/konferenzen/{conference_id}").status_code == 200  # KI sees both cases on the agenda
    report = ki.get(f"/faelle/{shared}/zugriffe").get_data(as_text=True)
    rows = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", report)
    for action in ("Fallliste oder Suche", "Tagesordnung gelesen", "Protokoll gelesen"):
        assert ("JC", action) in rows, action
    other_report = ki.get(f"/faelle/{other}/zugriffe").get_data(as_text=True)
    readers = re.findall(r"<tr><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", other_report)
    assert ("KI", "Tagesordnung gelesen") in readers and not [r for r in readers if r[0] == "JC"]
    body = client_for(officer, PASSWORD).get("/protokollierung", query_string={"fall": shared, "konto": world["JC"]})
    found = body.get_data(as_text=True)
    for action in ("case.list", "agenda.read", "minutes.read"):
        assert f'<code class="muted">{action}</code></td><td>1 Fall (Liste)</td>' in found, action


def test_the_note_category_is_chosen_every_time_and_a_goal_starts_with_the_own_agency(ki, query, world):
    number = query(lambda: make_case(_user(world["KI"])).number)
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert 'name="category" required><option value="">– bitte wählen –</option>' in page  # first, so chosen
    ki_id = query(lambda: _user(world["KI"]).agency_id, commit=False)
    assert f'<option selected value="{ki_id}">KI' in page
    unchosen = ki.post(f"/faelle/{number}/vermerke", data={"category": "", "text": "Bitte behalten"})
    assert unchosen.status_code == 422 and "Bitte behalten" in unchosen.get_data(as_text=True)
    assert query(lambda: db.session.query(Note).count(), commit=False) == 0


def test_a_goal_is_seen_by_consent_and_named_only_for_an_agency_that_would_see_it(world, query, client_for):
    def setup():
        ki = _user(world["KI"])
        case = make_case(ki)
        make_consent(case, ki, [("JC", "leistungen")])
        return case.number, {u: _user(world[u]).agency_id for u in ("KI", "JC")}

    number, agency = query(setup)
    ki, jc = client_for(world["KI"], PASSWORD), client_for(world["JC"], PASSWORD)
    goal = {"title": "Traumatherapie fortsetzen", "field": "gesundheit", "status": "offen"}
    refused = ki.post(f"/faelle/{number}/ziele", data=goal | {"responsible_agency_id": agency["JC"]})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "JC hat für diesen Fall keine Einwilligung für „Gesundheit" in body
    assert 'value="Traumatherapie fortsetzen"' in body  # nothing typed is lost
    api = ki.api(
        "POST", f"/api/v1/cases/{number}/goals", json={"title": "x", "field": "gesundheit", "responsibleAgency": "JC"}
    )
    assert api.status_code == 422
    assert query(lambda: db.session.query(Goal).count(), commit=False) == 0

    # A goal in a category JC may see can be JC's; one in Gesundheit stays the writer's, and JC never sees it.
    wohnen = {"title": "Wohnung in Musterstadt finden", "field": "wohnen", "status": "offen"}
    assert ki.post(f"/faelle/{number}/ziele", data=wohnen | {"responsible_agency_id": agency["JC"]}).status_code == 302
    assert ki.post(f"/faelle/{number}/ziele", data=goal | {"responsible_agency_id": agency["KI"]}).status_code == 302
    page = jc.get(f"/faelle/{number}").get_data(as_text=True)
    assert "Wohnung in Musterstadt finden" in page and "Traumatherapie" not in page
    titles = [g["title"] for g in jc.api("GET", f"/api/v1/cases/{number}/goals").get_json()["items"]]
    assert titles == ["Wohnung in Musterstadt finden"]


def test_a_goal_named_for_an_agency_closes_with_its_consent(world, query, client_for):
    def setup():
        ki = _user(world["KI"])
        case = make_case(ki)
        consent = make_consent(case, ki, [("JC", "leistungen"), ("JC", "stammdaten")])
        return case.number, consent.id, _user(world["JC"]).agency_id

    number, consent_id, jc_agency = query(setup)
    ki, jc = client_for(world["KI"], PASSWORD), client_for(world["JC"], PASSWORD)
    wohnen = {"title": "Wohnung finden", "field": "wohnen", "status": "offen", "responsible_agency_id": jc_agency}
    assert ki.post(f"/faelle/{number}/ziele", data=wohnen).status_code == 302
    gid = query(lambda: db.session.query(Goal.id).scalar(), commit=False)
    assert (
        jc.post(f"/faelle/{number}/vermerke", data={"category": "leistungen", "text": "JC-Vermerk"}).status_code == 302
    )
    ki.post(f"/faelle/{number}/einwilligungen/{consent_id}/widerruf", data={"reason": "Widerruf"})
    # JC still sees the case through its own note, but no longer the goal it was named responsible for.
    page = jc.get(f"/faelle/{number}")
    assert page.status_code == 200 and "Wohnung finden" not in page.get_data(as_text=True)
    assert jc.post(f"/faelle/{number}/ziele/{gid}/status", data={"status": "erreicht"}).status_code == 404
    assert query(lambda: db.session.get(Goal, gid).status, commit=False) == "offen"
    # Outside the case team, JC may add goals for itself only.
    own = jc.post(f"/faelle/{number}/ziele", data=wohnen | {"title": "Eigenes Ziel"})
    assert own.status_code == 302
    other = jc.post(f"/faelle/{number}/ziele", data=wohnen | {"title": "Für KI", "responsible_agency_id": "1"})
    assert other.status_code == 422 and "Ziele für andere Stellen legt das Fallteam an" in other.get_data(as_text=True)
