"""The conferences API: OParl field names, the same policy as the pages, German errors."""

from __future__ import annotations

import pytest

from agenda.models import AgendaItem, Conference
from fallkonferenz.extensions import db
from tests.agenda.conftest import slot


def test_api_plans_a_conference_and_hides_closed_case_items(scene, clients, query):
    ki, jc = clients["KI"], clients["JC"]
    start, end = slot(3)
    created = ki.api(
        "POST",
        "/api/v1/conferences",
        json={"name": "Fallkonferenz März", "start": start, "end": end, "participants": [scene.ids["JC"]]},
    )
    assert created.status_code == 201
    cid = created.get_json()["id"]
    item = {"kind": "fallbesprechung", "case": scene.closed_case, "timeBox": 20, "agendaVersion": 0}
    refused = ki.api("POST", f"/api/v1/conferences/{cid}/items", json=item)
    assert refused.status_code == 409 and refused.get_json()["closedFor"] == ["JC"]
    # the text "false" is no confirmation (it used to count as one)
    unclear = ki.api("POST", f"/api/v1/conferences/{cid}/items", json=item | {"confirmClosed": "false"})
    assert unclear.status_code == 422 and "confirmClosed" in unclear.get_json()["errors"]
    assert ki.api("POST", f"/api/v1/conferences/{cid}/items", json=item | {"confirmClosed": True}).status_code == 201
    doc = jc.get(f"/api/v1/conferences/{cid}").get_json()
    [agenda_item] = doc["agendaItem"]
    assert agenda_item["confidential"] is True and agenda_item["name"] == "vertraulicher Fall"
    assert "case" not in agenda_item and agenda_item["public"] is False
    # the participants by the ids a new conference takes
    assert {p["id"] for p in doc["participants"]} == {scene.ids["KI"], scene.ids["JC"]}
    full = ki.get(f"/api/v1/conferences/{cid}").get_json()["agendaItem"][0]
    assert full["case"]["number"] == scene.closed_case
    assert [c["id"] for c in jc.get("/api/v1/conferences").get_json()["upcoming"]] == [cid]


def test_api_reorder_with_a_stale_version_is_a_conflict(scene, clients, planned, query):
    ki = clients["KI"]
    for title in ("A", "B"):
        ki.api("POST", f"/api/v1/conferences/{planned}/items", json={"kind": "bericht", "name": title, "timeBox": 5})
    ids = query(lambda: [i.id for i in db.session.get(Conference, planned).items], commit=False)
    stale = ki.api("PUT", f"/api/v1/conferences/{planned}/order", json={"items": ids[::-1], "agendaVersion": 0})
    assert stale.status_code == 409 and "inzwischen geändert" in stale.get_json()["error"]
    ok = ki.api("PUT", f"/api/v1/conferences/{planned}/order", json={"items": ids[::-1], "agendaVersion": 2})
    assert ok.status_code == 200
    assert query(lambda: [i.title for i in db.session.get(Conference, planned).items], commit=False) == ["B", "A"]
    missing = ki.api("PUT", f"/api/v1/conferences/{planned}/order", json={"items": ids[:1], "agendaVersion": 3})
    assert missing.status_code == 409
    # without the version a stale order could overwrite a newer one unseen: required, as documented
    unversioned = ki.api("PUT", f"/api/v1/conferences/{planned}/order", json={"items": ids})
    assert unversioned.status_code == 422 and set(unversioned.get_json()["errors"]) == {"agendaVersion"}
    # errors name the API's fields
    untitled = ki.api("POST", f"/api/v1/conferences/{planned}/items", json={"kind": "bericht", "timeBox": 500})
    assert untitled.status_code == 422 and set(untitled.get_json()["errors"]) == {"name", "timeBox"}
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 2
    # the version guards a removal too (a query parameter, so text that holds a number)
    stale = ki.api("DELETE", f"/api/v1/conferences/{planned}/items/{ids[0]}?agendaVersion=1")
    assert stale.status_code == 409
    junk = ki.api("DELETE", f"/api/v1/conferences/{planned}/items/{ids[0]}?agendaVersion=zwei")
    assert junk.status_code == 422
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 2
    assert ki.api("DELETE", f"/api/v1/conferences/{planned}/items/{ids[0]}?agendaVersion=3").status_code in (200, 204)
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 1
    # an item or a conference that is not there: 404 with a German error, nothing removed
    for method, url, body in (
        ("DELETE", f"/api/v1/conferences/{planned}/items/999999?agendaVersion=4", None),
        ("PUT", "/api/v1/conferences/999999/order", {"items": ids[1:], "agendaVersion": 4}),
    ):
        gone = ki.api(method, url, json=body)
        assert gone.status_code == 404 and "nicht gefunden" in gone.get_json()["error"], (method, url)
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/v1/conferences", "{kaputt", 422),
        ("POST", "/api/v1/conferences", {"name": "X", "start": "morgen", "end": "später"}, 422),
        # before the first day once taken to UTC
        ("POST", "/api/v1/conferences", {"name": "X", "start": "0001-01-01T00:00:00+01:00", "end": "x"}, 422),
        ("POST", "/api/v1/conferences/{cid}/items", {"kind": "bericht", "name": "x", "timeBox": 0}, 422),
        ("POST", "/api/v1/conferences/{cid}/items", {"kind": "bericht", "name": "x", "timeBox": "10"}, 422),
        (
            "POST",
            "/api/v1/conferences/{cid}/items",
            {"kind": "fallbesprechung", "case": "FK-1999-0001", "timeBox": 5},
            404,
        ),
        ("POST", "/api/v1/conferences/{cid}/items", {"kind": "bericht", "name": "x", "timeBox": 5, "order": -5}, 422),
        # consultations come from the backlog only, never typed in by hand
        ("POST", "/api/v1/conferences/{cid}/items", {"kind": "beratung", "name": "Wohnsitzauflage", "timeBox": 5}, 422),
        ("PUT", "/api/v1/conferences/{cid}/order", {"items": "1,2"}, 422),
        ("GET", "/api/v1/conferences/999999", None, 404),
    ],
)
def test_bad_api_input(scene, clients, planned, query, method, path, body, status):
    path = path.format(cid=planned)
    if isinstance(body, str):
        resp = clients["KI"].http.open(
            path, method=method, data=body, content_type="application/json", headers={"X-CSRFToken": clients["KI"].csrf}
        )
    else:
        resp = clients["KI"].api(method, path, json=body)
    assert resp.status_code == status
    assert resp.get_json()["error"]
    assert query(lambda: db.session.query(AgendaItem).count(), commit=False) == 0


def test_openapi_covers_the_conference_routes(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert {
        "/conferences",
        "/conferences/{conferenceId}",
        "/conferences/{conferenceId}/items",
        "/conferences/{conferenceId}/order",
    } <= set(doc["paths"])
