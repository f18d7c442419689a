"""The backlog's JSON API: the same service as the pages, linked cases only for the cases' teams, guard hits with
their positions, and a German 4xx for every kind of bad input."""

from __future__ import annotations

import json

import pytest

from backlog import service
from backlog.models import Escalation
from fallkonferenz.auth import service as auth_service
from fallkonferenz.extensions import db
from tests.backlog.conftest import user
from tests.backlog.test_reports import NAMES, adopt, raise_items

BASE = "/api/v1/backlog"
PAYLOAD = {
    "title": "Integrationskurs mit Duldung nicht erreichbar",
    "description": "Junge Menschen mit Duldung erhalten keinen Platz im Integrationskurs.",
    "category": "rechtslage",
    "rechtskreise": ["AufenthG", "SGB II"],
    "agencies": ["JC", "ABH"],
    "proposedSolution": "Zulassung regelmäßig beantragen.",
}


def version_of(query, escalation_id: int) -> int:
    return query(lambda: db.session.get(Escalation, escalation_id).version, commit=False)


def test_a_list_names_each_agency_once(bscene, bclients):
    body = PAYLOAD | {"agencies": ["JC", "JC", "ABH", "JC"], "agendaItem": bscene.items["open"]}
    resp = bclients["JC"].api("POST", BASE, json=body)
    assert resp.status_code == 201 and resp.get_json()["agencies"] == ["JC", "ABH"]


def test_escalate_read_and_list(bscene, bclients, query):
    jc = bclients["JC"]
    resp = jc.api("POST", BASE, json=PAYLOAD | {"agendaItem": bscene.items["open"]})
    assert resp.status_code == 201, resp.get_json()
    item = resp.get_json()
    assert item["reference"].startswith("LG-") and item["state"] == "eingereicht" and item["caseCount"] == 1
    assert item["history"][0]["to"] == "eingereicht"
    assert item["linkedCases"] == [{"id": bscene.cases["open"], "number": bscene.numbers["open"]}]
    listing = bclients["JA"].get(f"{BASE}?kategorie=rechtslage&offen=1").get_json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == item["id"]
    assert bclients["JA"].get(f"{BASE}?kategorie=wartezeiten").get_json()["total"] == 0
    assert bclients["JA"].get(f"{BASE}?behoerde=ABH").get_json()["total"] == 1


def test_linked_cases_only_for_the_cases_team_and_never_a_name(bscene, bclients, query):
    (escalation_id,) = raise_items(bscene, query, "Integrationskurs mit Duldung nicht erreichbar")
    adopt(bscene, query, escalation_id)
    team = {"JC", "AA", "KI"}  # consent for JC and AA; KI leads the case
    for who, client in bclients.items():
        detail = client.get(f"{BASE}/{escalation_id}")
        listing = client.get(BASE)
        assert detail.status_code == listing.status_code == 200, who
        data = detail.get_json()
        expected = [{"id": bscene.cases["open"], "number": bscene.numbers["open"]}] if who in team else []
        assert data["linkedCases"] == expected, who
        assert data["caseCount"] == 1 and data["recommendation"]["implementations"]
        rest = json.dumps({k: v for k, v in data.items() if k != "linkedCases"}, ensure_ascii=False)
        for body in (rest, listing.get_data(as_text=True)) + (() if who in team else (detail.get_data(as_text=True),)):
            for number in bscene.numbers.values():
                assert number not in body, (who, number)
        for name in NAMES:
            assert name not in detail.get_data(as_text=True) + listing.get_data(as_text=True), (who, name)


def test_guard_hits_come_back_per_field_with_their_positions(bscene, bclients, query):
    text = "Frau Haddad bekommt keinen Kursplatz; Rückfragen unter 0151 2345678."
    resp = bclients["JC"].api(
        "POST", BASE, json=PAYLOAD | {"agendaItem": bscene.items["open"], "proposedSolution": text}
    )
    assert resp.status_code == 422
    data = resp.get_json()
    assert "personenbezogene Daten" in data["error"]
    assert set(data["errors"]) == {"proposedSolution"}
    hits = {(h["field"], h["kind"]): h for h in data["hits"]}
    assert set(hits) == {("proposedSolution", "name"), ("proposedSolution", "phone")}
    name = hits[("proposedSolution", "name")]
    assert text[name["start"] : name["end"]] == "Haddad" and name["label"] == "Name einer Person"
    assert query(lambda: db.session.query(Escalation).count(), commit=False) == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": 5}, "title"),
        ({"rechtskreise": "SGB II"}, "rechtskreise"),
        ({"agencies": [1, 2]}, "agencies"),
        ({"agendaItem": "eins"}, "agendaItem"),
        ({"agendaItem": True}, "agendaItem"),
        ({"category": "unbekannt"}, "category"),
        ({"category": None}, "category"),
        ({"title": "   "}, "title"),
        ({"rechtskreise": ["SGB XCIX"]}, "rechtskreise"),
    ],
)
def test_bad_escalation_input_is_a_german_422(bscene, bclients, payload, field):
    resp = bclients["JC"].api("POST", BASE, json=PAYLOAD | {"agendaItem": bscene.items["open"]} | payload)
    assert resp.status_code == 422
    data = resp.get_json()
    assert data["error"] == "Bitte prüfen Sie die markierten Angaben."
    assert set(data["errors"]) == {field}, data
    assert data["errors"][field].endswith("."), "a sentence in German, not a type name"


def test_body_that_is_not_a_json_object_is_refused_in_german(bscene, bclients):
    jc = bclients["JC"]
    for kwargs in ({"data": "title=x", "content_type": "application/x-www-form-urlencoded"}, {"json": [1, 2]}):
        resp = jc.api("POST", BASE, **kwargs)
        assert resp.status_code == 422
        assert resp.get_json()["error"] == "Der Inhalt ist kein gültiges JSON-Objekt."


def test_transitions_check_role_state_and_version(bscene, bclients, query):
    (escalation_id,) = raise_items(bscene, query, "Kurse fehlen")
    url = f"{BASE}/{escalation_id}/transitions"
    version = version_of(query, escalation_id)
    triage = f"{BASE}/{escalation_id}/triage"
    assert bclients["JC"].api("POST", triage, json={"priority": 1, "version": version}).status_code == 403
    chair = bclients["LG-KI"]
    # "gesichtet" comes with a priority: a bare status change is refused, triage sets both
    bare = chair.api("POST", url, json={"to": "gesichtet", "version": version})
    assert bare.status_code == 422 and "priority" in bare.get_json()["errors"]
    for body, field in (
        ({"priority": 7, "version": version}, "priority"),
        ({"priority": "1", "version": version}, "priority"),
        ({"priority": 1}, "version"),
        ({"priority": 1, "version": version, "category": "egal"}, "category"),
    ):
        refused = chair.api("POST", triage, json=body)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], (body, refused.get_json())
    resp = chair.api("POST", triage, json={"priority": 1, "version": version, "category": "rechtslage"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "gesichtet"
    # a second triage from the same (now stale) page is a conflict: the first one's priority stays
    again = bclients["LG-AA"].api("POST", triage, json={"priority": 3, "version": version})
    assert again.status_code == 409 and chair.get(f"{BASE}/{escalation_id}").get_json()["priority"] == 1
    assert (resp.get_json()["priority"], resp.get_json()["category"]) == (1, "rechtslage")
    stale = chair.api("POST", url, json={"to": "tagesordnung", "version": version})
    assert stale.status_code == 409 and "geändert" in stale.get_json()["error"]
    current = resp.get_json()["version"]
    wrong = chair.api("POST", url, json={"to": "umsetzung", "version": current})
    assert wrong.status_code == 409 and "nicht direkt" in wrong.get_json()["error"]
    for body, field in (
        ({"to": "fertig", "version": current}, "to"),
        ({"to": "abgelehnt"}, "version"),
        ({"to": "abgelehnt", "version": "3"}, "version"),
        ({"to": "arbeitsgruppe", "version": current, "workingGroup": 999}, "workingGroup"),
        ({"to": "arbeitsgruppe", "version": current, "workingGroup": 2**70}, "workingGroup"),
        ({"to": "abgelehnt", "version": current + 50, "reason": "x"}, "version"),  # never was: no one to name
        ({"to": "abgelehnt", "version": -5, "reason": "x"}, "version"),
        ({"to": "abgelehnt", "version": current, "reason": ""}, "reason"),
    ):
        resp = chair.api("POST", url, json=body)
        assert resp.status_code == 422 and field in resp.get_json()["errors"], (body, resp.get_json())
    done = chair.api("POST", url, json={"to": "abgelehnt", "version": current, "reason": "Bundesrecht"})
    assert done.status_code == 200 and done.get_json()["stateReason"] == "Bundesrecht"
    assert bclients["JC"].get(f"{BASE}/999999").status_code == 404
    # every step of the steering group on an item that is not there: 404 with a German error
    for method, url, body in (
        ("POST", f"{BASE}/999999/transitions", {"to": "abgelehnt", "version": 1, "reason": "x"}),
        ("POST", f"{BASE}/999999/triage", {"priority": 1, "version": 1}),
        ("POST", f"{BASE}/999999/recommendation", {"text": "Empfehlung", "version": 1}),
        ("PATCH", f"{BASE}/implementations/999999", {"status": "in_arbeit", "version": 1}),
    ):
        gone = chair.api(method, url, json=body)
        assert gone.status_code == 404 and "nicht gefunden" in gone.get_json()["error"].lower(), (url, gone.get_json())


def test_merge_folds_a_duplicate_into_the_surviving_item(bscene, bclients, query):
    """Over the API as on the page: the duplicate's cases and supporters go to the item that stays, the duplicate
    says where it went; merging into itself, into nothing or from a stale version is refused, and only the
    steering group merges."""
    duplicate, survivor = raise_items(bscene, query, "Kurse fehlen", "Zu wenige Integrationskurse")
    query(lambda: service.join(user(bscene.users["AA"]), duplicate, bscene.items["other"]))
    url, version = f"{BASE}/{duplicate}/merge", version_of(query, duplicate)
    chair = bclients["LG-KI"]
    assert bclients["JC"].api("POST", url, json={"mergeInto": survivor, "version": version}).status_code == 403
    for body, field in (
        ({"mergeInto": duplicate, "version": version}, "mergeInto"),
        ({"version": version}, "mergeInto"),
        ({"mergeInto": "zwei", "version": version}, "mergeInto"),
        ({"mergeInto": survivor}, "version"),
        ({"mergeInto": survivor, "version": version, "reason": 5}, "reason"),
    ):
        refused = chair.api("POST", url, json=body)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], (body, refused.get_json())
    assert chair.api("POST", url, json={"mergeInto": 999999, "version": version}).status_code == 404
    stale = chair.api("POST", url, json={"mergeInto": survivor, "version": version - 1})
    assert stale.status_code == 409
    merged = chair.api("POST", url, json={"mergeInto": survivor, "version": version, "reason": "gleiches Thema"})
    assert merged.status_code == 200, merged.get_json()
    body = merged.get_json()
    assert body["state"] == "zusammengefuehrt" and body["mergedInto"] == survivor
    assert body["stateReason"].startswith("zusammengeführt mit LG-") and body["stateReason"].endswith("gleiches Thema")
    kept = chair.get(f"{BASE}/{survivor}").get_json()
    assert kept["caseCount"] == 2 and kept["supporterCount"] == 2
    again = chair.api("POST", url, json={"mergeInto": survivor, "version": body["version"]})
    assert again.status_code == 409  # a merged item is closed: no step leads out of it


def test_join_links_another_case_and_counts_it(bscene, bclients, query):
    (escalation_id,) = raise_items(bscene, query, "Kurse fehlen")
    url = f"{BASE}/{escalation_id}/cases"
    resp = bclients["AA"].api("POST", url, json={"agendaItem": bscene.items["other"]})
    assert resp.status_code == 201 and resp.get_json()["caseCount"] == 2
    again = bclients["AA"].api("POST", url, json={"agendaItem": bscene.items["other"]})
    assert again.status_code == 422 and "schon verknüpft" in again.get_json()["error"]
    assert bclients["LG-AA"].api("POST", url, json={"agendaItem": bscene.items["other"]}).status_code == 403
    assert bclients["AA"].api("POST", url, json={}).get_json()["errors"] == {
        "agendaItem": "Dieses Feld ist erforderlich."
    }


def test_steering_group_adopts_a_recommendation_over_the_api(bscene, bclients, query):
    """Adopting works over the API as in the meeting's form: the steering group only, from the agenda or the working
    group, with a text, a due date not past and the implementing agencies among its members; each of them then
    has an implementation status "offen"."""
    waiting, (on_agenda,) = raise_items(bscene, query, "Kurse fehlen"), raise_items(bscene, query, "Kita fehlt")

    def schedule():
        chair = user(bscene.steering["KI"])
        escalation = db.session.get(Escalation, on_agenda)
        service.triage(chair, escalation.id, escalation.version, 1)
        service.put_on_agenda(chair, bscene.steering_meeting, [escalation.id])

    query(schedule)
    url, version, chair = f"{BASE}/{on_agenda}/recommendation", version_of(query, on_agenda), bclients["LG-KI"]
    text = "Kinderbetreuung während der Kurse sichern."
    assert bclients["JC"].api("POST", url, json={"text": text, "version": version}).status_code == 403
    for body, field in (
        ({"version": version}, "text"),
        ({"text": "   ", "version": version}, "text"),
        ({"text": "x" * 10001, "version": version}, "text"),
        ({"text": text}, "version"),
        ({"text": text, "version": version, "dueDate": "01.03.2027"}, "dueDate"),
        ({"text": text, "version": version, "dueDate": "2020-01-01"}, "dueDate"),
        ({"text": text, "version": version, "agencies": "JC"}, "agencies"),
        ({"text": text, "version": version, "agencies": ["JC", "XY"]}, "agencies"),
        ({"text": text, "version": version, "agencies": []}, "agencies"),
    ):
        refused = chair.api("POST", url, json=body)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], (body, refused.get_json())
    assert version_of(query, on_agenda) == version  # nothing refused changed the item
    stale = chair.api("POST", url, json={"text": text, "version": version - 1})
    assert stale.status_code == 409
    early = chair.api("POST", f"{BASE}/{waiting[0]}/recommendation", json={"text": text, "version": 1})
    assert early.status_code == 409 and "Tagesordnung" in early.get_json()["error"]
    body = {"text": text, "version": version, "dueDate": "2099-06-30", "agencies": ["JC", "JA", "JC"]}
    adopted = chair.api("POST", url, json=body)
    assert adopted.status_code == 201, adopted.get_json()
    item = adopted.get_json()
    assert item["state"] == "empfehlung" and item["version"] == version + 1
    recommendation = item["recommendation"]
    assert (recommendation["text"], recommendation["dueDate"]) == (text, "2099-06-30")
    assert [(i["agency"], i["status"]) for i in recommendation["implementations"]] == [("JC", "offen"), ("JA", "offen")]
    again = chair.api("POST", url, json={"text": text, "version": item["version"]})
    assert again.status_code == 409  # adopted once: the next step is the implementation


def test_implementation_status_by_the_agencys_steering_member(bscene, bclients, query):
    (escalation_id,) = raise_items(bscene, query, "Kurse fehlen")
    impls = adopt(bscene, query, escalation_id)
    url = f"{BASE}/implementations/{impls['JC']}"
    assert bclients["JC"].api("PATCH", url, json={"status": "in_arbeit", "version": 1}).status_code == 403
    assert bclients["LG-AA"].api("PATCH", url, json={"status": "in_arbeit", "version": 1}).status_code == 403
    resp = bclients["LG-JC"].api("PATCH", url, json={"status": "in_arbeit", "version": 1})
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["status"] == "in_arbeit" and data["version"] == 2 and data["escalation"]["state"] == "umsetzung"
    stale = bclients["LG-JC"].api("PATCH", url, json={"status": "umgesetzt", "version": 1})
    assert stale.status_code == 409
    bad = bclients["LG-JC"].api("PATCH", url, json={"status": "erledigt", "version": 2})
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]
    reason = bclients["LG-JC"].api("PATCH", url, json={"status": "nicht_umsetzbar", "version": 2})
    assert reason.status_code == 422 and "reason" in reason.get_json()["errors"]
    detail = bclients["JA"].get(f"{BASE}/{escalation_id}").get_json()
    statuses = {i["agency"]: i["status"] for i in detail["recommendation"]["implementations"]}
    assert statuses["JC"] == "in_arbeit" and statuses["AA"] == "offen"


def test_once_every_agency_has_implemented_the_item_is_done_and_stays_so(bscene, bclients, query):
    (escalation_id,) = raise_items(bscene, query, "Kurse fehlen")
    impls = adopt(bscene, query, escalation_id)
    for code, impl_id in impls.items():
        done = bclients[f"LG-{code}"].api(
            "PATCH", f"{BASE}/implementations/{impl_id}", json={"status": "umgesetzt", "version": 1}
        )
        assert done.status_code == 200, (code, done.get_json())
    assert done.get_json()["escalation"]["state"] == "umgesetzt"
    # no agency takes its report back afterwards: the item would count as done with work still open
    back = bclients["LG-JC"].api(
        "PATCH", f"{BASE}/implementations/{impls['JC']}", json={"status": "offen", "version": 2}
    )
    assert back.status_code == 409 and "nicht mehr geändert" in back.get_json()["error"]
    detail = bclients["LG-JC"].get(f"{BASE}/{escalation_id}").get_json()
    assert {i["status"] for i in detail["recommendation"]["implementations"]} == {"umgesetzt"}
    page = bclients["LG-JC"].get(f"/lenkungsgruppe/themen/{escalation_id}").get_data(as_text=True)
    assert "Stand der Umsetzung für JC melden" not in page
    # the form sent from a page loaded before: the item's page again, saying why, nothing changed
    form = {"status": "offen", "reason": "", "version": "2"}
    sent = bclients["LG-JC"].post(f"/lenkungsgruppe/umsetzung/{impls['JC']}", data=form)
    assert sent.status_code == 409 and "nicht mehr geändert" in sent.get_data(as_text=True)


def test_list_filters_and_pages_are_checked(bscene, bclients):
    client = bclients["JC"]
    for query_string, field in (
        ("kategorie=unbekannt", "kategorie"),
        ("status=fertig", "status"),
        ("behoerde=XY", "behoerde"),
        ("sortierung=name", "sortierung"),
        ("page=0", "page"),
        ("page=zwei", "page"),
    ):
        resp = client.get(f"{BASE}?{query_string}")
        assert resp.status_code == 422 and field in resp.get_json()["errors"], query_string


def test_api_needs_a_token_or_session_and_takes_a_bearer_token(app, bscene, bclients, query):
    anonymous = app.test_client()
    for url in (BASE, f"{BASE}/1"):
        resp = anonymous.get(url)
        assert resp.status_code == 401 and resp.get_json()["error"].startswith("Bitte melden Sie sich an"), url
    unknown = {"Authorization": "Bearer fk_unbekannt"}
    for method, url in (("GET", BASE), ("POST", BASE), ("PATCH", f"{BASE}/implementations/1")):
        assert anonymous.open(url, method=method, json={}, headers=unknown).status_code == 401, url
    token = query(lambda: auth_service.create_api_token(user(bscene.users["JC"]), "Fachverfahren"))
    headers = {"Authorization": f"Bearer {token}"}
    resp = anonymous.post(BASE, json=PAYLOAD | {"agendaItem": bscene.items["open"]}, headers=headers)
    assert resp.status_code == 201
    assert anonymous.get(BASE, headers=headers).get_json()["total"] == 1


def test_openapi_document_lists_the_backlog_paths(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert {
        "/backlog",
        "/backlog/{escalationId}",
        "/backlog/{escalationId}/transitions",
        "/backlog/{escalationId}/triage",
        "/backlog/{escalationId}/cases",
        "/backlog/implementations/{implementationId}",
    } <= set(doc["paths"])
    assert "409" in doc["paths"]["/backlog/{escalationId}/transitions"]["post"]["responses"]


def test_a_refusal_after_the_guard_read_the_cases_keeps_that_reading_on_record(bscene, bclients, query):
    """An unknown agency is refused after the guard has decrypted the conference's cases to check the text:
    that reading stays in the audit log, as with a guard hit."""
    from fallkonferenz.models import AuditEvent

    def guard_reads():
        return db.session.query(AuditEvent).filter(AuditEvent.action == "backlog.guard").count()

    before = query(guard_reads, commit=False)
    resp = bclients["JC"].api("POST", BASE, json=PAYLOAD | {"agendaItem": bscene.items["open"], "agencies": ["XX"]})
    assert resp.status_code == 422 and "agencies" in resp.get_json()["errors"]
    assert query(guard_reads, commit=False) > before
    assert query(lambda: db.session.query(Escalation).count(), commit=False) == 0


def test_an_item_is_reworded_over_the_api_by_those_who_may(bscene, bclients, query):
    jc, chair = bclients["JC"], bclients["LG-KI"]
    item = jc.api("POST", BASE, json=PAYLOAD | {"agendaItem": bscene.items["open"]}).get_json()
    url = f"{BASE}/{item['id']}"
    # the reporter corrects her words until the steering group has looked at it; what is left out stays
    fixed = jc.api("PATCH", url, json={"title": "Integrationskurs mit Duldung: keine Zulassung", "version": 1})
    assert fixed.status_code == 200, fixed.get_json()
    answer = fixed.get_json()
    assert answer["title"] == "Integrationskurs mit Duldung: keine Zulassung"
    assert answer["description"] == PAYLOAD["description"] and answer["agencies"] == ["JC", "ABH"]
    assert answer["history"][-1]["reason"] == "Text berichtigt (Meldung)"
    stale = jc.api("PATCH", url, json={"description": "Neu.", "version": 1})
    assert stale.status_code == 409
    unversioned = jc.api("PATCH", url, json={"description": "Neu."})
    assert unversioned.status_code == 422 and set(unversioned.get_json()["errors"]) == {"version"}
    named = jc.api("PATCH", url, json={"description": "Betrifft Amal Haddad.", "version": 2})
    assert named.status_code == 422 and {h["field"] for h in named.get_json()["hits"]} == {"description"}
    bad = jc.api("PATCH", url, json={"category": "sonstiges", "rechtskreise": "SGB II", "title": "", "version": 2})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"category", "rechtskreise", "title"}
    assert bclients["AA"].api("PATCH", url, json={"title": "Anders", "version": 2}).status_code == 403
    assert jc.api("PATCH", f"{BASE}/999999", json={"title": "Anders", "version": 1}).status_code == 404
    triage = chair.api("POST", f"{url}/triage", json={"priority": 1, "version": 2})
    assert triage.status_code == 200
    late = jc.api("PATCH", url, json={"title": "Noch einmal anders", "version": 3})
    assert late.status_code == 409 and "Lenkungsgruppe" in late.get_json()["error"]
    worded = chair.api("PATCH", url, json={"proposedSolution": "Zulassung gebündelt beantragen.", "version": 3})
    assert worded.status_code == 200 and worded.get_json()["proposedSolution"] == "Zulassung gebündelt beantragen."
    assert worded.get_json()["title"] == "Integrationskurs mit Duldung: keine Zulassung"
    assert version_of(query, item["id"]) == 4


def test_working_groups_over_the_api(bscene, bclients, query):
    chair, aa, jc = bclients["LG-KI"], bclients["AA"], bclients["JC"]
    member, lead = bscene.ids[bscene.users["AA"]], bscene.ids[bscene.steering["ABH"]]
    groups = f"{BASE}/groups"
    body = {"name": "AG Kita", "mandate": "Plätze für Kursteilnehmende", "lead": lead, "members": [member]}
    assert jc.api("POST", groups, json=body).status_code == 403  # the steering group sets groups up
    for bad, field in (
        ({"name": ""}, "name"),
        ({"name": "AG", "members": ["AA"]}, "members"),
        ({"name": "AG", "lead": "ABH"}, "lead"),
        ({"name": "AG", "dueDate": "2020-01-01"}, "dueDate"),
        ({"name": "AG", "members": [99999999]}, "members"),
    ):
        refused = chair.api("POST", groups, json=bad)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], bad
    named = chair.api("POST", groups, json=body | {"mandate": "Rückruf unter 0171 2345678"})
    assert named.status_code == 422 and named.get_json()["hits"][0]["field"] == "mandate"
    created = chair.api("POST", groups, json=body)
    assert created.status_code == 201
    group = created.get_json()
    assert group["lead"] == lead and {m["person"]: m["role"] for m in group["members"]} == {
        member: "mitglied",
        lead: "leitung",
    }
    url = f"{groups}/{group['id']}"
    assert [g["id"] for g in jc.get(groups).get_json()["items"]] == [group["id"]]  # every backlog reader sees it
    # a member reports; a stranger does not; a report with personal data is refused with its hits
    assert jc.api("POST", f"{url}/reports", json={"text": "Erstes Treffen."}).status_code == 403
    leak = aa.api("POST", f"{url}/reports", json={"text": "Bitte an a.h@example.org schreiben."})
    assert leak.status_code == 422 and leak.get_json()["hits"]
    reported = aa.api("POST", f"{url}/reports", json={"text": "Erstes Treffen; Entwurf liegt vor."})
    assert (
        reported.status_code == 201
        and reported.get_json()["reports"][0]["text"] == "Erstes Treffen; Entwurf liegt vor."
    )
    # a change keeps what it does not name
    changed = chair.api("PATCH", url, json={"members": [bscene.ids[bscene.users["JA"]]], "lead": None})
    assert changed.status_code == 200 and set(changed.get_json()["changed"]) == {"lead_id", "members"}
    after = changed.get_json()["group"]
    assert after["mandate"] == "Plätze für Kursteilnehmende" and after["lead"] is None
    assert jc.api("PATCH", url, json={"name": "Anders"}).status_code == 403
    assert chair.api("PATCH", url, json={"dueDate": "gestern"}).status_code == 422
    assert chair.api("PATCH", f"{groups}/99999", json={"name": "Anders"}).status_code == 404
    assert chair.api("POST", f"{url}/status", json={"status": "pausiert"}).status_code == 422
    assert jc.api("POST", f"{url}/status", json={"status": "abgeschlossen"}).status_code == 403
    closed = chair.api("POST", f"{url}/status", json={"status": "abgeschlossen"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "abgeschlossen"
    assert jc.get(f"{groups}/99999").status_code == 404
    assert chair.api("POST", f"{groups}/99999/reports", json={"text": "Bericht"}).status_code == 404
    assert chair.api("POST", f"{groups}/99999/status", json={"status": "aktiv"}).status_code == 404
    full = jc.get(url).get_json()
    assert full["status"] == "abgeschlossen" and full["items"] == [] and len(full["reports"]) == 1
