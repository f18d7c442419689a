"""Attendance, decisions, tasks, closing, approval by every agency, addenda and the per-agency export."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from pycrdt import Doc, Text
from sqlalchemy import select

from agenda import items
from agenda.models import AgendaItem, Conference, Decision, Task
from fallkonferenz.casecrypto import keyring, open_texts
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, UserSession, utcnow
from minutes import records, service
from minutes.models import Attendance, MinutesApproval, MinutesClosure
from tests.agenda.conftest import user
from tests.factories import make_case, make_user


def test_my_tasks_name_who_is_responsible_and_leave_out_a_colleagues_on_request(scene, clients, running, query):
    """A Jobcenter has many case workers: its list says whose each task is, and can leave out the colleagues'."""
    colleague = query(lambda: make_user("JC", username="jc.kollegin").id)
    ki, jc = clients["KI"], clients["JC"]
    for text, person in (("Fahrtkosten prüfen", scene.ids["JC"]), ("Bescheid erklären", colleague), ("Akte", "")):
        sent = ki.post(
            f"/protokoll/top/{running['open']}/aufgabe", data={"text": text, "agency": "JC", "user": str(person)}
        )
        assert sent.status_code == 302, text

    def row_of(page: str, text: str) -> str:
        found = re.search(r"<tr[^>]*><td>" + re.escape(text) + r".*?</tr>", page, re.S)
        assert found, text
        return found.group(0)

    every = jc.get("/").get_data(as_text=True)
    assert '<th scope="col">Zuständig</th>' in every
    assert "<td>Sie</td>" in row_of(every, "Fahrtkosten prüfen")
    assert f"<td>{query(lambda: user('jc.kollegin').display_name, commit=False)}</td>" in row_of(
        every, "Bescheid erklären"
    )
    assert "<td>ganze Stelle</td>" in row_of(every, "Akte")
    assert '<strong aria-current="page">Alle Aufgaben meiner Stelle</strong>' in every

    mine = jc.get("/?aufgaben=meine").get_data(as_text=True)
    assert "Fahrtkosten prüfen" in mine and "Akte" in mine and "Bescheid erklären" not in mine
    assert '<strong aria-current="page">Ohne die Aufgaben von Kolleginnen und Kollegen</strong>' in mine
    # ticking one off from the narrowed list comes back to it
    (task_id,) = query(lambda: [_task("Akte").id], commit=False)
    done = jc.post(f"/aufgaben/{task_id}/erledigt", data={"next": "/?aufgaben=meine"})
    assert done.status_code == 302 and done.headers["Location"] == "/?aufgaben=meine"
    assert 'name="next" value="/?aufgaben=meine"' in jc.get("/?aufgaben=meine").get_data(as_text=True)

    # an unknown choice: a German note, the whole list, nothing lost
    odd = jc.get("/", query_string={"aufgaben": "<b>alle</b>"})
    page = odd.get_data(as_text=True)
    assert odd.status_code == 400 and "Die Auswahl „&lt;b&gt;alle&lt;/b&gt;“ gibt es nicht" in page
    assert "Bescheid erklären" in page and "Fahrtkosten prüfen" in page


def test_the_case_page_says_when_it_shows_only_the_latest_decisions_and_tasks(scene, clients, running, query):
    ki, jc = clients["KI"], clients["JC"]
    item = f"/protokoll/top/{running['open']}"
    for n in range(1, records.CASE_RECORDS_SHOWN + 1):
        assert ki.post(f"{item}/beschluss", data={"text": f"Beschluss {n:02d}"}).status_code == 302
        assert ki.post(f"{item}/aufgabe", data={"text": f"Aufgabe {n:02d}", "agency": "JC"}).status_code == 302
    page = jc.get(f"/faelle/{scene.open_case}").get_data(as_text=True)
    assert "Beschluss 30" in page and "Aufgabe 30" in page
    assert "Es werden 30" not in page  # all of them are there
    assert ki.post(f"{item}/beschluss", data={"text": "Beschluss 31"}).status_code == 302
    assert ki.post(f"{item}/aufgabe", data={"text": "Aufgabe 31", "agency": "JC"}).status_code == 302
    page = jc.get(f"/faelle/{scene.open_case}").get_data(as_text=True)
    assert len(re.findall(r"Beschluss \d\d", page)) == 30 and len(re.findall(r"Aufgabe \d\d</td>", page)) == 30
    assert "Beschluss 31" in page and "Beschluss 01" not in page  # the newest are shown
    assert "Aufgabe 31" in page and "Aufgabe 01" not in page
    assert page.index("Beschluss 31") < page.index("Beschluss 30")
    assert "Es werden die neuesten 30 Beschlüsse gezeigt; alle stehen in den Ergebnissen" in page
    assert "Es werden 30 Aufgaben gezeigt, offene und neueste zuerst; alle stehen in den Ergebnissen" in page
    assert f'<a href="/faelle/{scene.open_case}/konferenzen">Konferenzen zu diesem Fall</a>' in page


def test_a_task_is_ticked_off_on_the_results_page_where_its_links_lead(scene, clients, planned, running, query):
    ki, jc, aa = clients["KI"], clients["JC"], clients["AA"]
    task_id, results = _jc_task(ki, planned, running, query, "Wohngeld beantragen")
    button = f'action="/aufgaben/{task_id}/erledigt"'
    # the task's agency and the moderator may tick it off; another agency of the case team reads it only
    assert button in jc.get(results).get_data(as_text=True) and button in ki.get(results).get_data(as_text=True)
    page = aa.get(results).get_data(as_text=True)
    assert "Wohngeld beantragen" in page and button not in page
    assert aa.post(f"/aufgaben/{task_id}/erledigt", data={"next": results}).status_code == 404  # not its task
    back = f"{results}#top-{running['open']}"
    assert f'name="next" value="{back}"' in jc.get(results).get_data(as_text=True)
    done = jc.post(f"/aufgaben/{task_id}/erledigt", data={"next": back})
    assert done.status_code == 302 and done.headers["Location"] == back
    page = jc.get(results).get_data(as_text=True)
    assert "Wohngeld beantragen – JC (erledigt)" in page and button not in page


def _jc_task(ki, planned, running, query, text: str) -> tuple[int, str]:
    """The moderator sets JC a task on the open case's item: its id, and the results page's address."""
    sent = ki.post(f"/protokoll/top/{running['open']}/aufgabe", data={"text": text, "agency": "JC"})
    assert sent.status_code == 302
    return query(lambda: _task(text).id, commit=False), f"/konferenzen/{planned}/protokoll/ergebnisse"


def _task(description: str) -> Task:
    """The task of this description; a case's task is sealed in the database, so they are opened to find it."""
    (task,) = [t for t in open_texts(db.session.scalars(select(Task))) if t.description == description]
    return task


def test_decisions_tasks_and_my_tasks_with_overdue_first(scene, clients, planned, running, query):
    ki, jc = clients["KI"], clients["JC"]
    assert (
        ki.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "Sprachkurs beantragen"}).status_code
        == 302
    )
    soon = (utcnow().date() + timedelta(days=3)).isoformat()
    later = (utcnow().date() + timedelta(days=1)).strftime("%d.%m.%Y")  # typed as people write dates
    for text, due in (("Kita-Platz klären", soon), ("Bescheid prüfen", later)):
        resp = ki.post(f"/protokoll/top/{running['open']}/aufgabe", data={"text": text, "agency": "JC", "due": due})
        assert resp.status_code == 302

    def let_days_pass():  # the task was due three days ago
        task = _task("Bescheid prüfen")
        task.due_date = utcnow().date() - timedelta(days=3)

    query(let_days_pass)
    assert (
        ki.post(
            f"/protokoll/top/{running['closed']}/aufgabe", data={"text": "Therapie begleiten", "agency": "AA"}
        ).status_code
        == 302
    )
    dashboard = jc.get("/").get_data(as_text=True)
    assert dashboard.index("Bescheid prüfen") < dashboard.index("Kita-Platz klären")
    # tasks of a case are case data: the list is on record with the cases it showed
    from fallkonferenz.models import AuditEvent

    listed = query(
        lambda: (
            db.session.query(AuditEvent.actor_id, AuditEvent.detail)
            .filter_by(action="task.list")
            .order_by(AuditEvent.id.desc())
            .first()
        ),
        commit=False,
    )
    assert listed is not None and listed[0] == scene.ids["JC"] and '"cases":[' in listed[1]
    assert "(überfällig)" in dashboard and "Therapie begleiten" not in dashboard
    # The task is overdue wherever it is listed, and only that one: in the minutes, the results and on the case.
    overdue = re.compile(r'<strong class="overdue">\(überfällig\)</strong>')
    for url, status in (
        (f"/konferenzen/{planned}/protokoll", r"\(<span data-status>offen</span>\)</span>"),  # the live page's line
        (f"/konferenzen/{planned}/protokoll/ergebnisse", r"\(offen\)"),
    ):
        page = jc.get(url).get_data(as_text=True)
        line = re.search(r"Bescheid prüfen – JC[^<]*" + status, page)
        assert line and overdue.match(page, line.end() + 1), url
        assert len(overdue.findall(page)) == 1, url
    case_page = jc.get(f"/faelle/{scene.open_case}").get_data(as_text=True)
    assert len(overdue.findall(case_page)) == 1 and '<tr class="warn"><td class="text">Bescheid prüfen' in case_page
    # Each task says where it was set: JC takes part and can open the results there.
    results = f'href="/konferenzen/{planned}/protokoll/ergebnisse#top-{running["open"]}">Fallkonferenz Musterstadt<span'
    assert results in dashboard
    general = {"text": "Raum für die Sprechstunde klären", "agency": "JA"}
    assert ki.post(f"/protokoll/top/{running['general']}/aufgabe", data=general).status_code == 302
    ja = clients["JA"].get("/").get_data(as_text=True)  # JA's task, but JA does not take part: not named
    assert "Raum für die Sprechstunde klären" in ja and "Fallkonferenz Musterstadt" not in ja
    assert f"/konferenzen/{planned}" not in ja
    page = jc.get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Sprachkurs beantragen" in page and "Therapie begleiten" not in page
    # JC cannot record anything on the item closed to it.
    assert jc.post(f"/protokoll/top/{running['closed']}/beschluss", data={"text": "x"}).status_code == 404
    task_id = query(lambda: _task("Bescheid prüfen").id, commit=False)
    assert jc.post(f"/aufgaben/{task_id}/erledigt", data={"next": "/"}).status_code == 302
    # Ticked off, it leaves the open tasks; for a day it can be opened again, in case the click was a mistake
    dashboard = jc.get("/").get_data(as_text=True)
    done = dashboard[dashboard.index("Seit gestern erledigt") :]
    assert "Bescheid prüfen" not in dashboard[: dashboard.index("Seit gestern erledigt")]
    assert "Bescheid prüfen" in done and f'action="/aufgaben/{task_id}/wieder-offen"' in done
    assert clients["ABH"].post(f"/aufgaben/{task_id}/wieder-offen").status_code == 404  # not ABH's
    assert jc.post(f"/aufgaben/{task_id}/wieder-offen", data={"next": "/"}).status_code == 302
    dashboard = jc.get("/").get_data(as_text=True)
    assert "Bescheid prüfen" in dashboard and "Seit gestern erledigt" not in dashboard
    assert query(lambda: (_task("Bescheid prüfen").status, _task("Bescheid prüfen").done_at), commit=False) == (
        "offen",
        None,
    )
    assert jc.post(f"/aufgaben/{task_id}/erledigt", data={"next": "/"}).status_code == 302
    # Another agency cannot tick off JC's task.
    other = query(lambda: _task("Kita-Platz klären").id, commit=False)
    assert clients["ABH"].post(f"/aufgaben/{other}/erledigt").status_code == 404


def test_a_case_items_task_form_offers_only_the_case_team(scene, clients, planned, running):
    """A task on a case item can only go to an agency of the case team (any other would never see it): the form
    offers no other, on the minutes page and on the results page; a general item's task may go to any agency."""

    def offered(page: str, select_id: str) -> list[str]:
        select = page[page.index(f'<select id="{select_id}"') :]
        return re.findall(r'<option value="([A-Z]+)"', select[: select.index("</select>")])

    results = clients["KI"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    live = clients["KI"].get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
    assert offered(results, f"ta-{running['closed']}") == ["AA", "KI"]
    assert offered(live, f"mta-{running['closed']}") == ["AA", "KI"]
    assert offered(results, f"ta-{running['general']}") == ["AA", "ABH", "JA", "JC", "KI"]


def test_a_refused_task_objection_or_addendum_keeps_what_was_typed(scene, clients, planned, running, query):
    ki, jc = clients["KI"], clients["JC"]
    due = (utcnow().date() + timedelta(days=45)).isoformat()
    resp = ki.post(
        f"/protokoll/top/{running['open']}/aufgabe",
        data={"text": "Wohnsitzauflage klären", "agency": "JC", "user": str(scene.ids["AA"]), "due": due},
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Die verantwortliche Person muss zur gewählten Stelle gehören." in page
    assert 'value="Wohnsitzauflage klären"' in page and f'value="{due}"' in page
    assert (
        '<option value="JC" selected>' in page
        and f'<option value="{scene.ids["AA"]}" data-agency="AA" selected>' in page
    )
    assert '<details class="record-forms" open>' in page
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    empty = jc.post(f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "einspruch", "reason": ""})
    assert empty.status_code == 422 and "Ein Einspruch braucht eine Begründung." in empty.get_data(as_text=True)
    assert 'id="ap-no" name="decision" value="einspruch" checked' in empty.get_data(as_text=True)
    long = "Einspruch, weil " + "x" * 5000
    too_long = jc.post(f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "einspruch", "reason": long})
    assert too_long.status_code == 422 and "Höchstens 5000 Zeichen." in too_long.get_data(as_text=True)
    assert long in too_long.get_data(as_text=True)  # kept whole, not cut off unseen


def test_bad_records_are_refused(scene, clients, planned, running, query):
    ki = clients["KI"]
    assert ki.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": ""}).status_code == 422
    assert ki.post(f"/protokoll/top/{running['open']}/aufgabe", data={"text": "x", "agency": "XY"}).status_code == 422
    assert (
        ki.post(
            f"/protokoll/top/{running['open']}/aufgabe", data={"text": "x", "agency": "JC", "due": "morgen"}
        ).status_code
        == 422
    )
    assert (
        ki.post(
            f"/protokoll/top/{running['open']}/aufgabe",
            data={"text": "x", "agency": "JC", "user": str(scene.ids["AA"])},
        ).status_code
        == 422
    )
    assert (
        ki.post(
            f"/konferenzen/{planned}/protokoll/anwesenheit", data={f"user-{scene.ids['JC']}": "vielleicht"}
        ).status_code
        == 422
    )
    assert query(lambda: db.session.query(Task).count(), commit=False) == 0


def test_a_task_cannot_be_due_in_the_past(scene, clients, planned, running, query):
    ki = clients["KI"]
    yesterday = (utcnow().date() - timedelta(days=2)).isoformat()
    resp = ki.post(
        f"/protokoll/top/{running['open']}/aufgabe", data={"text": "Bescheid", "agency": "JC", "due": yesterday}
    )
    assert resp.status_code == 422
    assert "Das Fälligkeitsdatum darf nicht in der Vergangenheit liegen." in resp.get_data(as_text=True)
    assert query(lambda: db.session.query(Task).count(), commit=False) == 0
    # the date field itself offers no earlier day
    page = ki.get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
    assert re.search(r'name="due" type="date" min="\d{4}-\d\d-\d\d"', page)


def test_decisions_and_tasks_of_a_general_item_name_no_client(scene, clients, planned, running, query):
    """A general item is read by every participant, JC too, which has no consent for the closed case (Tesfay)."""
    ki = clients["KI"]
    general = running["general"]
    for path, data, label in (
        (f"/protokoll/top/{general}/beschluss", {"text": "Frau TESFAY bekommt einen Therapieplatz"}, "Ein Beschluss"),
        (
            f"/protokoll/top/{general}/aufgabe",
            {"text": f"{scene.closed_case} nachfassen", "agency": "AA"},
            "Eine Aufgabe",
        ),
    ):
        resp = ki.post(path, data=data)
        assert resp.status_code == 422, data
        body = resp.get_data(as_text=True)
        assert f"{label} zu einem allgemeinen Punkt darf" in body and data["text"] in body  # kept in the form
    assert query(lambda: db.session.query(Task).count() + db.session.query(Decision).count(), commit=False) == 0
    # on the case item itself, the team writes the name as it needs to
    ok = ki.post(f"/protokoll/top/{running['closed']}/beschluss", data={"text": "Frau Tesfay bekommt einen Platz"})
    assert ok.status_code == 302
    assert ki.post(f"/protokoll/top/{general}/beschluss", data={"text": "Nächster Termin im März"}).status_code == 302
    page = clients["JC"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Nächster Termin im März" in page and "Tesfay" not in page
    # JC, without consent for the closed case, is not told that a name it tries is that client's: the check
    # looks only at clients whose master data JC's agency sees, so any name gets the same answer
    for name in ("Tesfay", "Mustermann"):
        resp = clients["JC"].post(f"/protokoll/top/{general}/beschluss", data={"text": f"Frau {name} anrufen"})
        assert resp.status_code == 302, name


def test_refused_attempts_on_an_item_stay_on_record(scene, clients, planned, running, query):
    """JC has no consent for the closed case, JA is not invited: both are refused with 404, and both attempts are
    in the audit log (the refusal's audit survives the refusal)."""
    from fallkonferenz.models import AuditEvent

    assert clients["JC"].post(f"/protokoll/top/{running['closed']}/beschluss", data={"text": "x"}).status_code == 404
    assert clients["JA"].post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "x"}).status_code == 404

    def refusals():
        rows = db.session.query(AuditEvent).filter_by(action="minutes.refused").order_by(AuditEvent.id)
        return [(e.actor_id, e.case_id is not None, json.loads(e.detail)) for e in rows]

    assert query(refusals, commit=False) == [
        (scene.ids["JC"], True, {"item": running["closed"], "reason": "keine Einwilligung"}),
        (scene.ids["JA"], True, {"item": running["open"], "reason": "keine Teilnahme"}),
    ]
    assert query(lambda: db.session.query(Decision).count(), commit=False) == 0


def test_closing_freezes_the_text_and_all_agencies_approve(scene, clients, planned, running, query):
    ki = clients["KI"]
    before = ki.get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Anwesenheit noch nicht gespeichert für:" in before
    assert scene.open_case in before and scene.closed_case in before  # case items say which case they are
    jc_view = clients["JC"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert scene.open_case in jc_view and scene.closed_case not in jc_view
    assert '<option value="anwesend" selected>anwesend' in before.split(f'id="att-{scene.ids["KI"]}"', 1)[1]
    assert (
        ki.post(
            f"/konferenzen/{planned}/protokoll/anwesenheit",
            data={f"user-{scene.ids['JC']}": "anwesend", f"user-{scene.ids['ABH']}": "entschuldigt"},
        ).status_code
        == 302
    )
    page = ki.get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    missing = page.split("Anwesenheit noch nicht gespeichert für:", 1)[1].split(".", 1)[0]
    assert "case_worker JC" not in missing and "case_worker ABH" not in missing  # saved
    assert "case_worker AA" in missing and "moderator KI" in missing  # not yet
    assert clients["JC"].post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 403
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 409
    # each participating agency finds the approval waiting on its dashboard, until it has decided
    assert "Protokolle zur Genehmigung" in clients["JC"].get("/").get_data(as_text=True)

    # ... and every participant but the moderator has it by e-mail: title, date and link, no case data
    def approval_mails():
        from fallkonferenz.models import OutboxMessage

        rows = db.session.query(OutboxMessage).filter(OutboxMessage.subject.startswith("Protokoll zur Genehmigung"))
        return [(m.to_user_id, m.subject + m.body) for m in rows]

    mails = query(approval_mails, commit=False)
    assert sorted(to for to, _ in mails) == sorted(scene.ids[code] for code in ("JC", "AA", "ABH"))
    for _, text in mails:
        assert f"/konferenzen/{planned}/protokoll/ergebnisse#genehmigung" in text
        assert not any(secret in text for secret in (scene.open_case, scene.closed_case, "Haddad", "Tesfay"))
    # the minutes are closed after the meeting: the running conference has ended, and its page shows no editor
    assert query(lambda: db.session.get(Conference, planned).state, commit=False) == "beendet"
    page = clients["JC"].get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
    assert 'data-closed="1"' in page and 'class="minutes-editor"' not in page and "Therapieplatz" not in page
    exported = clients["JC"].get(f"/konferenzen/{planned}/protokoll.md").get_data(as_text=True)
    assert "Stand: abgeschlossen, Genehmigung läuft" in exported and "Entwurf" not in exported
    closure = query(lambda: db.session.get(MinutesClosure, planned), commit=False)
    # a case item's frozen text is sealed under the case key; the general item's is for everyone to read
    stored = json.loads(closure.frozen)
    assert set(stored[str(running["closed"])]) == {"sealed"} and set(stored[str(running["open"])]) == {"sealed"}
    assert "Therapieplatz" not in closure.frozen and "B1 erreicht" not in closure.frozen
    frozen = query(lambda: records.frozen_entries(closure, list(running.values())), commit=False)
    rendered = " ".join(item["html"] for item in frozen.values())
    assert "<strong>Therapieplatz</strong>" in rendered and "<li>B1 erreicht</li>" in rendered
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    # No edits after closing.
    doc = Doc()
    doc.get("text", type=Text).insert(0, "zu spät")
    with pytest.raises(service.MinutesClosed):
        query(lambda: service.apply_update(user(scene.users["KI"]), running["general"], "late", doc.get_update()))
    # An objection needs a reason; then every participating agency approves and the minutes are final.
    assert (
        clients["JC"].post(f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "einspruch"}).status_code
        == 422
    )
    assert (
        clients["JC"]
        .post(f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "einspruch", "reason": "TOP 3 fehlt"})
        .status_code
        == 302
    )
    assert (
        clients["JA"].post(f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "genehmigt"}).status_code
        == 404
    )
    for code in ("KI", "JC", "AA", "ABH"):
        assert (
            clients[code]
            .post(f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "genehmigt"})
            .status_code
            == 302
        )
        assert "Protokolle zur Genehmigung" not in clients[code].get("/").get_data(as_text=True)
    assert query(lambda: db.session.get(MinutesClosure, planned).final_at is not None, commit=False)
    assert (
        clients["AA"]
        .post(f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "einspruch", "reason": "x"})
        .status_code
        == 409
    )
    assert (
        clients["AA"].post(f"/konferenzen/{planned}/protokoll/nachtrag", data={"text": "Termin verschoben"}).status_code
        == 302
    )
    page = ki.get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "endgültig" in page and "Termin verschoben" in page


def test_each_agency_exports_only_the_items_it_may_see(scene, clients, planned, running):
    for code, sees_closed in (("KI", True), ("AA", True), ("JC", False), ("ABH", False)):
        body = clients[code].get(f"/konferenzen/{planned}/protokoll.md").get_data(as_text=True)
        assert ("Therapieplatz" in body) is sees_closed, code
        assert (scene.closed_case in body) is sees_closed, code
        assert ("Tesfay" in body) is sees_closed, code
        assert "Nächster Termin" in body
        assert "Stand: Entwurf – noch nicht abgeschlossen und nicht genehmigt" in body  # not to be taken as final
    assert clients["JA"].get(f"/konferenzen/{planned}/protokoll.md").status_code == 404


def test_an_export_of_open_minutes_leaves_out_a_general_text_that_names_a_case(scene, clients, planned, running, query):
    """Closing refuses such minutes; until then every agency's copy would carry a client's name (here of the case
    closed to JC) or a case number: the export leaves the text out, and says why without saying which case."""
    doc = Doc()
    doc.get("text", type=Text).insert(0, "Nächster Termin. Frau Tesfay kommt später.")
    query(lambda: service.apply_update(user(scene.users["KI"]), running["general"], "names", doc.get_update()))
    for code in ("KI", "JC"):
        body = clients[code].get(f"/konferenzen/{planned}/protokoll.md").get_data(as_text=True)
        assert "Tesfay kommt" not in body and "Text zurückgehalten" in body, code
    from pypdf import PdfReader

    pdf = clients["JC"].get(f"/konferenzen/{planned}/protokoll.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert pdf.status_code == 200 and "Tesfay" not in text and "zurückgehalten" in text


def test_minutes_page_shows_editors_only_where_the_case_may_be_seen(scene, clients, planned, running):
    ki = clients["KI"].get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
    jc = clients["JC"].get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
    assert f'data-item="{running["closed"]}"' in ki and "Therapieplatz" in ki
    assert f'data-item="{running["closed"]}"' not in jc and "Therapieplatz" not in jc and scene.closed_case not in jc
    assert "vertraulicher Fall" in jc and f'data-item="{running["open"]}"' in jc
    assert clients["JA"].get(f"/konferenzen/{planned}/protokoll").status_code == 404


def test_pdf_export_per_agency(scene, clients, planned, running):
    from pypdf import PdfReader

    for code, sees_closed in (("AA", True), ("JC", False)):
        resp = clients[code].get(f"/konferenzen/{planned}/protokoll.pdf")
        assert resp.status_code == 200 and resp.mimetype == "application/pdf"
        # named by day and title, so it can be told apart from others in a folder
        assert re.search(
            r'filename="protokoll-\d{4}-\d\d-\d\d-fallkonferenz-musterstadt\.pdf"', resp.headers["Content-Disposition"]
        )
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
        assert ("Therapieplatz" in text) is sees_closed, code
        assert "Nächster Termin" in text
        assert "Entwurf" in text and "noch nicht abgeschlossen" in text


def test_compaction_shows_up_as_a_version_with_its_authors(scene, clients, planned, running, query):
    query(lambda: service.compact(running["general"]))
    page = clients["KI"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Frühere Fassungen" in page and "moderator KI" in page


def test_decisions_and_tasks_are_recorded_from_the_minutes_page_and_shown_there(scene, clients, planned, running):
    ki, aa, jc = clients["KI"], clients["AA"], clients["JC"]
    minutes = f"/konferenzen/{planned}/protokoll"
    page = ki.get(minutes).get_data(as_text=True)
    for item in running.values():  # a form per item, each returning to the minutes page at that item
        assert f'action="/protokoll/top/{item}/beschluss"' in page and f'action="/protokoll/top/{item}/aufgabe"' in page
        assert f'name="next" value="{minutes}#m-{item}"' in page
    back = f"{minutes}#m-{running['closed']}"
    resp = ki.post(f"/protokoll/top/{running['closed']}/beschluss", data={"text": "Therapie fortsetzen", "next": back})
    assert resp.status_code == 302 and resp.headers["Location"] == back
    resp = ki.post(
        f"/protokoll/top/{running['closed']}/aufgabe",
        data={"text": "Therapiebericht anfordern", "agency": "AA", "user": str(scene.ids["AA"]), "next": back},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == back
    # Only a path of this site is followed; anything else leads to the results page.
    resp = ki.post(
        f"/protokoll/top/{running['general']}/beschluss",
        data={"text": "Termin im Januar", "next": "//evil.example/protokoll"},
    )
    assert resp.headers["Location"] == f"/konferenzen/{planned}/protokoll/ergebnisse#top-{running['general']}"

    seen = aa.get(minutes).get_data(as_text=True)
    assert "Therapie fortsetzen" in seen and "Termin im Januar" in seen
    assert "Therapiebericht anfordern – AA, " in seen and "(<span data-status>offen</span>)" in seen
    assert 'Erledigt<span class="visually-hidden">: Therapiebericht anfordern' in seen  # the AA's own task
    closed_to_jc = jc.get(minutes).get_data(as_text=True)
    assert "Termin im Januar" in closed_to_jc
    assert "Therapie fortsetzen" not in closed_to_jc and "Therapiebericht" not in closed_to_jc
    results = aa.get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Therapiebericht anfordern – AA, " in results


def test_attendance_left_open_for_some_is_saved_for_the_others(scene, clients, planned, running):
    ki = clients["KI"]
    resp = ki.post(
        f"/konferenzen/{planned}/protokoll/anwesenheit",
        data={f"user-{scene.ids['JC']}": "anwesend", f"user-{scene.ids['AA']}": ""},
    )
    assert resp.status_code == 302
    page = clients["AA"].get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
    assert f'data-attendee="{scene.ids["JC"]}"' in page
    jc_row = page.split(f'data-attendee="{scene.ids["JC"]}"', 1)[1].split("</li>", 1)[0]
    aa_row = page.split(f'data-attendee="{scene.ids["AA"]}"', 1)[1].split("</li>", 1)[0]
    assert "<span data-status>anwesend</span>" in jc_row and "<span data-status>nicht erfasst</span>" in aa_row


def test_after_an_objection_the_moderator_reopens_corrects_and_closes_for_a_new_round(
    scene, clients, planned, running, query
):
    ki, jc = clients["KI"], clients["JC"]
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    approve = f"/konferenzen/{planned}/protokoll/genehmigung"
    assert clients["AA"].post(approve, data={"decision": "genehmigt"}).status_code == 302
    assert jc.post(approve, data={"decision": "einspruch", "reason": "TOP 3: Termin falsch"}).status_code == 302
    # saved again unchanged: no second step in the history (checked below)
    assert jc.post(approve, data={"decision": "einspruch", "reason": "TOP 3: Termin falsch"}).status_code == 302
    # JC's page shows its objection in the form, ready to be changed, not an empty choice
    mine = jc.get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "entschieden: <strong>Einspruch</strong>" in mine
    assert 'id="ap-no" name="decision" value="einspruch" checked' in mine and ">TOP 3: Termin falsch</textarea>" in mine
    reopen = f"/konferenzen/{planned}/protokoll/wiedereroeffnen"
    assert jc.post(reopen).status_code == 403  # only the moderator
    assert ki.post(reopen).status_code == 302
    assert query(lambda: db.session.get(MinutesClosure, planned), commit=False) is None
    page = ki.get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "TOP 3: Termin falsch" in page  # the objection stays in sight while the text is corrected
    assert "Protokoll abschließen und zur Genehmigung geben" in page
    assert ki.post(reopen).status_code == 409  # nothing to reopen
    # typing works again
    doc = Doc()
    doc.get("text", type=Text).insert(0, "korrigiert")
    query(lambda: service.apply_update(user(scene.users["KI"]), running["general"], "fix", doc.get_update()))
    # closing again starts a new round: nobody has approved the corrected text yet
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    votes = query(lambda: db.session.query(MinutesApproval).filter_by(conference_id=planned).count(), commit=False)
    assert votes == 0
    for code in ("KI", "JC", "AA", "ABH"):
        assert clients[code].post(approve, data={"decision": "genehmigt"}).status_code == 302
    assert query(lambda: db.session.get(MinutesClosure, planned).final_at is not None, commit=False)
    assert ki.post(reopen).status_code == 409  # final minutes take only addenda
    # The objection and what answered it stay in the approval's history, for every participant, in order.
    page = clients["ABH"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    history = page[
        page.index('id="genehmigung-verlauf"') : page.index("</details>", page.index('id="genehmigung-verlauf"'))
    ]
    steps = re.findall(r"<li><strong>[^<]*</strong> ([^<(–:]+)", history)
    assert [s.strip() for s in steps] == [
        "Protokoll abgeschlossen und zur Genehmigung gegeben",
        "genehmigt",
        "Einspruch",
        "Protokoll wieder zur Bearbeitung geöffnet",
        "Protokoll abgeschlossen und zur Genehmigung gegeben",
        "genehmigt",
        "genehmigt",
        "genehmigt",
        "genehmigt",
        "Protokoll endgültig",
    ]
    assert "Verlauf der Genehmigung (10 Schritte)" in page
    assert "Einspruch – JC" in history and "„TOP 3: Termin falsch“" in history
    final = history[history.index("Protokoll endgültig") :].split("</li>", 1)[0]
    # the agencies made it final together: no one person is named for it
    assert re.fullmatch(
        r'Protokoll endgültig: alle Stellen haben genehmigt <span class="muted">Prüfsumme [0-9a-f]{12}…</span>', final
    )
    final_hash = query(lambda: db.session.get(MinutesClosure, planned).sha256, commit=False)
    # keyed: no agency can test a guess of an item closed to it against the published value
    frozen = query(lambda: db.session.get(MinutesClosure, planned).frozen.encode(), commit=False)
    assert final_hash != hashlib.sha256(frozen).hexdigest()
    assert final_hash == query(lambda: keyring().seal(frozen), commit=False)
    assert history.count(f"Prüfsumme {final_hash[:12]}") == 2  # the second closing and the final minutes


def test_objection_reasons_and_addenda_name_no_client(scene, clients, planned, running, query):
    """Every participant reads them, JC too, which has no consent for the closed case (Tesfay)."""
    ki, aa = clients["KI"], clients["AA"]
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    approve = f"/konferenzen/{planned}/protokoll/genehmigung"
    for reason in ("Bei Frau Tesfay fehlt TOP 1", f"Zu {scene.closed_case}: Termin falsch"):
        resp = aa.post(approve, data={"decision": "einspruch", "reason": reason})
        assert resp.status_code == 422, reason
        assert "Die Begründung darf" in resp.get_data(as_text=True)
        assert reason in resp.get_data(as_text=True)  # kept in the form
    assert aa.post(approve, data={"decision": "einspruch", "reason": "TOP 1: Termin falsch"}).status_code == 302
    for code in ("KI", "JC", "AA", "ABH"):
        clients[code].post(approve, data={"decision": "genehmigt"})
    resp = ki.post(f"/konferenzen/{planned}/protokoll/nachtrag", data={"text": "Haddad hat den Kurs begonnen."})
    assert resp.status_code == 422 and "Der Nachtrag darf keinen Namen" in resp.get_data(as_text=True)
    ok = ki.post(f"/konferenzen/{planned}/protokoll/nachtrag", data={"text": "Der Kurs hat begonnen."})
    assert ok.status_code == 302
    page = clients["JC"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Der Kurs hat begonnen." in page and "Tesfay" not in page and "Haddad hat" not in page


def test_the_markdown_export_holds_attendance_and_approvals_and_no_live_html(scene, clients, planned, running, query):
    ki = clients["KI"]
    ki.post(f"/konferenzen/{planned}/protokoll/anwesenheit", data={f"user-{scene.ids['JC']}": "anwesend"})
    ki.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "<script>alert(1)</script> Kurs beantragen"})
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    clients["AA"].post(
        f"/konferenzen/{planned}/protokoll/genehmigung", data={"decision": "einspruch", "reason": "TOP 3 fehlt"}
    )
    body = clients["JC"].get(f"/konferenzen/{planned}/protokoll.md").get_data(as_text=True)
    assert "## Anwesenheit" in body and "(JC): anwesend" in body
    assert "## Genehmigung" in body and "- AA: Einspruch – TOP 3 fehlt" in body and "- JC: offen" in body
    assert "<script>" not in body and "&lt;script>alert(1)&lt;/script> Kurs beantragen" in body


def test_minutes_whose_general_item_names_a_client_are_not_closed(scene, clients, planned, running, query):
    """A general item's text goes to every participant and into every agency's export: closing is refused until
    the moderator has taken out the name (of a client of the conference's cases) or the case number."""
    ki = clients["KI"]

    def type_into_general(text: str):
        doc = Doc()  # a concurrent insertion merges into whatever the item holds
        doc.get("text", type=Text).insert(0, text)
        update_id = f"typed-{len(text)}"
        query(lambda: service.apply_update(user(scene.users["KI"]), running["general"], update_id, doc.get_update()))

    close = f"/konferenzen/{planned}/protokoll/abschliessen"
    type_into_general("Frau tesfay braucht einen Therapieplatz. ")
    refused = ki.post(close)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "TOP 3 (Verschiedenes) darf keinen Namen" in page
    assert query(lambda: db.session.get(MinutesClosure, planned), commit=False) is None
    assert "Das Protokoll kann so noch nicht abgeschlossen werden." in page
    # the closed case's item names its client (its team reads it); that is not looked at
    assert "Therapieplatz" in service_text(query, running["closed"])
    type_into_general(f"Zu {scene.closed_case}: ")
    assert "keine Fallnummer" in ki.post(close).get_data(as_text=True)


def test_a_general_text_naming_another_agencys_client_is_neither_closed_nor_exported(
    scene, clients, planned, running, query
):
    """The Jobcenter names its own client (a case no other agency sees) in a general item: the moderator cannot see
    that case, yet the name reaches the Ausländerbehörde and the Agentur all the same. Closing is refused and every
    export holds the text back, as for a client of the conference's own cases."""

    def build():
        jc = user(scene.users["JC"])
        make_case(jc, given="Bohdan", family="Tkachuk")  # led by JC, no consent: nobody else knows him
        doc = Doc()
        doc.get("text", type=Text).insert(0, "Herr Tkachuk wartet auf den Kurs. ")
        service.apply_update(jc, running["general"], "jc-names", doc.get_update())

    query(build)
    refused = clients["KI"].post(f"/konferenzen/{planned}/protokoll/abschliessen")
    assert refused.status_code == 422 and "TOP 3 (Verschiedenes) darf keinen Namen" in refused.get_data(as_text=True)
    assert query(lambda: db.session.get(MinutesClosure, planned), commit=False) is None
    for code in ("AA", "ABH", "JC", "KI"):
        body = clients[code].get(f"/konferenzen/{planned}/protokoll.md").get_data(as_text=True)
        assert "Tkachuk" not in body and "Text zurückgehalten" in body, code


def service_text(query, item_id: int) -> str:
    return query(lambda: service.text_of(item_id), commit=False)


def test_a_case_task_goes_only_to_an_agency_of_the_case_team(scene, clients, planned, running, query):
    """ABH has no consent for the open case: a task for ABH there would never show in its task list."""
    ki = clients["KI"]
    resp = ki.post(f"/protokoll/top/{running['open']}/aufgabe", data={"text": "Duldung prüfen", "agency": "ABH"})
    assert resp.status_code == 422
    assert "ABH hat für diesen Fall keine Einwilligung und sähe die Aufgabe nicht." in resp.get_data(as_text=True)
    assert query(lambda: db.session.query(Task).count(), commit=False) == 0
    # on a general item every agency can take a task; the form starts with the writer's own agency
    ok = ki.post(f"/protokoll/top/{running['general']}/aufgabe", data={"text": "Raum buchen", "agency": "ABH"})
    assert ok.status_code == 302
    page = clients["JC"].get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
    assert '<option value="JC" selected>' in page


def test_the_case_page_shows_the_decisions_and_tasks_of_its_conferences_to_the_case_team(
    scene, clients, planned, running, query
):
    ki = clients["KI"]
    ki.post(f"/protokoll/top/{running['closed']}/beschluss", data={"text": "Therapieplatz beantragen"})
    ki.post(f"/protokoll/top/{running['closed']}/aufgabe", data={"text": "Antrag stellen", "agency": "AA"})
    ki.post(f"/protokoll/top/{running['general']}/beschluss", data={"text": "Raum wechseln"})
    for code in ("KI", "AA"):  # the lead agency, and AA by consent
        page = clients[code].get(f"/faelle/{scene.closed_case}").get_data(as_text=True)
        assert "Beschlüsse und Aufgaben aus Konferenzen" in page, code
        assert "Therapieplatz beantragen" in page and "Antrag stellen" in page, code
        assert "Raum wechseln" not in page  # a general item is no case record
    other = ki.get(f"/faelle/{scene.open_case}").get_data(as_text=True)
    assert "Therapieplatz beantragen" not in other and "noch nichts beschlossen" in other


def test_attendance_not_yet_recorded_is_suggested_from_the_answers(scene, clients, planned, running, query):
    """Zusage suggests "anwesend", Absage "entschuldigt"; nothing is recorded until the moderator saves."""
    clients["AA"].post(f"/konferenzen/{planned}/antwort", data={"response": "absage"})
    page = clients["KI"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    aa = page.split(f'name="user-{scene.ids["AA"]}"', 1)[1].split("</select>", 1)[0]
    assert '<option value="entschuldigt" selected>' in aa
    assert query(lambda: db.session.query(Attendance).count(), commit=False) == 0


def _change_frozen_text(conference_id: int, item_id: int, text: str) -> None:
    """Change an item's text in the stored closing, as someone with access to the database could."""
    row = db.session.get(MinutesClosure, conference_id)
    frozen = json.loads(row.frozen)
    frozen[str(item_id)]["text"] = text
    row.frozen = json.dumps(frozen, sort_keys=True, ensure_ascii=False)


def test_the_keyed_hash_of_closed_minutes_is_checked_on_the_page_by_the_officer_and_the_cli(
    app, scene, clients, client_for, planned, running, query
):
    """Whoever opens the results sees that the frozen text is still what was closed; a change made in the database
    afterwards shows there, in the data-protection officer's check and in `flask audit verify` (exit 1), by
    conference, without any of the text."""
    from tests.factories import PASSWORD, make_user

    ki = clients["KI"]
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    page = clients["JC"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert records.SEAL_INTACT in page
    officer = client_for(query(lambda: make_user("KI", "dpo").username), PASSWORD)
    checked = officer.get("/protokollierung?pruefen=1").get_data(as_text=True)
    assert "die abgeschlossenen Protokolle stimmen mit ihren Prüfsummen überein" in checked
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

    query(_change_frozen_text, planned, running["general"], "Nächster Termin abgesagt")
    page = clients["JC"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Prüfsumme stimmt nicht" in page and records.SEAL_BROKEN in page and records.SEAL_INTACT not in page
    checked = officer.get("/protokollierung?pruefen=1").get_data(as_text=True)
    assert f"Protokoll der Konferenz {planned} („Fallkonferenz Musterstadt“): {records.SEAL_BROKEN}" in checked
    assert "Therapieplatz" not in checked and "Nächster Termin" not in checked
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"Protokoll der Konferenz {planned}" in result.output

    def change_a_sealed_entry():  # the ciphertext of a case item: it no longer opens
        row = db.session.get(MinutesClosure, planned)
        frozen = json.loads(row.frozen)
        frozen[str(running["general"])]["text"] = "Nächster Termin <script>x</script>"  # back as it was
        sealed = bytearray(base64.b64decode(frozen[str(running["open"])]["sealed"]))
        sealed[-1] ^= 1
        frozen[str(running["open"])]["sealed"] = base64.b64encode(bytes(sealed)).decode()
        row.frozen = json.dumps(frozen, sort_keys=True, ensure_ascii=False)

    query(change_a_sealed_entry)
    assert query(lambda: records.check_closure(db.session.get(MinutesClosure, planned)), commit=False).intact is False
    assert "Prüfsumme stimmt nicht" in clients["AA"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(
        as_text=True
    )


def test_a_replaced_or_mangled_closing_is_found_and_an_erased_case_hides_no_change(
    app, scene, clients, client_for, planned, running, query
):
    """An earlier round's text put back in place (with its own, once valid, hash) is found against the hash the
    last closing recorded; a changed general item is a change although a case of the minutes was erased since;
    closed minutes whose stored JSON was mangled are reported, not answered with an error."""
    from fallkonferenz.cases.retention import erase_case
    from tests.factories import PASSWORD, make_user

    ki = clients["KI"]
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    first = query(lambda: (lambda r: (r.frozen, r.sha256))(db.session.get(MinutesClosure, planned)), commit=False)
    assert ki.post(f"/konferenzen/{planned}/protokoll/wiedereroeffnen").status_code == 302
    doc = Doc()
    doc.get("text", type=Text).insert(0, "Korrektur nach Einspruch. ")
    query(lambda: service.apply_update(user(scene.users["KI"]), running["general"], "fix", doc.get_update()))
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302

    def put_back_the_first_round():
        row = db.session.get(MinutesClosure, planned)
        row.frozen, row.sha256 = first

    query(put_back_the_first_round)
    # in itself it is consistent: only the hash recorded at the last closing tells that it is not that one
    assert query(lambda: records.check_closure(db.session.get(MinutesClosure, planned)), commit=False).intact
    page = clients["JC"].get(f"/konferenzen/{planned}/protokoll/ergebnisse").get_data(as_text=True)
    assert "Prüfsumme stimmt nicht" in page and records.SEAL_REPLACED in page
    officer = client_for(query(lambda: make_user("KI", "dpo").username), PASSWORD)
    checked = officer.get("/protokollierung?pruefen=1").get_data(as_text=True)
    assert f"Protokoll der Konferenz {planned} („Fallkonferenz Musterstadt“): {records.SEAL_REPLACED}" in checked

    # the last round again, then its case erased and its general item changed: a change, not "no longer checkable"
    assert ki.post(f"/konferenzen/{planned}/protokoll/wiedereroeffnen").status_code == 302
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    case_id = query(lambda: db.session.get(AgendaItem, running["open"]).case_id, commit=False)
    query(lambda: erase_case(case_id, "Löschung auf Antrag nach Art. 17 DSGVO"))
    assert query(lambda: records.check_closure(db.session.get(MinutesClosure, planned)), commit=False).intact

    query(_change_frozen_text, planned, running["general"], "Nächster Termin abgesagt")
    check = query(lambda: records.check_closure(db.session.get(MinutesClosure, planned)), commit=False)
    assert check == records.SealCheck(False, records.SEAL_BROKEN)

    # minutes hashed before they were sealed, whose stored JSON is mangled: an item id written "0…", a broken
    # ciphertext, not JSON at all – each is a change on the page, to the officer and in the CLI, never a 500
    sealed_key = str(running["closed"])
    for mangle in (
        lambda frozen: {("0" + k if k == sealed_key else k): v for k, v in frozen.items()},
        lambda frozen: frozen | {sealed_key: {"sealed": "***"}},
        lambda frozen: frozen | {sealed_key: "sealed"},
        None,
    ):

        def apply(mangle=mangle):
            row = db.session.get(MinutesClosure, planned)
            row.hashed_plain = True
            row.frozen = json.dumps(mangle(json.loads(row.frozen))) if mangle else "{nicht json"

        query(apply)
        page = clients["AA"].get(f"/konferenzen/{planned}/protokoll/ergebnisse")
        assert page.status_code == 200 and records.SEAL_BROKEN in page.get_data(as_text=True)
        checked = officer.get("/protokollierung?pruefen=1")
        assert checked.status_code == 200 and records.SEAL_BROKEN in checked.get_data(as_text=True)
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 1 and f"Protokoll der Konferenz {planned}" in result.output


def test_the_minutes_pages_script_gets_json_answers_and_refusals(scene, clients, running, query):
    """The minutes page sends its record forms in the background (Accept: application/json): it gets the message
    or the refusal as JSON, never a redirect or a page, and a refusal stores nothing."""
    ki, abh = clients["KI"], clients["ABH"]
    as_script = {"Accept": "application/json"}
    stored = ki.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "Kurs beantragen"}, headers=as_script)
    assert stored.status_code == 201 and stored.get_json() == {"message": "Der Beschluss wurde festgehalten."}
    refused = ki.post(
        f"/protokoll/top/{running['open']}/aufgabe", data={"text": "x", "agency": "XY"}, headers=as_script
    )
    assert refused.status_code == 422 and refused.get_json()["errors"]
    task = ki.post(
        f"/protokoll/top/{running['open']}/aufgabe", data={"text": "Termin machen", "agency": "KI"}, headers=as_script
    )
    assert task.status_code == 201 and task.get_json()["message"] == "Die Aufgabe wurde festgehalten."
    task_id = query(lambda: _task("Termin machen").id, commit=False)
    done = ki.post(f"/aufgaben/{task_id}/erledigt", headers=as_script)
    assert done.status_code == 200 and done.get_json() == {"message": "Die Aufgabe ist erledigt."}
    # an agency that may not see the case gets the same 404 as a page would give, as JSON
    hidden = abh.post(f"/protokoll/top/{running['closed']}/beschluss", data={"text": "x"}, headers=as_script)
    assert hidden.status_code == 404 and hidden.get_json()["error"]
    without_token = ki.http.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "y"}, headers=as_script)
    assert without_token.status_code == 400 and "Sicherheitstoken" in without_token.get_json()["error"]
    texts = query(lambda: sorted(d.text for d in open_texts(db.session.scalars(select(Decision)))), commit=False)
    assert texts == ["Kurs beantragen"]
    query(lambda: db.session.query(UserSession).delete())  # the session ended (idle) while the page stayed open
    late = ki.post(f"/protokoll/top/{running['open']}/beschluss", data={"text": "spät"}, headers=as_script)
    assert late.status_code == 401 and "Anmeldung ist abgelaufen" in late.get_json()["error"]


def test_a_refused_entry_for_an_item_removed_meanwhile_is_a_404(scene, clients, planned, running, query):
    # the results page was open while the moderator took the item off the agenda; the form then sent is refused
    # for its input (an empty decision, a person the list never offered) and for the item that is gone: a German
    # 404, not a server error while the refusal looks for the item's conference
    query(lambda: items.remove_item(user(scene.users["KI"]), planned, running["open"]))
    ki = clients["KI"]
    for path, data in (("beschluss", {"text": " "}), ("aufgabe", {"text": "Wer?", "agency": "KI", "user": "x"})):
        resp = ki.post(f"/protokoll/top/{running['open']}/{path}", data=data)
        assert resp.status_code == 404, path
        assert "Tagesordnungspunkt nicht gefunden" in resp.get_data(as_text=True)


def test_a_task_ticked_off_by_mistake_is_reopened_where_it_is_listed(scene, clients, planned, running, query):
    ki, jc, aa = clients["KI"], clients["JC"], clients["AA"]
    task_id, results = _jc_task(ki, planned, running, query, "Kita-Platz anfragen")
    reopen = f'action="/aufgaben/{task_id}/wieder-offen"'
    assert jc.post(f"/aufgaben/{task_id}/erledigt", data={"next": results}).status_code == 302
    # the results page and the case page offer to open it again, to its agency; the moderator on the results page
    assert reopen in jc.get(results).get_data(as_text=True) and reopen in ki.get(results).get_data(as_text=True)
    case_page = jc.get(f"/faelle/{scene.open_case}").get_data(as_text=True)
    assert reopen in case_page
    back = f"/faelle/{scene.open_case}#fallaufgaben-h"
    assert f'name="next" value="{back}"' in case_page
    assert reopen not in aa.get(results).get_data(as_text=True)  # another agency of the case team reads only
    assert aa.post(f"/aufgaben/{task_id}/wieder-offen", data={"next": results}).status_code == 404
    again = jc.post(f"/aufgaben/{task_id}/wieder-offen", data={"next": back})
    assert again.status_code == 302 and again.headers["Location"] == back
    assert query(lambda: db.session.get(Task, task_id).status, commit=False) == "offen"
    assert f'action="/aufgaben/{task_id}/erledigt"' in jc.get(f"/faelle/{scene.open_case}").get_data(as_text=True)


def _mails(query, subject: str) -> list[tuple[int, str]]:
    from fallkonferenz.models import OutboxMessage

    def read():
        rows = db.session.query(OutboxMessage).filter(OutboxMessage.subject.startswith(subject))
        return [(m.to_user_id, m.subject + "\n" + m.body) for m in rows]

    return query(read, commit=False)


def test_an_objection_reaches_the_moderator_and_final_minutes_reach_everyone(scene, clients, planned, running, query):
    ki = clients["KI"]
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    approve = f"/konferenzen/{planned}/protokoll/genehmigung"
    objection = {"decision": "einspruch", "reason": "TOP 3: Termin falsch"}
    assert clients["JC"].post(approve, data=objection).status_code == 302
    told = _mails(query, "Einspruch gegen das Protokoll")
    assert [to for to, _ in told] == [scene.ids["KI"]]
    text = told[0][1]
    assert "case_worker JC (JC) hat Einspruch" in text and "Begründung: TOP 3: Termin falsch" in text
    assert f"/konferenzen/{planned}/protokoll/ergebnisse#genehmigung" in text
    assert not any(secret in text for secret in (scene.open_case, scene.closed_case, "Haddad", "Tesfay"))
    assert _mails(query, "Protokoll endgültig") == []
    for code in ("KI", "JC", "AA", "ABH"):
        assert clients[code].post(approve, data={"decision": "genehmigt"}).status_code == 302
    final = _mails(query, "Protokoll endgültig")
    assert sorted(to for to, _ in final) == sorted(scene.ids[c] for c in ("KI", "JC", "AA", "ABH"))
    assert all("Es ist jetzt endgültig" in body and "Haddad" not in body for _, body in final)
    assert len(_mails(query, "Einspruch gegen das Protokoll")) == 1  # approving sends no objection notice


def test_an_addendum_names_who_added_it_and_asks_before_it_is_saved(scene, clients, planned, running, query):
    ki = clients["KI"]
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    for code in ("KI", "JC", "AA", "ABH"):
        approve = f"/konferenzen/{planned}/protokoll/genehmigung"
        assert clients[code].post(approve, data={"decision": "genehmigt"}).status_code == 302
    results = f"/konferenzen/{planned}/protokoll/ergebnisse"
    page = clients["JC"].get(results).get_data(as_text=True)
    assert "Er wird mit Ihrem Namen Teil des endgültigen Protokolls" in page
    sent = clients["JC"].post(f"/konferenzen/{planned}/protokoll/nachtrag", data={"text": "Termin verschoben"})
    assert sent.status_code == 302
    assert ", case_worker JC (JC):</strong> Termin verschoben" in clients["AA"].get(results).get_data(as_text=True)
    exported = clients["AA"].get(f"/konferenzen/{planned}/protokoll.md").get_data(as_text=True)
    assert ", case_worker JC (JC):** Termin verschoben" in exported


def _agency(query, scene, code: str) -> int:
    return query(lambda: user(scene.users[code]).agency_id, commit=False)


def test_an_open_task_goes_to_another_agency_or_gets_a_later_date(scene, clients, planned, running, query):
    ki, jc, aa = clients["KI"], clients["JC"], clients["AA"]
    task_id, results = _jc_task(ki, planned, running, query, "Bescheid prüfen")
    change = f"/aufgaben/{task_id}/aendern"
    assert f"{change}?next=" in jc.get("/").get_data(as_text=True)  # from "Meine Aufgaben"
    assert change in jc.get(results).get_data(as_text=True)
    form = jc.get(f"{change}?next={results}")
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and "Bescheid prüfen" in page
    # a task on a case goes only to the case team: ABH has no consent for the open case
    assert '<option value="AA"' in page and '<option value="ABH"' not in page
    later = (utcnow().date() + timedelta(days=21)).isoformat()
    resp = jc.post(change, data={"agency": "AA", "user": "", "due": later, "next": results})
    assert resp.status_code == 302 and resp.headers["Location"] == results
    task = query(lambda: db.session.get(Task, task_id), commit=False)
    assert (task.responsible_agency_id, task.due_date.isoformat()) == (_agency(query, scene, "AA"), later)
    event = query(lambda: db.session.query(AuditEvent).filter_by(action="task.update").one().detail, commit=False)
    assert '"fields":["responsible_agency_id","due_date"]' in event
    # the form of a case's task is a read of the case, on record; a way back off the site is not offered
    reads = query(
        lambda: db.session.query(AuditEvent).filter_by(action="case.read", purpose="Aufgabe ändern").count(),
        commit=False,
    )
    assert reads >= 2
    crafted = aa.get(f"{change}?next=/%5Cevil.example").get_data(as_text=True)
    assert "evil.example" not in crafted and '<a href="/">Zurück</a>' in crafted
    # it is AA's now: JC no longer changes it, AA and the moderator do
    assert jc.get(change).status_code == 404
    assert aa.get(change).status_code == 200 and ki.get(change).status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"agency": "ABH"}, "agency", "keine Einwilligung"),
        ({"agency": "XY"}, "agency", "Unbekannte Stelle."),
        ({"due": "2020-01-01"}, "due", "nicht in der Vergangenheit"),
        ({"due": "31.02.2027"}, "due", ""),
        ({"user": "abc"}, "person", "Unbekannte Person"),
        ({"user": "AA-PERSON"}, "person", "zur gewählten Stelle gehören"),
    ],
)
def test_a_refused_task_change_keeps_the_input_and_changes_nothing(
    scene, clients, planned, running, query, data, field, message
):
    task_id, _ = _jc_task(clients["KI"], planned, running, query, "Schulanmeldung")
    form = {"agency": "JC", "user": "", "due": ""} | data
    if form["user"] == "AA-PERSON":
        form["user"] = str(scene.ids["AA"])
    resp = clients["JC"].post(f"/aufgaben/{task_id}/aendern", data=form)
    body = resp.get_data(as_text=True)
    assert (
        resp.status_code == 422 and message in body and f'id="{"person" if field == "person" else field}-error"' in body
    )
    task = query(lambda: db.session.get(Task, task_id), commit=False)
    assert (task.responsible_agency_id, task.due_date) == (_agency(query, scene, "JC"), None)


def test_a_done_task_is_reopened_before_it_changes_and_others_find_none(scene, clients, planned, running, query):
    ki, jc = clients["KI"], clients["JC"]
    task_id, results = _jc_task(ki, planned, running, query, "Praktikum suchen")
    assert clients["ABH"].get(f"/aufgaben/{task_id}/aendern").status_code == 404
    assert clients["AA"].post(f"/aufgaben/{task_id}/aendern", data={"agency": "AA"}).status_code == 404
    assert jc.post(f"/aufgaben/{task_id}/erledigt", data={"next": results}).status_code == 302
    done = jc.get(f"/aufgaben/{task_id}/aendern")
    assert done.status_code == 409 and "Öffnen Sie sie wieder" in done.get_data(as_text=True)


def test_the_moderator_withdraws_a_record_made_by_mistake_while_the_minutes_are_open(
    scene, clients, planned, running, query
):
    ki, jc = clients["KI"], clients["JC"]
    item = f"/protokoll/top/{running['open']}"
    assert ki.post(f"{item}/beschluss", data={"text": "Doppelt erfasst"}).status_code == 302
    task_id, results = _jc_task(ki, planned, running, query, "Falscher TOP")
    decision_id = query(
        lambda: db.session.query(Decision.id).order_by(Decision.id.desc()).limit(1).scalar(), commit=False
    )
    page = ki.get(results).get_data(as_text=True)
    assert (
        f"/protokoll/decision/{decision_id}/zurueckziehen" in page
        and f"/protokoll/task/{task_id}/zurueckziehen" in page
    )
    assert "/zurueckziehen" not in jc.get(results).get_data(as_text=True)  # the moderator corrects
    assert jc.post(f"/protokoll/decision/{decision_id}/zurueckziehen").status_code == 403
    assert clients["ABH"].post(f"/protokoll/task/{task_id}/zurueckziehen").status_code == 404  # not its item
    resp = ki.post(f"/protokoll/decision/{decision_id}/zurueckziehen", data={"next": results})
    assert resp.status_code == 302 and resp.headers["Location"] == results
    assert ki.post(f"/protokoll/task/{task_id}/zurueckziehen", data={"next": results}).status_code == 302
    assert query(lambda: (db.session.get(Decision, decision_id), db.session.get(Task, task_id)), commit=False) == (
        None,
        None,
    )
    details = query(
        lambda: [e.detail for e in db.session.query(AuditEvent).filter_by(action="minutes.withdraw")], commit=False
    )
    assert len(details) == 2 and f'"record":{decision_id}' in details[0]
    assert ki.post(f"/protokoll/decision/{decision_id}/zurueckziehen").status_code == 404  # gone
    assert ki.post("/protokoll/vermerk/1/zurueckziehen").status_code == 404  # no such kind
    # closed minutes take no withdrawal
    assert ki.post(f"{item}/beschluss", data={"text": "Bleibt"}).status_code == 302
    kept = query(lambda: db.session.query(Decision.id).order_by(Decision.id.desc()).limit(1).scalar(), commit=False)
    assert ki.post(f"/konferenzen/{planned}/protokoll/abschliessen").status_code == 302
    assert "/zurueckziehen" not in ki.get(results).get_data(as_text=True)
    assert ki.post(f"/protokoll/decision/{kept}/zurueckziehen").status_code == 409
