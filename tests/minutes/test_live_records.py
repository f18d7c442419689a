"""Decisions, tasks and attendance recorded over HTTP reach the people in the minutes live, and only them.

Real python-socketio clients against a real server process; the records are posted through the forms, with a
logged-in session and the page's CSRF token, as a browser would.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests

from fallkonferenz.models import utcnow
from tests.minutes.live import CSRF_RE, Editor, login, two_processes, wait_for

QUIET = 0.6  # longer than any emit takes on this machine: what has not arrived by then is not coming


def _form_poster(url: str, http: requests.Session, conference: int):
    """Post forms as the minutes page does: with its CSRF token and `next` pointing back to it."""
    page = f"/konferenzen/{conference}/protokoll"
    token = CSRF_RE.search(http.get(url + page).text).group(1)

    def post(path: str, **data) -> requests.Response:
        return http.post(url + path, data={"csrf_token": token, "next": page, **data}, allow_redirects=False)

    return post


def test_a_decision_reaches_its_items_room_after_the_commit_and_no_one_without_consent(server):
    url, info = server
    aa = Editor(url, login(url, info["users"]["AA"]))  # the AA has consent for the case item
    jc = Editor(url, login(url, info["users"]["JC"]))  # the JC has not: it is never in that item's room
    text = "Therapieplatz bis Ende Maerz sichern"
    try:
        assert aa.join(info["closed"])["ok"] and aa.join(info["general"])["ok"]
        assert jc.join(info["closed"])["ok"] is False and jc.join(info["general"])["ok"]
        post = _form_poster(url, login(url, info["users"]["KI"]), info["conference"])
        resp = post(f"/protokoll/top/{info['closed']}/beschluss", text=text)
        assert resp.status_code == 302
        assert resp.headers["Location"].endswith(f"/konferenzen/{info['conference']}/protokoll")

        assert wait_for(lambda: aa.received("record"))
        (event,) = aa.received("record")
        assert event == {"item": info["closed"], "kind": "decision", "id": event["id"], "text": text}
        # Sent after the commit: whoever reacts to the event at once finds the decision stored.
        aa_http = login(url, info["users"]["AA"])
        assert text in aa_http.get(f"{url}/konferenzen/{info['conference']}/protokoll/ergebnisse").text
        # Only what the results page shows the room anyway: no case number, no client name.
        for secret in (info["case"], "Tesfay", "Senait"):
            assert not aa.heard(secret)

        # Whoever (re)joins the item gets its records with the text: nothing missed while offline.
        assert event in aa.join(info["closed"])["records"]
        assert "records" not in jc.join(info["closed"])

        time.sleep(QUIET)
        assert jc.received("record") == []
        assert not jc.heard("Therapieplatz")
    finally:
        aa.close()
        jc.close()


def test_a_task_and_its_completion_reach_everyone_in_the_item(server):
    url, info = server
    aa = Editor(url, login(url, info["users"]["AA"]))
    try:
        assert aa.join(info["general"])["ok"]
        due = utcnow().date() + timedelta(days=14)
        post = _form_poster(url, login(url, info["users"]["KI"]), info["conference"])
        resp = post(
            f"/protokoll/top/{info['general']}/aufgabe",
            text="Raum fuer Januar buchen",
            agency="JC",
            user=str(info["ids"]["JC"]),
            due=due.isoformat(),
        )
        assert resp.status_code == 302
        assert wait_for(lambda: aa.received("record"))
        (task,) = aa.received("record")
        assert task == {
            "item": info["general"],
            "kind": "task",
            "id": task["id"],
            "text": "Raum fuer Januar buchen",
            "agency": "JC",
            "person": info["names"]["JC"],
            "due": due.strftime("%d.%m.%Y"),
            "status": "offen",
            "done": False,
            "overdue": False,
        }

        # The JC ticks it off from the minutes page: the others see it done.
        done = _form_poster(url, login(url, info["users"]["JC"]), info["conference"])
        resp = done(f"/aufgaben/{task['id']}/erledigt")
        assert resp.status_code == 302
        assert resp.headers["Location"].endswith(f"/konferenzen/{info['conference']}/protokoll")
        assert wait_for(lambda: len(aa.received("record")) == 2)
        assert aa.received("record")[1] == task | {"status": "erledigt", "done": True}
        # Opened again (a click by mistake): the others see it open again
        assert done(f"/aufgaben/{task['id']}/wieder-offen").status_code == 302
        assert wait_for(lambda: len(aa.received("record")) == 3)
        assert aa.received("record")[2] == task
        # Given to the AA with a later date (a deadline moved): the others see the line as it reads now
        later = due + timedelta(days=7)
        assert done(f"/aufgaben/{task['id']}/aendern", agency="AA", user="", due=later.isoformat()).status_code == 302
        assert wait_for(lambda: len(aa.received("record")) == 4)
        assert aa.received("record")[3] == task | {"agency": "AA", "person": None, "due": later.strftime("%d.%m.%Y")}
        # Taken back by the moderator (recorded by mistake): the others hear that it is gone
        assert post(f"/protokoll/task/{task['id']}/zurueckziehen").status_code == 302
        assert wait_for(lambda: len(aa.received("record")) == 5)
        assert aa.received("record")[4] == {
            "item": info["general"],
            "kind": "task",
            "id": task["id"],
            "withdrawn": True,
        }
        assert not aa.heard(info["case"])
    finally:
        aa.close()


def test_refused_records_announce_nothing(server):
    url, info = server
    aa = Editor(url, login(url, info["users"]["AA"]))
    try:
        assert aa.join(info["closed"])["ok"] and aa.join(info["general"])["ok"]
        ki = _form_poster(url, login(url, info["users"]["KI"]), info["conference"])
        jc = _form_poster(url, login(url, info["users"]["JC"]), info["conference"])
        assert ki(f"/protokoll/top/{info['general']}/beschluss", text="   ").status_code == 422
        assert ki(f"/protokoll/top/{info['general']}/aufgabe", text="Ohne Stelle", agency="XY").status_code == 422
        for person in ("abc", "0", "-1", "٣"):  # not "no person": the form offers none of these
            refused = ki(f"/protokoll/top/{info['general']}/aufgabe", text="Wer?", agency="KI", user=person)
            assert refused.status_code == 422 and "Unbekannte Person" in refused.text, person
        # The JC may not record on the case item closed to it, not even blindly.
        assert jc(f"/protokoll/top/{info['closed']}/beschluss", text="Blind festgehalten").status_code == 404
        # Nor tick off a task of another agency.
        task = ki(f"/protokoll/top/{info['general']}/aufgabe", text="Protokoll versenden", agency="KI")
        assert task.status_code == 302
        assert wait_for(lambda: aa.received("record"))
        (added,) = aa.received("record")
        assert jc(f"/aufgaben/{added['id']}/erledigt").status_code == 404
        time.sleep(QUIET)
        assert aa.received("record") == [added]
        assert not aa.heard("Blind festgehalten") and not aa.heard("Ohne Stelle")
    finally:
        aa.close()


def test_attendance_reaches_every_participant_with_the_minutes_open_once(server):
    url, info = server
    aa = Editor(url, login(url, info["users"]["AA"]))  # in both item rooms
    jc = Editor(url, login(url, info["users"]["JC"]))  # in the general item's room only
    try:
        assert aa.join(info["closed"])["ok"] and aa.join(info["general"])["ok"]
        assert jc.join(info["general"])["ok"]
        ki = _form_poster(url, login(url, info["users"]["KI"]), info["conference"])
        resp = ki(
            f"/konferenzen/{info['conference']}/protokoll/anwesenheit",
            **{f"user-{info['ids']['AA']}": "anwesend", f"user-{info['ids']['JC']}": "entschuldigt"},
            **{f"user-{info['ids']['ABH']}": ""},  # not recorded yet: left as it is
        )
        assert resp.status_code == 302
        expected = {
            "conference": info["conference"],
            "attendance": [
                {"user": info["ids"]["AA"], "status": "anwesend"},
                {"user": info["ids"]["JC"], "status": "entschuldigt"},
            ],
        }
        for editor in (aa, jc):
            assert wait_for(lambda editor=editor: editor.received("attendance"))
        time.sleep(QUIET)
        for editor in (aa, jc):
            (event,) = editor.received("attendance")  # once, though the AA is in two of the rooms
            event["attendance"].sort(key=lambda row: row["user"])
            expected["attendance"].sort(key=lambda row: row["user"])
            assert event == expected
        # Only the moderation records attendance; a refused attempt announces nothing.
        jc_post = _form_poster(url, login(url, info["users"]["JC"]), info["conference"])
        refused = jc_post(
            f"/konferenzen/{info['conference']}/protokoll/anwesenheit", **{f"user-{info['ids']['JC']}": "anwesend"}
        )
        assert refused.status_code == 403
        time.sleep(QUIET)
        assert len(aa.received("attendance")) == 1 and len(jc.received("attendance")) == 1
    finally:
        aa.close()
        jc.close()


@pytest.mark.redis
def test_a_decision_recorded_on_one_process_reaches_a_socket_on_the_other(server):
    """Scale-out: the emit after the commit goes through the message queue to every process's sockets."""
    _url, info = server
    with two_processes(info["instance"]) as (one, two):
        aa = Editor(two, login(two, info["users"]["AA"]))
        jc = Editor(two, login(two, info["users"]["JC"]))
        try:
            assert aa.join(info["closed"])["ok"] and jc.join(info["general"])["ok"]
            post = _form_poster(one, login(one, info["users"]["KI"]), info["conference"])
            assert post(f"/protokoll/top/{info['closed']}/beschluss", text="Ueber Redis beschlossen").status_code == 302
            assert wait_for(lambda: aa.received("record"))
            assert aa.received("record")[0]["text"] == "Ueber Redis beschlossen"
            time.sleep(QUIET)
            assert not jc.heard("Ueber Redis")
        finally:
            aa.close()
            jc.close()


def test_closing_and_reopening_reach_the_open_minutes_pages_at_once(server):
    """Last in this module: the minutes are closed for good here. Open pages hear it when it happens, not with
    their next refused keystroke."""
    url, info = server
    aa = Editor(url, login(url, info["users"]["AA"]))
    jc = Editor(url, login(url, info["users"]["JC"]))
    try:
        assert aa.join(info["closed"])["ok"] and aa.join(info["general"])["ok"] and jc.join(info["general"])["ok"]
        ki = _form_poster(url, login(url, info["users"]["KI"]), info["conference"])
        conference = f"/konferenzen/{info['conference']}"
        for state in ("eingeladen", "laeuft"):
            assert ki(f"{conference}/status", state=state).status_code == 302
        assert ki(f"{conference}/protokoll/abschliessen").status_code == 302
        closed = {"conference": info["conference"], "closed": True}
        for editor in (aa, jc):
            assert wait_for(lambda editor=editor: editor.received("closing") == [closed])  # once, not per room
        refused = aa.type(info["general"], "nach dem Abschluss", "after-close")
        assert refused["ok"] is False and refused["status"] == 409
        assert ki(f"{conference}/protokoll/wiedereroeffnen").status_code == 302
        assert wait_for(lambda: jc.received("closing")[-1:] == [{"conference": info["conference"], "closed": False}])
    finally:
        aa.close()
        jc.close()
