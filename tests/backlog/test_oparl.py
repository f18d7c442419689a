"""The OParl 1.1 view of the steering layer: OParl objects and lists, only the Lenkungsgruppe's own meetings, no
persons, no case numbers or names, and no data without a login."""

from __future__ import annotations

from datetime import datetime

from backlog import service
from backlog.models import Escalation
from fallkonferenz.auth import service as auth_service
from fallkonferenz.extensions import db
from tests.backlog.conftest import user
from tests.backlog.test_reports import NAMES, adopt, raise_items

BASE = "/oparl/v1"
# Ids are addresses under the configured BASE_URL (what users know), not the request's host: here "localhost".
ROOT = "http://127.0.0.1:5000/oparl/v1"
SCHEMA = "https://schema.oparl.org/1.1/"
LISTS = ("bodies", "organizations", "memberships", "persons", "meetings", "papers", "consultations")


def working_group(bscene, query) -> int:
    def run():
        members = [user(bscene.users["JC"]).id, user(bscene.users["ABH"]).id]
        data = service.GroupInput(name="AG Zugang Sprachkurse", lead_id=members[0], member_ids=members)
        return service.create_group(user(bscene.steering["KI"]), data).id

    return query(run)


def scene(bscene, query) -> dict:
    """Two papers: one adopted in the steering meeting, one with a working group."""
    first, second = raise_items(
        bscene, query, "Integrationskurs mit Duldung nicht erreichbar", "Kinderbetreuung fehlt", join_other=True
    )
    adopt(bscene, query, first)
    group = working_group(bscene, query)

    def to_group():
        chair = user(bscene.steering["KI"])
        escalation = service.load(chair, second)
        service.triage(chair, second, escalation.version, 2)
        service.put_on_agenda(chair, bscene.steering_meeting, [second])
        service.transition(chair, second, "arbeitsgruppe", escalation.version, working_group_id=group)

    query(to_group)
    return {"first": first, "second": second, "group": group}


def get(client, url: str) -> dict:
    resp = client.get(url.removeprefix(ROOT.removesuffix(BASE)) if url.startswith("http") else BASE + url)
    assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:300])
    assert resp.mimetype == "application/json"
    return resp.get_json()


def assert_list(data: dict):
    assert set(data) == {"data", "pagination", "links"}
    assert set(data["pagination"]) == {"totalElements", "elementsPerPage", "currentPage", "totalPages"}
    assert {"first", "last"} <= set(data["links"])
    for obj in data["data"]:
        assert obj["id"].startswith(ROOT + "/") and obj["type"].startswith(SCHEMA)


def test_system_body_and_lists_are_oparl_objects(bscene, bclients, query):
    scene(bscene, query)
    client = bclients["JA"]
    system = get(client, "")
    assert system["type"] == SCHEMA + "System" and system["oparlVersion"] == SCHEMA
    assert system["id"] == ROOT
    bodies = get(client, system["body"])
    assert_list(bodies)
    (body,) = bodies["data"]
    assert body["type"] == SCHEMA + "Body" and body["legislativeTerm"] == []
    assert get(client, body["id"]) == body
    for key in ("organization", "person", "meeting", "paper", "consultation", "membership"):
        assert_list(get(client, body[key]))
    assert get(client, body["person"])["data"] == [], "the steering layer publishes no persons"


def test_papers_carry_reference_type_consultations_and_a_count(bscene, bclients, query):
    ids = scene(bscene, query)
    client = bclients["ABH"]
    papers = get(client, "/papers")
    assert_list(papers)
    assert papers["pagination"]["totalElements"] == 2
    by_id = {p["id"]: p for p in papers["data"]}
    first = by_id[f"{ROOT}/paper/{ids['first']}"]
    assert first["type"] == SCHEMA + "Paper" and first["reference"].startswith("LG-")
    assert first["name"] == "Integrationskurs mit Duldung nicht erreichbar"
    assert first["paperType"] == "Rechtslage" and len(first["date"]) == 10
    assert first["fallkonferenz:affectedCases"] == 2 and first["fallkonferenz:state"] == "empfehlung"
    assert first["created"].endswith("+00:00") and first["modified"].endswith("+00:00")
    (consultation,) = first["consultation"]
    assert consultation["type"] == SCHEMA + "Consultation" and consultation["authoritative"] is True
    assert "paper" not in consultation, "an embedded object leaves out the link back to its parent"
    standalone = get(client, consultation["id"])
    assert standalone["paper"] == first["id"] and standalone["meeting"] == consultation["meeting"]
    second = by_id[f"{ROOT}/paper/{ids['second']}"]
    assert second["underDirectionOf"] == [f"{ROOT}/organization/ag-{ids['group']}"]
    assert second["consultation"][0]["authoritative"] is False
    assert get(client, first["id"]) == first

    def raised_late_at_night():  # 23:30 UTC in November is 00:30 the next day in the agencies' time zone
        db.session.get(Escalation, ids["first"]).created_at = datetime(2026, 11, 1, 23, 30)

    query(raised_late_at_night)
    assert get(client, first["id"])["date"] == "2026-11-02"


def test_meetings_are_only_the_steering_groups_own(bscene, bclients, query):
    scene(bscene, query)
    client = bclients["JC"]
    meetings = get(client, "/meetings")
    assert_list(meetings)
    (meeting,) = meetings["data"]
    assert meeting["id"] == f"{ROOT}/meeting/{bscene.steering_meeting}"
    assert meeting["type"] == SCHEMA + "Meeting" and meeting["name"] == "Lenkungsgruppe"
    assert meeting["cancelled"] is False and meeting["start"].endswith("+00:00")
    items = meeting["agendaItem"]
    assert [i["number"] for i in items] == ["TOP 1", "TOP 2"] and [i["order"] for i in items] == [1, 2]
    assert all(i["type"] == SCHEMA + "AgendaItem" and i["public"] is False for i in items)
    assert items[0]["name"].endswith("Integrationskurs mit Duldung nicht erreichbar")
    assert get(client, items[0]["id"])["meeting"] == meeting["id"]
    assert get(client, items[0]["consultation"])["agendaItem"] == items[0]["id"]
    for conference_id in (bscene.conference, bscene.other_conference):
        resp = client.get(f"{BASE}/meeting/{conference_id}")
        assert resp.status_code == 404 and resp.get_json()["error"] == "Sitzung nicht gefunden."
    for item_id in bscene.items.values():
        assert client.get(f"{BASE}/agendaitem/{item_id}").status_code == 404
    assert "Fallkonferenz Nord" not in client.get(f"{BASE}/meetings").get_data(as_text=True)


def test_working_groups_are_organizations_with_memberships_on_behalf_of_agencies(bscene, bclients, query):
    ids = scene(bscene, query)
    client = bclients["LG-AA"]
    organizations = get(client, "/organizations")
    assert_list(organizations)
    by_id = {o["id"]: o for o in organizations["data"]}
    group = by_id[f"{ROOT}/organization/ag-{ids['group']}"]
    assert group["type"] == SCHEMA + "Organization" and group["name"] == "AG Zugang Sprachkurse"
    assert group["classification"] == "Arbeitsgruppe"
    assert group["subOrganizationOf"] == ROOT + "/organization/lenkungsgruppe"
    memberships = [get(client, url) for url in group["membership"]]
    assert {m["role"] for m in memberships} == {"Leitung", "Mitglied"}
    assert all("person" not in m and m["organization"] == group["id"] for m in memberships)
    agencies = {get(client, m["onBehalfOf"])["shortName"] for m in memberships}
    assert agencies == {"JC", "ABH"}
    assert all(m["onBehalfOf"] in by_id for m in memberships)
    assert {m["id"] for m in get(client, "/memberships")["data"]} == set(group["membership"])
    assert client.get(f"{BASE}/organization/ag-999").status_code == 404
    assert client.get(f"{BASE}/organization/irgendwas").status_code == 404


def test_oparl_never_shows_case_numbers_client_or_member_names(bscene, bclients, query):
    scene(bscene, query)
    members = [bscene.users["JC"], bscene.users["ABH"]]
    for who, client in bclients.items():
        bodies = [client.get(f"{BASE}/{name}?limit=100").get_data(as_text=True) for name in LISTS]
        for body in bodies:
            for number in bscene.numbers.values():
                assert number not in body, (who, number)
            for name in NAMES:
                assert name not in body, (who, name)
            for username in members:
                assert username not in body and f"case_worker {username[:2].upper()}" not in body


def test_lists_page_with_links(bscene, bclients, query):
    scene(bscene, query)
    client = bclients["KI"]
    page1 = get(client, "/papers?limit=1")
    assert page1["pagination"] == {"totalElements": 2, "elementsPerPage": 1, "currentPage": 1, "totalPages": 2}
    assert "prev" not in page1["links"]
    page2 = get(client, page1["links"]["next"])
    assert page2["pagination"]["currentPage"] == 2 and page2["links"]["prev"].endswith("page=1&limit=1")
    assert page1["data"][0]["id"] != page2["data"][0]["id"]
    assert get(client, "/papers?modified_since=2999-01-01T00:00:00Z")["data"] == []
    for bad in ("limit=0", "limit=500", "page=x", "modified_since=gestern"):
        resp = client.get(f"{BASE}/papers?{bad}")
        assert resp.status_code == 422 and resp.get_json()["errors"], bad


def test_oparl_needs_a_login_or_token(app, bscene, query):
    anonymous = app.test_client()
    for url in (BASE, f"{BASE}/papers", f"{BASE}/meetings", f"{BASE}/organizations"):
        resp = anonymous.get(url, headers={"Authorization": "Bearer fk_unbekannt"})
        assert resp.status_code == 401, url
        plain = anonymous.get(url)
        assert plain.status_code == 401 and b"schema.oparl.org" not in plain.data, url
        assert plain.get_json()["error"], url
    token = query(lambda: auth_service.create_api_token(user(bscene.steering["JA"]), "Ratsinformationssystem"))
    system = anonymous.get(BASE, headers={"Authorization": f"Bearer {token}"})
    assert system.status_code == 200 and system.get_json()["type"] == SCHEMA + "System"
