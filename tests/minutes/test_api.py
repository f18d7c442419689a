"""The tasks API: the dashboard's "Meine Aufgaben" and the task changes of the pages, as JSON, by the same rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from agenda.models import Task
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, utcnow
from tests.factories import PASSWORD, make_user
from tests.minutes.test_records import _agency, _jc_task


def _listed(client, query: str = "") -> dict[str, dict]:
    answer = client.get(f"/api/v1/tasks{query}")
    assert answer.status_code == 200
    return {t["text"]: t for t in answer.get_json()["items"]}


def test_api_lists_my_tasks_with_the_case_and_the_conference_only_where_they_may_be_named(
    scene, clients, client_for, planned, running, query
):
    ki, jc = clients["KI"], clients["JC"]
    task_id, _ = _jc_task(ki, planned, running, query, "Bescheid prüfen")
    listed = _listed(jc)["Bescheid prüfen"]
    assert listed["id"] == task_id and listed["agency"] == "JC" and listed["person"] == "ganze Stelle"
    assert listed["case"] == scene.open_case and listed["status"] == "offen" and listed["overdue"] is False
    assert listed["conference"] == {"id": planned, "name": "Fallkonferenz Musterstadt"}
    # a colleague at JC who does not take part sees the agency's task, but not where it was set
    colleague = query(lambda: make_user("JC", username="jc.kollegin").username)
    seen = _listed(client_for(colleague, PASSWORD))["Bescheid prüfen"]
    assert "conference" not in seen and seen["case"] == scene.open_case
    # ABH shares neither the case nor the task; AA's list does not hold JC's task
    assert "Bescheid prüfen" not in _listed(clients["ABH"]) and "Bescheid prüfen" not in _listed(clients["AA"])
    # the list of a case's tasks is a read of case data, on record
    logged = query(
        lambda: db.session.scalars(select(AuditEvent).where(AuditEvent.action == "task.list")).all(), commit=False
    )
    assert logged
    refused = jc.get("/api/v1/tasks?mine=ja")
    assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {"mine"}
    assert "Bescheid prüfen" in _listed(jc, "?mine=true")  # a task of the whole agency is hers too


def test_api_ticks_off_reopens_and_changes_a_task(scene, clients, planned, running, query):
    ki, jc, aa, abh = clients["KI"], clients["JC"], clients["AA"], clients["ABH"]
    task_id, _ = _jc_task(ki, planned, running, query, "Praktikum suchen")
    url = f"/api/v1/tasks/{task_id}"
    for action in ("done", "reopen"):  # not its task, nor its case
        assert abh.api("POST", f"{url}/{action}").status_code == 404
    done = jc.api("POST", f"{url}/done")
    assert done.status_code == 200 and done.get_json()["status"] == "erledigt" and done.get_json()["doneAt"]
    closed = jc.api("PATCH", url, json={"dueDate": "2099-01-01"})
    assert closed.status_code == 409 and "wieder" in closed.get_json()["error"]
    reopened = jc.api("POST", f"{url}/reopen")
    assert reopened.get_json() == {"id": task_id, "status": "offen", "doneAt": None}
    later = (utcnow().date() + timedelta(days=14)).isoformat()
    for body, field in (
        ({"dueDate": "2020-01-01"}, "dueDate"),
        ({"dueDate": "14.02.2027"}, "dueDate"),
        ({"agency": "ABH"}, "agency"),  # no consent for the case: it would never see the task
        ({"agency": "XY"}, "agency"),
        ({"personId": scene.ids["AA"]}, "personId"),
        ({"personId": "AA"}, "personId"),
        ({"agency": 7}, "agency"),
    ):
        refused = jc.api("PATCH", url, json=body)
        assert refused.status_code == 422 and field in refused.get_json()["errors"], body
    unchanged = query(lambda: db.session.get(Task, task_id), commit=False)
    assert (unchanged.responsible_agency_id, unchanged.due_date) == (_agency(query, scene, "JC"), None)
    dated = jc.api("PATCH", url, json={"dueDate": later})
    assert dated.status_code == 200 and dated.get_json()["changed"] == ["due_date"]
    assert jc.api("PATCH", url, json={"dueDate": later}).get_json()["changed"] == []
    moved = jc.api("PATCH", url, json={"agency": "aa"})
    assert moved.status_code == 200 and moved.get_json()["changed"] == ["responsible_agency_id"]
    # it is AA's now, with its date: JC finds it no more, AA and the moderator do
    assert jc.api("POST", f"{url}/done").status_code == 404
    assert _listed(aa)["Praktikum suchen"]["dueDate"] == later
    named = ki.api("PATCH", url, json={"personId": scene.ids["AA"]})
    assert named.status_code == 200 and named.get_json()["changed"] == ["responsible_user_id"]
    assert _listed(aa)["Praktikum suchen"]["person"] == "Sie"
    assert ki.api("PATCH", "/api/v1/tasks/999999", json={}).status_code == 404


def test_api_gives_a_conferences_results_as_far_as_each_agency_may_see_them(scene, clients, planned, running, query):
    ki, jc, abh = clients["KI"], clients["JC"], clients["ABH"]
    assert ki.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "Kita-Platz beantragen"}).status_code
    assert ki.post(f"/protokoll/top/{running['closed']}/beschluss", data={"text": "Therapie fortsetzen"}).status_code
    _jc_task(ki, planned, running, query, "Bescheid prüfen")
    url = f"/api/v1/conferences/{planned}/results"

    def by_id(answer) -> dict[int, dict]:
        return {item["id"]: item for item in answer["items"]}

    seen = jc.get(url)
    assert seen.status_code == 200
    answer = seen.get_json()
    assert answer["closed"] is False and answer["final"] is False
    items = by_id(answer)
    assert [d["text"] for d in items[running["open"]]["decisions"]] == ["Kita-Platz beantragen"]
    (task,) = items[running["open"]]["tasks"]
    assert (task["text"], task["agency"], task["status"], task["dueDate"]) == ("Bescheid prüfen", "JC", "offen", None)
    # the closed case's item (consent for AA only): its number, nothing of what was decided
    assert items[running["closed"]] == {
        "id": running["closed"],
        "number": items[running["closed"]]["number"],
        "confidential": True,
    }
    assert "Therapie" not in seen.get_data(as_text=True)
    # ABH has no consent for either case: both items are numbers only
    for_abh = by_id(abh.get(url).get_json())
    assert for_abh[running["open"]]["confidential"] is True and "decisions" not in for_abh[running["open"]]
    assert [d["text"] for d in by_id(ki.get(url).get_json())[running["closed"]]["decisions"]] == ["Therapie fortsetzen"]
    assert {a["agency"] for a in answer["attendance"]} == {"KI", "JC", "AA", "ABH"}
    assert clients["JA"].get(url).status_code == 404  # not invited: the conference does not exist for JA


def test_api_gives_a_cases_decisions_and_tasks_to_its_team(scene, clients, planned, running, query):
    ki = clients["KI"]
    assert ki.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "Kita-Platz beantragen"}).status_code
    _jc_task(ki, planned, running, query, "Bescheid prüfen")
    url = f"/api/v1/cases/{scene.open_case}/records"
    for code in ("KI", "JC", "AA"):  # the lead agency and the agencies the consent shares the case with
        answer = clients[code].get(url)
        assert answer.status_code == 200, code
        found = answer.get_json()
        assert [d["text"] for d in found["decisions"]] == ["Kita-Platz beantragen"]
        (task,) = found["tasks"]
        assert (task["text"], task["agency"], task["status"]) == ("Bescheid prüfen", "JC", "offen")
        assert task["conference"]["id"] == planned and found["moreTasks"] is False
    assert clients["ABH"].get(url).status_code == 404  # no consent: not even the case
    reads = query(
        lambda: db.session.query(AuditEvent).filter_by(action="case.read", purpose="API").count(), commit=False
    )
    assert reads >= 3


def test_api_gives_no_task_to_a_deactivated_agency(scene, clients, planned, running, query):
    from fallkonferenz.models import Agency

    ki = clients["KI"]
    sent = ki.post(f"/protokoll/top/{running['general']}/aufgabe", data={"text": "Raum buchen", "agency": "JC"})
    assert sent.status_code == 302
    task_id = query(lambda: db.session.query(Task.id).order_by(Task.id.desc()).limit(1).scalar(), commit=False)
    query(lambda: setattr(db.session.query(Agency).filter_by(code="ABH").one(), "active", False))
    refused = ki.api("PATCH", f"/api/v1/tasks/{task_id}", json={"agency": "ABH"})
    assert refused.status_code == 422 and "deaktiviert" in refused.get_json()["errors"]["agency"]
    assert query(lambda: db.session.get(Task, task_id).responsible_agency.code, commit=False) == "JC"
