"""Changing what a goal of the integration plan says: its writer's agency only, under the rules for a new goal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, Goal, User, utcnow
from tests.factories import PASSWORD, make_case, make_consent


@pytest.fixture
def plan(world, query, client_for):
    """A KI case shared with JC for Wohnen and Leistungen; one goal of KI's (Wohnen, for KI), one of JC's."""

    def setup():
        ki = User.query.filter_by(username=world["KI"]).one()
        case = make_case(ki)
        make_consent(case, ki, [("JC", "leistungen"), ("JC", "stammdaten")])
        agencies = {code: User.query.filter_by(username=world[code]).one().agency_id for code in ("KI", "JC", "AA")}
        return case.number, agencies

    number, agencies = query(setup)
    ki, jc = client_for(world["KI"], PASSWORD), client_for(world["JC"], PASSWORD)
    in_a_month = (utcnow().date() + timedelta(days=30)).isoformat()
    goal = {"title": "Wohnung finden", "field": "wohnen", "status": "offen", "due_date": in_a_month}
    assert ki.post(f"/faelle/{number}/ziele", data=goal | {"responsible_agency_id": agencies["KI"]}).status_code == 302
    own = {"title": "Leistungsbescheid klären", "field": "wohnen", "status": "offen"}
    assert jc.post(f"/faelle/{number}/ziele", data=own | {"responsible_agency_id": agencies["JC"]}).status_code == 302
    ids = query(lambda: [g.id for g in db.session.query(Goal).order_by(Goal.id)], commit=False)
    return {"number": number, "agencies": agencies, "ki": ki, "jc": jc, "ki_goal": ids[0], "jc_goal": ids[1]}


def _goal(query, gid):
    return query(
        lambda: (lambda g: (g.title, g.field, g.responsible_agency_id, g.due_date))(db.session.get(Goal, gid)),
        commit=False,
    )


def test_the_writer_changes_title_date_and_agency_and_a_passed_date_may_stay(plan, query):
    ki, number, gid = plan["ki"], plan["number"], plan["ki_goal"]
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    edit_url = f"/faelle/{number}/ziele/{gid}/bearbeiten"
    assert edit_url in page and f"/ziele/{plan['jc_goal']}/bearbeiten" not in page  # only her agency's goals
    form = ki.get(edit_url)
    assert form.status_code == 200 and 'value="Wohnung finden"' in form.get_data(as_text=True)
    later = (utcnow().date() + timedelta(days=90)).isoformat()
    data = {
        "title": "Eigene Wohnung finden",
        "field": "wohnen",
        "responsible_agency_id": plan["agencies"]["JC"],
        "due_date": later,
    }
    resp = ki.post(edit_url, data=data, follow_redirects=True)
    assert resp.status_code == 200 and "Das Ziel wurde geändert." in resp.get_data(as_text=True)
    assert _goal(query, gid) == (
        "Eigene Wohnung finden",
        "wohnen",
        plan["agencies"]["JC"],
        utcnow().date() + timedelta(days=90),
    )
    event = query(lambda: db.session.query(AuditEvent).filter_by(action="goal.update").one().detail, commit=False)
    assert '"fields":["title","responsible_agency_id","due_date"]' in event

    def date_passes():
        db.session.get(Goal, gid).due_date = utcnow().date() - timedelta(days=3)

    query(date_passes)
    # the date that passed may stay while the title changes; nothing else changed, nothing else is recorded
    kept = ki.post(edit_url, data=data | {"title": "Wohnung finden", "due_date": _goal(query, gid)[3].isoformat()})
    assert kept.status_code == 302 and _goal(query, gid)[0] == "Wohnung finden"
    same = ki.post(
        edit_url,
        data=data | {"title": "Wohnung finden", "due_date": _goal(query, gid)[3].isoformat()},
        follow_redirects=True,
    )
    assert "Keine Änderung" in same.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Dieses Feld ist erforderlich."),
        ({"title": "x" * 501}, "title", "500"),
        ({"due_date": "01.01.2020"}, "due_date", "Das Zieldatum darf nicht in der Vergangenheit liegen."),
        ({"due_date": "31.02.2027"}, "due_date", ""),
        ({"field": "gesundheit"}, "responsible_agency_id", "keine Einwilligung für „Gesundheit"),
        ({"field": "zauberei"}, "field", ""),
        ({"responsible_agency_id": "AA"}, "responsible_agency_id", "keine Einwilligung"),
    ],
)
def test_a_refused_change_keeps_what_was_typed_and_changes_nothing(plan, query, change, field, message):
    ki, number, gid = plan["ki"], plan["number"], plan["ki_goal"]
    before = _goal(query, gid)
    data = {
        "title": "Neuer Titel",
        "field": "wohnen",
        "responsible_agency_id": plan["agencies"]["JC"],
        "due_date": "",
    } | change
    if data["responsible_agency_id"] == "AA":
        data["responsible_agency_id"] = plan["agencies"]["AA"]
    resp = ki.post(f"/faelle/{number}/ziele/{gid}/bearbeiten", data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body and "Traceback" not in body
    assert f'id="{field}-error"' in body
    if change.get("title", "Neuer Titel") == "Neuer Titel":
        assert 'value="Neuer Titel"' in body  # kept
    assert _goal(query, gid) == before


def test_other_agencies_change_the_status_but_not_what_the_goal_says(plan, query, client_for, world):
    jc, number, gid = plan["jc"], plan["number"], plan["ki_goal"]
    assert "Wohnung finden" in jc.get(f"/faelle/{number}").get_data(as_text=True)
    refused = jc.get(f"/faelle/{number}/ziele/{gid}/bearbeiten")
    assert refused.status_code == 403 and "die Stelle, die es angelegt hat" in refused.get_data(as_text=True)
    data = {"title": "Anders", "field": "wohnen", "responsible_agency_id": plan["agencies"]["JC"], "due_date": ""}
    assert jc.post(f"/faelle/{number}/ziele/{gid}/bearbeiten", data=data).status_code == 403
    assert _goal(query, gid)[0] == "Wohnung finden"
    assert jc.post(f"/faelle/{number}/ziele/{gid}/status", data={"status": "in_arbeit"}).status_code == 302
    # an agency without consent learns nothing: not even that the goal exists
    aa = client_for(world["AA"], PASSWORD)
    assert aa.get(f"/faelle/{number}/ziele/{gid}/bearbeiten").status_code == 404
    assert aa.api("PATCH", f"/api/v1/cases/{number}/goals/{gid}", json={"title": "x"}).status_code == 404
    # nor does a goal of another case open through this one
    assert plan["ki"].get(f"/faelle/{number}/ziele/999999/bearbeiten").status_code == 404


def test_the_api_changes_a_goal_in_part_or_refuses_in_german(plan, query):
    ki, jc, number, gid = plan["ki"], plan["jc"], plan["number"], plan["ki_goal"]
    url = f"/api/v1/cases/{number}/goals/{gid}"
    resp = ki.api("PATCH", url, json={"title": "Wohnung im Quartier finden", "dueDate": None, "status": "in_arbeit"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["title"], body["dueDate"], body["status"], body["field"]) == (
        "Wohnung im Quartier finden",
        None,
        "in_arbeit",
        "wohnen",
    )
    assert ki.api("PATCH", url, json={}).status_code == 422
    bad = ki.api("PATCH", url, json={"responsibleAgency": "XY", "status": "erreicht"})
    assert bad.status_code == 422 and "responsibleAgency" in bad.get_json()["errors"]
    assert query(lambda: db.session.get(Goal, gid).status, commit=False) == "in_arbeit"  # nothing of it applied
    assert ki.api("PATCH", url, json={"dueDate": "2020-01-01"}).get_json()["errors"] == {
        "dueDate": "Das Zieldatum darf nicht in der Vergangenheit liegen."
    }
    assert jc.api("PATCH", url, json={"title": "x"}).status_code == 403
    assert jc.api("PATCH", url, json={"status": "erreicht"}).get_json()["status"] == "erreicht"


def test_a_goal_of_an_agency_deactivated_since_keeps_it_when_its_title_changes(plan, query):
    from fallkonferenz.auth import service as auth_service

    ki, number = plan["ki"], plan["number"]
    jc_goal = {"title": "Bescheid abwarten", "field": "wohnen", "status": "offen"}
    added = ki.post(f"/faelle/{number}/ziele", data=jc_goal | {"responsible_agency_id": plan["agencies"]["JC"]})
    assert added.status_code == 302
    gid = query(lambda: db.session.query(Goal.id).order_by(Goal.id.desc()).limit(1).scalar(), commit=False)
    query(lambda: auth_service.set_agency_active("JC", False))
    form = ki.get(f"/faelle/{number}/ziele/{gid}/bearbeiten").get_data(as_text=True)
    assert f'<option selected value="{plan["agencies"]["JC"]}">' in form  # still offered, and chosen
    data = {"title": "Bescheid abwarten (Widerspruch)", "field": "wohnen", "due_date": ""}
    resp = ki.post(
        f"/faelle/{number}/ziele/{gid}/bearbeiten", data=data | {"responsible_agency_id": plan["agencies"]["JC"]}
    )
    assert resp.status_code == 302
    assert _goal(query, gid)[:3] == ("Bescheid abwarten (Widerspruch)", "wohnen", plan["agencies"]["JC"])
