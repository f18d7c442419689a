"""JSON API /api/v1/tasks: the tasks the conferences set, over the same services as the dashboard and the pages."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from agenda import items as agenda_items
from agenda.api import bp as conferences_bp
from agenda.models import TASK_STATUS
from fallkonferenz.api import api_field_names, int_value, iso_date, json_body, read_case, text_value, utc_stamp
from fallkonferenz.api import bp as cases_bp
from fallkonferenz.errors import Forbidden, InvalidInput
from fallkonferenz.extensions import db
from fallkonferenz.models import User
from fallkonferenz.openapi import (
    BOOL,
    INT,
    OPENAPI,
    STAMP,
    TEXT,
    TEXTS,
    add_paths,
    array_of,
    listing,
    nullable,
    obj,
    op,
    ref,
)

from . import records

bp = Blueprint("minutes_api", __name__)
api_field_names(bp, {"due": "dueDate", "person": "personId"})

# `mine`: only the tasks given to the caller by name or to her whole agency, as the dashboard's "nur meine"
MINE = {"": False, "true": True}


def _task(row: records.TaskRow) -> dict:
    task = row.task
    out = {
        "id": task.id,
        "text": task.description,
        "agency": task.responsible_agency.code,
        "person": row.responsible,
        "personId": task.responsible_user_id,
        "dueDate": task.due_date.isoformat() if task.due_date else None,
        "status": task.status,
        "doneAt": utc_stamp(task.done_at),
        "overdue": row.overdue,
        "case": row.case_number,
    }
    if row.opens:  # the conference is named only to those who take part in it, as on the dashboard
        out["conference"] = {"id": row.conference.id, "name": row.conference.title}
    return out


@bp.get("")
def tasks():
    """The caller's and her agency's tasks: the open ones, overdue first, and those ticked off in the last day."""
    mine = request.args.get("mine", "")
    if mine not in MINE:
        raise InvalidInput(errors={"mine": "Erlaubt ist nur mine=true (oder kein Wert)."})
    return jsonify(items=[_task(row) for row in records.my_tasks(g.user, only_mine=MINE[mine])])


def _status(task) -> dict:
    return {"id": task.id, "status": task.status, "doneAt": utc_stamp(task.done_at)}


@bp.post("/<int:task_id>/done")
def done(task_id: int):
    return jsonify(_status(records.complete_task(g.user, task_id)))


@bp.post("/<int:task_id>/reopen")
def reopen(task_id: int):
    return jsonify(_status(records.reopen_task(g.user, task_id)))


@bp.patch("/<int:task_id>")
def change(task_id: int):
    """Another agency or person, or another due date, for an open task; what is left out stays."""
    data = json_body()
    task, _conference = records.task_to_change(g.user, task_id)
    current = task.responsible_agency.code
    agency = text_value(data, "agency", 20).upper() if "agency" in data else current
    if "personId" in data:
        person = int_value(data, "personId")
    else:  # the person stays with her agency while she works there; otherwise the task goes to the whole agency
        kept = db.session.get(User, task.responsible_user_id) if task.responsible_user_id else None
        person = kept.id if kept is not None and kept.active and agency == current else None
    due = iso_date(data, "dueDate") if "dueDate" in data else task.due_date
    changed = records.change_task(g.user, task_id, agency, person, due)
    return jsonify(changed=changed, **_status(task))


OPENAPI["components"]["parameters"].update(
    {
        "taskId": {"name": "taskId", "in": "path", "required": True, "schema": {"type": "integer"}},
        "mine": {"name": "mine", "in": "query", "schema": {"enum": ["true"]}},
    }
)


@conferences_bp.get("/<int:conference_id>/results")
def results(conference_id: int):
    """A conference's decisions and tasks per agenda item, and the attendance, as its results page shows them: an
    item closed to the caller's agency is named by its number alone (read, and on record, as the page)."""
    view = agenda_items.conference_view(g.user, conference_id)
    visible = [i.id for i in view.items if not i.confidential]
    decisions, tasks = records.decisions_for(visible), records.tasks_for(visible)
    entries = {e["id"]: e for e in records.task_entries(t for rows in tasks.values() for t in rows)}
    closure = records.closure(conference_id)
    out_items = []
    for item in view.items:
        out = {"id": item.id, "number": item.number, "confidential": item.confidential}
        if not item.confidential:
            out["decisions"] = [{"id": d.id, "text": d.text} for d in decisions[item.id]]
            out["tasks"] = [_item_task(t, entries[t.id]) for t in tasks[item.id]]
        out_items.append(out)
    attendance = records.attendance_of(conference_id)
    return jsonify(
        closed=closure is not None,
        final=closure is not None and closure.final_at is not None,
        items=out_items,
        attendance=[
            {"person": p.user_id, "agency": p.user.agency.code, "status": attendance.get(p.user_id)}
            for p in view.participants
            if p.active
        ],
    )


@cases_bp.get("/cases/<number>/records")
def case_records(number: str):
    """A case's decisions and tasks from its conferences, the newest first (open tasks first), as the case page
    lists them for the case team; a case read, on record."""
    view = read_case(number)
    found = records.case_records(view.id, view.access)
    if found is None:
        raise Forbidden(
            "Beschlüsse und Aufgaben eines Falls sieht das Fallteam: die federführende Stelle und die "
            "Stellen, denen die Einwilligung den Fall zeigt."
        )

    def where(row) -> dict:
        return {"id": row.conference_id, "name": row.title, "start": utc_stamp(row.start)}

    return jsonify(
        decisions=[{"id": r.Decision.id, "text": r.Decision.text, "conference": where(r)} for r in found.decisions],
        tasks=[_item_task(r.Task, entry) | {"conference": where(r)} for r, entry in found.tasks],
        moreDecisions=found.more_decisions,
        moreTasks=found.more_tasks,
    )


def _item_task(task, entry: dict) -> dict:
    return {
        "id": task.id,
        "text": task.description,
        "agency": entry["agency"],
        "person": entry["person"],
        "dueDate": task.due_date.isoformat() if task.due_date else None,
        "status": task.status,
    }


add_paths(
    {
        "/conferences/{conferenceId}/results": {
            "get": op(
                "Ergebnisse einer Konferenz: Beschlüsse und Aufgaben je Tagesordnungspunkt und die Anwesenheit; ein "
                "Punkt, den die Einwilligung der eigenen Stelle nicht zeigt, nur mit seiner Nummer",
                params=("conferenceId",),
                returns="ConferenceResults",
            )
        },
        "/cases/{number}/records": {
            "get": op(
                f"Beschlüsse und Aufgaben eines Falls aus seinen Konferenzen, je höchstens {records.CASE_RECORDS_SHOWN}"
                " (die neuesten zuerst, offene Aufgaben vorn; `moreDecisions`, `moreTasks`: es gibt mehr, alle stehen "
                "in den Ergebnissen der Konferenzen); für das Fallteam",
                params=("number",),
                returns="CaseRecords",
            )
        },
        "/tasks": {
            "get": op(
                "Meine Aufgaben und die meiner Stelle: offene, überfällige zuerst, und die am letzten Tag erledigten "
                "(`mine=true`: ohne die einer Kollegin oder einem Kollegen namentlich gegebenen); eine Aufgabe zu "
                "einem Fall nur, solange die Einwilligung ihn der Stelle zeigt",
                params=("mine",),
                returns="TaskList",
            )
        },
        "/tasks/{taskId}": {
            "patch": op(
                "Offene Aufgabe einer anderen Stelle oder Person geben oder ihr Fälligkeitsdatum ändern (ihre Stelle "
                "oder die Moderation; was fehlt, bleibt; 409, wenn sie erledigt ist)",
                params=("taskId",),
                body="TaskChange",
                also=("409",),
                returns="TaskChanged",
            )
        },
        "/tasks/{taskId}/done": {
            "post": op("Aufgabe erledigt (ihre Stelle oder die Moderation)", params=("taskId",), returns="TaskStatus")
        },
        "/tasks/{taskId}/reopen": {
            "post": op("Erledigte Aufgabe wieder öffnen", params=("taskId",), returns="TaskStatus")
        },
    }
)
_RESULT_TASK = {
    "id": INT,
    "text": TEXT,
    "agency": TEXT,
    "person": nullable("string"),
    "dueDate": nullable("string", format="date"),
    "status": {"enum": list(TASK_STATUS)},
}
_STATUS = {"id": INT, "status": {"enum": list(TASK_STATUS)}, "doneAt": STAMP}
OPENAPI["components"]["schemas"].update(
    {
        "Task": obj(
            {
                "id": INT,
                "text": TEXT,
                "agency": TEXT,
                "person": {**TEXT, "description": "„Sie“, ein Name oder „ganze Stelle“"},
                "personId": nullable("integer"),
                "dueDate": nullable("string", format="date"),
                "overdue": BOOL,
                "case": {**nullable("string"), "description": "Fallnummer einer Aufgabe zu einem Fall"},
            }
            | _STATUS,
            {
                "conference": obj(
                    {"id": INT, "name": TEXT},
                    description="nur, wer an der Konferenz teilnimmt, erfährt, wo die Aufgabe vergeben wurde",
                )
            },
        ),
        "TaskList": listing("Task"),
        "ConferenceResults": obj(
            {
                "closed": {**BOOL, "description": "das Protokoll ist abgeschlossen (der Text eingefroren)"},
                "final": {**BOOL, "description": "alle Stellen haben genehmigt"},
                "items": array_of("ResultItem"),
                "attendance": {
                    "type": "array",
                    "items": obj(
                        {
                            "person": INT,
                            "agency": TEXT,
                            "status": {"enum": [*records.ATTENDANCE, None]},
                        }
                    ),
                },
            }
        ),
        "CaseRecords": obj(
            {
                "decisions": {
                    "type": "array",
                    "items": obj({"id": INT, "text": TEXT, "conference": ref("ConferenceRef")}),
                },
                "tasks": {"type": "array", "items": obj(_RESULT_TASK | {"conference": ref("ConferenceRef")})},
                "moreDecisions": BOOL,
                "moreTasks": BOOL,
            }
        ),
        "ConferenceRef": obj({"id": INT, "name": TEXT, "start": STAMP}),
        "ResultItem": obj(
            {"id": INT, "number": TEXT, "confidential": BOOL},
            {
                "decisions": {"type": "array", "items": obj({"id": INT, "text": TEXT})},
                "tasks": {"type": "array", "items": obj(_RESULT_TASK)},
            },
            description="ein Tagesordnungspunkt mit seinen Beschlüssen und Aufgaben (nicht, wenn vertraulich)",
        ),
        "TaskStatus": obj(_STATUS),
        "TaskChanged": obj({"changed": {**TEXTS, "description": "die geänderten Felder; leer: nichts"}} | _STATUS),
        "TaskChange": {
            "type": "object",
            "properties": {
                "agency": {"type": "string", "description": "Kürzel der Stelle (aus dem Fallteam bei Fallaufgaben)"},
                "personId": {
                    "type": ["integer", "null"],
                    "description": "verantwortliche Person dieser Stelle; null: die ganze Stelle. Mit einer neuen "
                    "`agency` ohne `personId`: die ganze Stelle",
                },
                "dueDate": {"type": ["string", "null"], "format": "date"},
            },
        },
    }
)
