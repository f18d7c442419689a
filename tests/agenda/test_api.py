"""The conferences API: OParl field names, the same policy as the pages, German errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agenda.models import AgendaItem, Conference
from fallkonferenz.extensions import db
from tests.agenda.conftest import slot
from tests.factories import make_user


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


# -- date poll, state and responses over the API ----------------------------------------------------------------


def _new_conference(scene, ki, participants=("JC", "AA")) -> int:
    start, end = slot(5)
    people = [scene.ids[c] for c in participants]
    body = {"name": "Fallkonferenz April", "start": start, "end": end, "participants": people}
    created = ki.api("POST", "/api/v1/conferences", json=body)
    assert created.status_code == 201
    return created.get_json()["id"]


def _slots(*days: int) -> list[dict]:
    return [dict(zip(("start", "end"), slot(d), strict=True)) for d in days]


def test_api_date_poll_from_proposal_to_fixed_date(scene, clients, query):
    ki, jc, abh = clients["KI"], clients["JC"], clients["ABH"]
    cid = _new_conference(scene, ki)
    url = f"/api/v1/conferences/{cid}/poll"
    # bad proposals: one slot, a slot without a time, a list of words
    one = ki.api("POST", url, json={"slots": _slots(4)})
    assert one.status_code == 422 and "2 bis 8" in one.get_json()["errors"]["slots"]
    untimed = ki.api("POST", url, json={"slots": [{"start": "morgen"}, *_slots(5)]})
    assert untimed.status_code == 422 and set(untimed.get_json()["errors"]) == {"slots[0].start"}
    assert ki.api("POST", url, json={"slots": ["4", "5"]}).status_code == 422
    past = ki.api("POST", url, json={"slots": _slots(-2, 5)})
    assert past.status_code == 422 and set(past.get_json()["errors"]) == {"slots[0].start"}
    assert jc.api("POST", url, json={"slots": _slots(4, 5)}).status_code == 403
    created = ki.api("POST", url, json={"slots": _slots(4, 5)})
    assert created.status_code == 201
    poll = created.get_json()
    assert poll["fixed"] is False and poll["answers"] == [] and [s["yes"] for s in poll["slots"]] == [0, 0]
    first, second = (s["id"] for s in poll["slots"])
    assert ki.api("POST", url, json={"slots": _slots(6, 7)}).status_code == 409
    # an invitee sees the slots and her own answers, nobody else's, and that the date is not fixed
    doc = jc.get(f"/api/v1/conferences/{cid}").get_json()
    assert doc["polling"] is True
    assert [set(s) for s in doc["poll"]["slots"]] == [{"id", "start", "end", "passed", "myAnswer"}] * 2
    assert "answers" not in doc["poll"]
    answers = f"{url}/answers"
    for bad in ({"abc": "ja"}, {str(first): ["ja"]}, {str(first): "gern"}, {"999999": "ja"}, {}):
        refused = jc.api("PUT", answers, json={"answers": bad})
        assert refused.status_code == 422 and "answers" in refused.get_json()["errors"], bad
    assert jc.api("PUT", answers, json={"answers": "ja"}).status_code == 422
    assert abh.api("PUT", answers, json={"answers": {str(first): "ja"}}).status_code == 404  # not invited
    given = jc.api("PUT", answers, json={"answers": {str(first): "ja", str(second): "nein"}})
    assert given.status_code == 200
    assert [s["myAnswer"] for s in given.get_json()["slots"]] == ["ja", "nein"]
    # while the date is being found, the invitation is not answered yet
    early = jc.api("PUT", f"/api/v1/conferences/{cid}/response", json={"response": "zusage"})
    assert early.status_code == 409 and "Terminumfrage" in early.get_json()["error"]
    table = ki.get(f"/api/v1/conferences/{cid}").get_json()["poll"]
    assert [s["yes"] for s in table["slots"]] == [1, 0]
    assert {(a["slot"], a["person"], a["answer"]) for a in table["answers"]} == {
        (first, scene.ids["JC"], "ja"),
        (second, scene.ids["JC"], "nein"),
    }
    assert jc.api("POST", f"{url}/slots/{first}/fix").status_code == 403
    assert ki.api("POST", f"{url}/slots/999999/fix").status_code == 404
    fixed = ki.api("POST", f"{url}/slots/{first}/fix")
    assert fixed.status_code == 200
    meeting = fixed.get_json()
    assert meeting["polling"] is False and meeting["meetingState"] == "eingeladen"
    assert meeting["start"] == poll["slots"][0]["start"]
    assert ki.api("POST", f"{url}/slots/{second}/fix").status_code == 409
    late = jc.api("PUT", answers, json={"answers": {str(first): "nein"}})
    assert late.status_code == 409 and "steht bereits fest" in late.get_json()["error"]
    assert jc.get(f"/api/v1/conferences/{cid}").get_json()["poll"]["fixed"] is True


def test_api_a_passed_slot_is_not_fixed_and_a_poll_ends_without_a_date(scene, clients, query):
    ki, jc = clients["KI"], clients["JC"]
    cid = _new_conference(scene, ki)
    url = f"/api/v1/conferences/{cid}/poll"
    poll = ki.api("POST", url, json={"slots": _slots(4, 5)}).get_json()
    first = poll["slots"][0]["id"]

    def let_pass():
        from agenda.models import PollSlot

        db.session.get(PollSlot, first).start -= timedelta(days=10)

    query(let_pass)
    assert ki.get(f"/api/v1/conferences/{cid}").get_json()["poll"]["slots"][0]["passed"] is True
    passed = ki.api("POST", f"{url}/slots/{first}/fix")
    assert passed.status_code == 422 and "Vergangenheit" in " ".join(passed.get_json()["errors"].values())
    assert jc.api("DELETE", url).status_code == 403
    abh = clients["ABH"]  # not invited: the conference does not exist for her
    assert abh.api("DELETE", url).status_code == 404
    assert abh.api("POST", url, json={"slots": _slots(6, 7)}).status_code == 404
    assert abh.api("POST", f"/api/v1/conferences/{cid}/state", json={"meetingState": "abgesagt"}).status_code == 404
    assert ki.api("DELETE", url).status_code == 200
    assert ki.api("DELETE", url).status_code == 409
    doc = jc.get(f"/api/v1/conferences/{cid}").get_json()
    assert doc["polling"] is False and "poll" not in doc and doc["meetingState"] == "geplant"


def test_api_moves_the_meeting_state_and_takes_answers(scene, clients, query):
    ki, jc, aa = clients["KI"], clients["JC"], clients["AA"]
    cid = _new_conference(scene, ki)
    state, response = f"/api/v1/conferences/{cid}/state", f"/api/v1/conferences/{cid}/response"
    unknown = ki.api("POST", state, json={"meetingState": "vertagt"})
    assert unknown.status_code == 422 and set(unknown.get_json()["errors"]) == {"meetingState"}
    assert ki.api("POST", state, json={"meetingState": "beendet"}).status_code == 409  # not from "geplant"
    assert jc.api("POST", state, json={"meetingState": "eingeladen"}).status_code == 403
    invited = ki.api("POST", state, json={"meetingState": "eingeladen"})
    assert invited.status_code == 200 and invited.get_json()["meetingState"] == "eingeladen"
    yes = jc.api("PUT", response, json={"response": "zusage"})
    assert yes.status_code == 200 and yes.get_json() == {"response": "zusage", "takesPart": True}
    assert jc.api("PUT", response, json={"response": "offen"}).status_code == 422
    stranger = jc.api("PUT", response, json={"response": "vertretung", "substitute": scene.ids["AA"]})
    assert stranger.status_code == 422 and set(stranger.get_json()["errors"]) == {"substitute"}
    colleague = query(lambda: make_user("AA", username="aa.kollegin").id)
    handed = aa.api("PUT", response, json={"response": "vertretung", "substitute": colleague})
    assert handed.status_code == 200 and handed.get_json() == {"response": "vertretung", "takesPart": False}
    seats = ki.get(f"/api/v1/conferences/{cid}").get_json()["participants"]
    answered = {p["id"]: p["response"] for p in seats}
    assert answered[colleague] == "offen" and answered[scene.ids["AA"]] == "vertretung"
    assert clients["ABH"].api("PUT", response, json={"response": "zusage"}).status_code == 404
    unreasoned = ki.api("POST", state, json={"meetingState": "abgesagt"})
    assert unreasoned.status_code == 422 and set(unreasoned.get_json()["errors"]) == {"reason"}
    cancelled = ki.api("POST", state, json={"meetingState": "abgesagt", "reason": "Raum nicht verfügbar"})
    assert cancelled.status_code == 200 and cancelled.get_json()["cancelled"] is True
    over = jc.api("PUT", response, json={"response": "absage"})
    assert over.status_code == 409 and "abgesagt" in over.get_json()["error"]


def test_api_a_cancelled_conferences_poll_takes_no_answers(scene, clients, query):
    ki, jc = clients["KI"], clients["JC"]
    cid = _new_conference(scene, ki)
    poll = ki.api("POST", f"/api/v1/conferences/{cid}/poll", json={"slots": _slots(4, 5)}).get_json()
    cancel = {"meetingState": "abgesagt", "reason": "Fällt aus"}
    assert ki.api("POST", f"/api/v1/conferences/{cid}/state", json=cancel).status_code == 200
    answers = {"answers": {str(poll["slots"][0]["id"]): "ja"}}
    late = jc.api("PUT", f"/api/v1/conferences/{cid}/poll/answers", json=answers)
    assert late.status_code == 409
    doc = jc.get(f"/api/v1/conferences/{cid}").get_json()
    assert doc["cancelled"] is True and doc["polling"] is False
