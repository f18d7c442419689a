"""Bad input to every backlog page and form: a German message and a 4xx, never a 500, and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from agenda import service as agenda_service
from backlog import service
from backlog.models import Escalation, Implementation
from fallkonferenz.extensions import db
from fallkonferenz.models import utcnow
from tests.backlog.conftest import user

MISSING = 99999
LONG = "x" * 20001


@dataclass
class Items:
    on_agenda: int  # raised by the JC from the "open" case, on the steering meeting's agenda
    version: int
    agenda_item: int  # its agenda item in the steering meeting
    recommended: int  # another item with a recommendation
    implementation: int  # the ABH's implementation of it
    group: int


@pytest.fixture
def items(bscene, query) -> Items:
    def build():
        jc, chair = user(bscene.users["JC"]), user(bscene.steering["KI"])
        data = service.EscalationInput(
            title="Kein Kursplatz mit Duldung", description="Zulassung fehlt.", category="rechtslage"
        )
        first = service.escalate(jc, data, bscene.items["open"])
        service.triage(chair, first.id, None, 1)
        service.put_on_agenda(chair, bscene.steering_meeting, [first.id])
        for state in ("eingeladen", "laeuft"):  # decisions are taken while the meeting runs
            agenda_service.set_state(chair, bscene.steering_meeting, state)
        second = service.escalate(jc, data, bscene.general_item)
        service.triage(chair, second.id, None, 2)
        service.transition(chair, second.id, "tagesordnung", None)
        rec = service.adopt(chair, second.id, None, "Zulassungen beantragen.", None)
        group = service.create_group(chair, service.GroupInput(name="AG Sprache"))
        return Items(
            on_agenda=first.id,
            version=first.version,
            agenda_item=next(iter(service.consultations_of(bscene.steering_meeting))),
            recommended=second.id,
            implementation=next(i.id for i in rec.implementations if i.agency.code == "ABH"),
            group=group.id,
        )

    return query(build)


def snapshot(query, items: Items):
    def read():
        rows = db.session.query(Escalation.id, Escalation.state, Escalation.version, Escalation.case_count).all()
        impls = db.session.query(Implementation.id, Implementation.status, Implementation.version).all()
        return sorted(rows), sorted(impls)

    return query(read, commit=False)


def test_bad_escalation_input_is_refused_in_german(bscene, bclients, query, items):
    before = snapshot(query, items)
    url = f"/konferenzen/{bscene.conference}/top/{bscene.items['open']}/eskalieren"
    good = {"title": "Titel", "description": "Beschreibung", "category": "rechtslage"}
    cases = [
        (good | {"category": "quatsch"}, 422, "Bitte wählen Sie eine Kategorie."),
        (good | {"category": ""}, 422, "Bitte wählen Sie eine Kategorie."),
        (good | {"rechtskreise": ["SGB XIV"]}, 422, "Unbekannte Auswahl."),
        (good | {"agencies": ["NSA"]}, 422, "Unbekannte Auswahl."),
        (good | {"title": "x" * 201}, 422, "Höchstens 200 Zeichen."),
        (good | {"description": LONG}, 422, "Höchstens 10000 Zeichen."),
        (good | {"description": ""}, 422, "Bitte beschreiben Sie das Problem."),
        ({}, 422, "Bitte geben Sie einen Titel an."),
    ]
    for data, status, message in cases:
        resp = bclients["JC"].post(url, data=data)
        assert (resp.status_code, message in resp.get_data(as_text=True)) == (status, True), data
    for target, status in (
        (f"/konferenzen/{bscene.conference}/top/{MISSING}/eskalieren", 404),
        (f"/konferenzen/{bscene.other_conference}/top/{bscene.items['open']}/eskalieren", 404),
        (f"/konferenzen/{bscene.steering_meeting}/top/{items.agenda_item}/eskalieren", 404),
        (f"/konferenzen/{bscene.conference}/top/{bscene.items['closed']}/eskalieren", 404),
    ):
        assert bclients["JC"].post(target, data=good).status_code == status, target
        assert bclients["JC"].get(target).status_code == status, target
    no_token = bclients["JC"].http.post(url, data=good)
    assert no_token.status_code == 400 and "Sicherheitstoken" in no_token.get_data(as_text=True)
    assert snapshot(query, items) == before


def test_bad_join_input_is_refused(bscene, bclients, query, items):
    before = snapshot(query, items)
    join = f"/lenkungsgruppe/themen/{items.on_agenda}/betrifft-uns-auch"
    cases = [
        (join, {"item_id": "abc"}, 422),
        (join, {}, 422),
        (join, {"item_id": MISSING}, 404),
        (join, {"item_id": bscene.general_item}, 422),  # no case on a general item
        (join, {"item_id": bscene.items["open"]}, 422),  # already linked
        (join, {"item_id": bscene.items["closed"]}, 404),  # a case the JC may not see
        (f"/lenkungsgruppe/themen/{MISSING}/betrifft-uns-auch", {"item_id": bscene.items["other"]}, 404),
    ]
    for url, data, status in cases:
        resp = bclients["JC"].post(url, data=data)
        assert resp.status_code == status, (url, data, resp.status_code)
    assert bclients["LG-JC"].post(join, data={"item_id": bscene.items["other"]}).status_code == 403
    assert snapshot(query, items) == before


def test_bad_steering_input_is_refused_and_changes_nothing(bscene, bclients, query, items):
    before = snapshot(query, items)
    base = f"/lenkungsgruppe/themen/{items.on_agenda}"
    v = items.version
    member = query(lambda: service.member_agencies()[0].id, commit=False)
    cases = [
        ("sichten", {"priority": "abc", "version": v}, 422, "Bitte wählen Sie einen Eintrag aus der Liste."),
        ("sichten", {"priority": 7, "version": v}, 422, "Bitte eine Priorität wählen."),
        ("sichten", {"priority": 1, "category": "quatsch", "version": v}, 422, "Bitte eine Kategorie wählen."),
        ("sichten", {"priority": 1, "version": "neu"}, 422, "Bitte eine ganze Zahl angeben."),
        ("sichten", {"priority": 1}, 422, "Bitte laden Sie die Seite neu."),
        ("sichten", {"priority": 1, "version": v - 1}, 409, "inzwischen"),
        ("status", {"to_state": "fliegen", "version": v}, 422, "Unbekannter Status."),
        ("status", {"to_state": "", "version": v}, 422, "Bitte wählen Sie den neuen Status."),
        ("status", {"to_state": "abgelehnt", "version": v}, 422, "Bitte geben Sie eine Begründung an."),
        ("status", {"to_state": "abgelehnt", "reason": LONG, "version": v}, 422, "Höchstens 5000 Zeichen."),
        ("status", {"to_state": "arbeitsgruppe", "working_group": "x", "version": v}, 422, "aus der Liste"),
        ("status", {"to_state": "arbeitsgruppe", "working_group": MISSING, "version": v}, 422, "aktive Arbeitsgruppe"),
        ("status", {"to_state": "empfehlung", "version": v}, 422, "mit ihrem Text"),
        ("status", {"to_state": "zusammengefuehrt", "version": v}, 422, "Zum Zusammenführen"),
        ("status", {"to_state": "umgesetzt", "version": v}, 409, "jede Stelle"),
        ("status", {"to_state": "umsetzung", "version": v}, 409, "nicht direkt"),
        ("zusammenfuehren", {"into": "", "version": v}, 422, "in den dieser aufgeht"),
        ("zusammenfuehren", {"into": "x", "version": v}, 422, "aus der Liste"),
        ("zusammenfuehren", {"into": items.on_agenda, "version": v}, 422, "nicht mit sich selbst"),
        ("empfehlung", {"text": "", "version": v}, 422, "Text der Empfehlung"),
        ("empfehlung", {"text": "Text", "due_date": "31.02.2030", "version": v}, 422, "gültiges Datum"),
        ("empfehlung", {"text": "Text", "due_date": "01.01.2000", "version": v}, 422, "Vergangenheit"),
        ("empfehlung", {"text": "Text", "agencies": ["x"], "version": v}, 422, "Unbekannte Auswahl."),
        ("empfehlung", {"text": "Text", "agencies": [MISSING], "version": v}, 422, "Stellen der Lenkungsgruppe"),
        ("empfehlung", {"text": "Text", "version": v}, 422, "mindestens eine Stelle"),
        ("empfehlung", {"text": "Bitte a@b.de fragen", "agencies": [member], "version": v}, 422, "personenbezogene"),
        # the steering group sees no client: a name is found by its form of address
        ("empfehlung", {"text": "Termine für Frau Tesfay", "agencies": [member], "version": v}, 422, "personenbezog"),
        ("bearbeiten", {"title": "T", "description": "D", "category": "x", "version": v}, 422, "Kategorie"),
        (
            "bearbeiten",
            {"title": "T", "description": "Tel. 0151 2345678", "category": "rechtslage", "version": v},
            422,
            "guard-hit",
        ),
    ]
    for action, data, status, message in cases:
        resp = bclients["LG-KI"].post(f"{base}/{action}", data=data)
        page = resp.get_data(as_text=True)
        assert (resp.status_code, message in page) == (status, True), (action, data, resp.status_code)
    assert bclients["LG-KI"].post(f"{base}/zusammenfuehren", data={"into": MISSING, "version": v}).status_code == 404
    assert (
        bclients["LG-KI"]
        .post(f"/lenkungsgruppe/themen/{MISSING}/sichten", data={"priority": 1, "version": 1})
        .status_code
        == 404
    )
    assert snapshot(query, items) == before


def test_bad_implementation_input_is_refused(bscene, bclients, query, items):
    before = snapshot(query, items)
    url = f"/lenkungsgruppe/umsetzung/{items.implementation}"
    client = bclients["LG-ABH"]
    assert client.post(url, data={"status": "fertig", "version": 1}).status_code == 422
    assert client.post(url, data={"status": "umgesetzt", "version": "x"}).status_code == 422
    assert client.post(url, data={"status": "umgesetzt", "reason": LONG, "version": 1}).status_code == 422
    assert client.post(url, data={"status": "umgesetzt", "version": 7}).status_code == 409
    assert (
        client.post(f"/lenkungsgruppe/umsetzung/{MISSING}", data={"status": "umgesetzt", "version": 1}).status_code
        == 404
    )
    assert snapshot(query, items) == before


def test_bad_working_group_input_is_refused(bscene, bclients, query, items):
    client = bclients["LG-KI"]
    cases = [
        ({"name": ""}, "Bitte einen Namen angeben"),
        ({"name": "AG", "lead": "x"}, "aus der Liste"),
        ({"name": "AG", "lead": MISSING}, "aktive Konten"),
        ({"name": "AG", "lead": "٣"}, "aus der Liste"),
        ({"name": "AG", "members": ["x"]}, "Unbekannte Auswahl."),
        ({"name": "AG", "due_date": "gestern"}, "gültiges Datum"),
        ({"name": "AG", "due_date": (utcnow().date() - timedelta(days=1)).isoformat()}, "Vergangenheit"),
        ({"name": "AG", "mandate": LONG}, "Höchstens 5000 Zeichen."),
    ]
    for data, message in cases:
        resp = client.post("/lenkungsgruppe/arbeitsgruppen/neu", data=data)
        assert (resp.status_code, message in resp.get_data(as_text=True)) == (422, True), data
    group = f"/lenkungsgruppe/arbeitsgruppen/{items.group}"
    assert client.post(f"{group}/bericht", data={"text": ""}).status_code == 422
    assert client.post(f"{group}/bericht", data={"text": LONG}).status_code == 422
    assert client.post(f"{group}/status", data={"status": "pausiert"}).status_code == 422
    assert client.post(f"/lenkungsgruppe/arbeitsgruppen/{MISSING}/bericht", data={"text": "Bericht"}).status_code == 404
    assert client.get(f"/lenkungsgruppe/arbeitsgruppen/{MISSING}").status_code == 404
    count = query(lambda: len(service.groups()), commit=False)
    assert count == 1
    # "—" (0) is no lead, not an account that does not exist (that was a 503 and a lost form).
    assert (
        client.post("/lenkungsgruppe/arbeitsgruppen/neu", data={"name": "AG ohne Leitung", "lead": "0"}).status_code
        == 302
    )


def test_bad_steering_meeting_input_is_refused(bscene, bclients, query, items):
    before = snapshot(query, items)
    meeting = f"/konferenzen/{bscene.steering_meeting}"
    chair = bclients["LG-KI"]
    assert chair.post(f"{meeting}/themen", data={}).status_code == 422
    assert chair.post(f"{meeting}/themen", data={"escalation": ["x"]}).status_code == 422
    assert chair.post(f"{meeting}/themen", data={"escalation": [MISSING]}).status_code == 404
    assert chair.post(f"{meeting}/themen", data={"escalation": [items.on_agenda]}).status_code == 422  # already on it
    assert chair.post(f"{meeting}/themen", data={"escalation": [items.recommended]}).status_code == 409
    assert bclients["LG-JC"].post(f"{meeting}/themen", data={"escalation": [items.on_agenda]}).status_code == 403
    decide = f"{meeting}/top/{items.agenda_item}/beschluss"
    v = items.version
    for data, status in (
        ({"outcome": "vertagen", "text": "x", "version": v}, 422),
        ({"outcome": "abgelehnt", "text": "", "version": v}, 422),
        ({"outcome": "abgelehnt", "text": "Nein.", "version": "x"}, 422),
        ({"outcome": "abgelehnt", "text": "Nein.", "version": v - 1}, 409),
        ({"outcome": "empfehlung", "text": "Ja.", "due_date": "99.99.9999", "version": v}, 422),
    ):
        resp = bclients["LG-JC"].post(decide, data=data)
        assert resp.status_code == status, (data, resp.status_code)
    assert (
        bclients["LG-JC"].post(f"{meeting}/top/{MISSING}/beschluss", data={"outcome": "abgelehnt"}).status_code == 404
    )
    assert snapshot(query, items) == before


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/lenkungsgruppe/themen?seite=999999999999", 200),
        ("/lenkungsgruppe/themen?seite=7", 200),
        ("/lenkungsgruppe/themen?kategorie=%00&status=%27%3B--&behoerde=_&sortierung=..%2F", 200),
        ("/lenkungsgruppe/themen?offen=vielleicht", 200),
        ("/lenkungsgruppe/themen?seite=%C2%B2", 200),
        (f"/lenkungsgruppe/themen/{MISSING}", 404),
        ("/lenkungsgruppe/themen/abc", 404),
        (f"/lenkungsgruppe/themen/{MISSING}/bearbeiten", 404),
        (f"/lenkungsgruppe/arbeitsgruppen/{MISSING}", 404),
    ],
)
def test_bad_urls_answer_in_german(bclients, items, url, status):
    resp = bclients["LG-KI"].get(url)
    assert resp.status_code == status
    if status == 404:
        assert "nicht gefunden" in resp.get_data(as_text=True)
