"""The minutes page: one live editor per agenda item the user may see."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup

from agenda import items as agenda_items
from agenda.models import AgendaItem, Conference
from fallkonferenz import audit, localtime
from fallkonferenz.auth.service import agency_codes, list_agencies
from fallkonferenz.errors import DomainError, InvalidInput, db_id
from fallkonferenz.extensions import db
from fallkonferenz.forms import Kept, kept_input, parse_date
from fallkonferenz.web import attachment, error_response, is_safe_next, wants_json

from . import export, records, service

bp = Blueprint("minutes", __name__)


@bp.get("/konferenzen/<int:conference_id>/protokoll")
def page(conference_id: int):
    view = agenda_items.conference_view(g.user, conference_id)
    agencies = list_agencies()
    visible = [item.id for item in view.items if not item.confidential]
    texts = service.texts_of(visible)
    audit.record(
        "minutes.read",
        actor=g.user,
        detail={"conference": conference_id, "items": list(texts)},
        case_ids=view.case_ids(),
    )
    return render_template(
        "minutes/page.html",
        view=view,
        c=view.conference,
        texts=texts,
        closed=service.is_closed(view.conference),
        decisions=records.decision_entries(visible),
        tasks=records.task_entries_for(visible),
        attendance=records.attendance_of(conference_id),
        agencies=agencies,
        task_agencies=records.task_agencies(view.items, agencies),
        ATTENDANCE=records.ATTENDANCE,
    )


def _records_url(conference_id: int, anchor: str | None = None) -> str:
    return url_for("minutes.records_page", conference_id=conference_id, _anchor=anchor)


@bp.get("/konferenzen/<int:conference_id>/protokoll/ergebnisse")
def records_page(conference_id: int):
    """Attendance, decisions and tasks per item, closing and approval, addenda."""
    return _render_records(conference_id)


def _refused(conference_id: int, form: str, exc: DomainError):
    """A refused decision, task, approval or addendum: the results page again, with what was typed and why (the
    minutes page's script, which sent the form in the background, gets why alone: the input is still in its
    form)."""
    if wants_json():
        return error_response(exc.status, exc.message, exc.errors)
    db.session.rollback()
    kept = kept_input(form)
    return _render_records(conference_id, kept=kept, errors=exc.errors, message=exc.message, status=exc.status)


def _render_records(conference_id: int, *, kept: Kept | None = None, errors=None, message=None, status: int = 200):
    view = agenda_items.conference_view(g.user, conference_id)
    agencies = list_agencies()
    visible = [i.id for i in view.items if not i.confidential]
    approvals = records.approvals_of(conference_id)
    closure = records.closure(conference_id)
    return render_template(
        "minutes/records.html",
        view=view,
        c=view.conference,
        closure=closure,
        seal=records.seal_of(closure) if closure else None,
        decisions=records.decision_entries(visible),
        tasks=records.task_entries_for(visible),
        attendance=records.attendance_of(conference_id),
        approvals=approvals,
        approval_rows=records.approval_rows(view.participants, approvals),
        approval_history=records.approval_history(conference_id),
        addenda=records.addenda_of(conference_id),
        versions=records.versions(visible),
        agencies=agencies,
        task_agencies=records.task_agencies(view.items, agencies),
        agency_codes=agency_codes(),
        ATTENDANCE=records.ATTENDANCE,
        kept=kept or Kept(),
        errors=errors or {},
        message=message,
    ), status


@bp.post("/konferenzen/<int:conference_id>/protokoll/anwesenheit")
def attendance(conference_id: int):
    statuses = {
        db_id(key[5:]): status for key, status in request.form.items() if key.startswith("user-") and db_id(key[5:])
    }
    records.set_attendances(g.user, conference_id, statuses)  # "—" (empty): not recorded (yet)
    flash("Die Anwesenheit wurde gespeichert.", "success")
    return redirect(_records_url(conference_id, "anwesenheit"))


@bp.post("/protokoll/top/<int:item_id>/beschluss")
def decision(item_id: int):
    try:
        records.add_decision(g.user, item_id, request.form.get("text", ""))
    except InvalidInput as exc:
        return _refused(records.conference_of(item_id), f"d-{item_id}", exc)
    return _recorded(item_id, "Der Beschluss wurde festgehalten.")


@bp.post("/protokoll/top/<int:item_id>/aufgabe")
def task(item_id: int):
    user = request.form.get("user", "")
    try:
        if user and db_id(user) is None:  # a person the form cannot have offered: not silently "nobody"
            raise InvalidInput(errors={"person": "Unbekannte Person. Bitte wählen Sie aus der Liste."})
        records.add_task(
            g.user,
            item_id,
            request.form.get("text", ""),
            request.form.get("agency", ""),
            db_id(user),
            _due_date(request.form.get("due", "")),
        )
    except InvalidInput as exc:
        return _refused(records.conference_of(item_id), f"t-{item_id}", exc)
    return _recorded(item_id, "Die Aufgabe wurde festgehalten.")


@bp.post("/protokoll/<any(decision, task):kind>/<int:record_id>/zurueckziehen")
def withdraw(kind: str, record_id: int):
    item_id = records.withdraw_record(g.user, kind, record_id)
    return _recorded(
        item_id, "Der Beschluss wurde zurückgezogen." if kind == "decision" else "Die Aufgabe wurde zurückgezogen."
    )


@bp.route("/aufgaben/<int:task_id>/aendern", methods=["GET", "POST"])
def task_change(task_id: int):
    """Another agency or person, or another due date, for an open task; back to where the change was asked."""
    task, conference = records.task_to_change(g.user, task_id)
    target = request.values.get("next", "")
    back = target if is_safe_next(target) else url_for("main.dashboard")
    errors = {}
    if request.method == "POST":
        user = request.form.get("user", "")
        try:
            if user and db_id(user) is None:
                raise InvalidInput(errors={"person": "Unbekannte Person. Bitte wählen Sie aus der Liste."})
            changed = records.change_task(
                g.user, task_id, request.form.get("agency", ""), db_id(user), _due_date(request.form.get("due", ""))
            )
        except InvalidInput as exc:
            errors = exc.errors
        else:
            flash("Die Aufgabe wurde geändert." if changed else "Keine Änderung.", "success")
            return redirect(back)
    item = db.session.get(AgendaItem, task.agenda_item_id)
    # the task's own agency is offered even when it was deactivated since: saving a new date must not move it
    agencies = [a for a in list_agencies(active_only=False) if a.active or a.id == task.responsible_agency_id]
    page = render_template(
        "minutes/task_change.html",
        task=task,
        c=conference,
        back=back,
        agencies=records.task_agencies([item], agencies).get(item.id, agencies),
        people=[p.user for p in conference.participants if p.active and p.user.active],
        form=request.form if request.method == "POST" else None,
        errors=errors,
    )
    return page, 422 if errors else 200


def _due_date(text: str) -> date | None:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise InvalidInput(errors={"due": str(exc)}) from None


def _recorded(item_id: int, message: str):
    """A decision or task is stored: back to the page the form was on (the minutes or the results), else to the
    item on the results page. The minutes page's script, which sent the form in the background so that no editor
    closes, gets the message alone: the record reaches it over the item's room like everyone else."""
    if wants_json():
        return jsonify(message=message), 201
    flash(message, "success")
    target = request.form.get("next", "")
    if is_safe_next(target):
        return redirect(target)
    return redirect(_records_url(records.conference_of(item_id), f"top-{item_id}"))


@bp.post("/aufgaben/<int:task_id>/erledigt")
def task_done(task_id: int):
    records.complete_task(g.user, task_id)
    return _task_changed("Die Aufgabe ist erledigt.")


@bp.post("/aufgaben/<int:task_id>/wieder-offen")
def task_reopen(task_id: int):
    records.reopen_task(g.user, task_id)
    return _task_changed("Die Aufgabe ist wieder offen.")


def _task_changed(message: str):
    """Back to where the task was ticked off or opened (the dashboard, or the minutes; the minutes page's script
    gets the message alone)."""
    if wants_json():
        return jsonify(message=message)
    flash(message, "success")
    target = request.form.get("next", "")
    return redirect(target if is_safe_next(target) else url_for("main.dashboard"))


@bp.post("/konferenzen/<int:conference_id>/protokoll/abschliessen")
def close(conference_id: int):
    try:
        records.close_minutes(g.user, conference_id)
    except InvalidInput as exc:
        return _refused(conference_id, "close", exc)
    flash("Das Protokoll ist abgeschlossen. Die teilnehmenden Stellen können es jetzt genehmigen.", "success")
    return redirect(_records_url(conference_id, "genehmigung"))


@bp.post("/konferenzen/<int:conference_id>/protokoll/wiedereroeffnen")
def reopen(conference_id: int):
    records.reopen_minutes(g.user, conference_id)
    flash(
        "Das Protokoll ist wieder zur Bearbeitung geöffnet. Nach dem erneuten Abschluss genehmigen alle Stellen neu.",
        "success",
    )
    return redirect(_records_url(conference_id, "genehmigung"))


@bp.post("/konferenzen/<int:conference_id>/protokoll/genehmigung")
def approve(conference_id: int):
    try:
        records.approve(g.user, conference_id, request.form.get("decision", ""), request.form.get("reason", ""))
    except InvalidInput as exc:
        return _refused(conference_id, "approve", exc)
    flash("Ihre Entscheidung wurde gespeichert.", "success")
    return redirect(_records_url(conference_id, "genehmigung"))


@bp.post("/konferenzen/<int:conference_id>/protokoll/nachtrag")
def addendum(conference_id: int):
    try:
        records.add_addendum(g.user, conference_id, request.form.get("text", ""))
    except InvalidInput as exc:
        return _refused(conference_id, "addendum", exc)
    flash("Der Nachtrag wurde gespeichert.", "success")
    return redirect(_records_url(conference_id, "nachtraege"))


@bp.get("/konferenzen/<int:conference_id>/protokoll.md")
def markdown(conference_id: int):
    """The minutes as Markdown: only the items the reader's agency may see."""
    body = export.markdown(g.user, conference_id)
    return attachment(body, "text/markdown", _file_name(conference_id, "md"))


@bp.get("/konferenzen/<int:conference_id>/protokoll.pdf")
def pdf(conference_id: int):
    """The minutes as PDF: only the items the reader's agency may see."""
    return attachment(export.pdf(g.user, conference_id), "application/pdf", _file_name(conference_id, "pdf"))


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _file_name(conference_id: int, extension: str) -> str:
    """A download's name that says what it is among others in a folder: protokoll-2026-10-16-fallkonferenz-oktober
    (the export has checked access; a title names no case, see `agenda.service.check_title`)."""
    conference = db.session.get(Conference, conference_id)
    words = re.findall(r"[a-z0-9]+", conference.title.translate(_UMLAUTS).lower())
    slug = "-".join(words)[:60].strip("-")
    day = localtime.to_local(conference.start).date().isoformat()
    return f"protokoll-{day}{'-' + slug if slug else ''}.{extension}"


def case_panel(user, case):
    """The case page's decisions and tasks from the conferences, for the case team (lead agency or consent)."""
    found = records.case_records(case.id, case.access)
    if found is None:
        return Markup("")
    page = render_template(
        "minutes/_case_records.html", case=case, records=found, CASE_RECORDS_SHOWN=records.CASE_RECORDS_SHOWN
    )
    return Markup(page)  # noqa: S704 (ours, escaped)


# The dashboard's choice of tasks (`aufgaben`): all of the agency's, or without those a colleague has by name.
TASK_CHOICES = ("", "meine")


def tasks_panel(user):
    """The dashboard's 'Meine Aufgaben', overdue ones first and highlighted."""
    choice = request.args.get("aufgaben", "")
    unknown = choice not in TASK_CHOICES
    if unknown:
        g.refused_input = True  # the dashboard answers 400; the panel shows all tasks and says why
    only_mine = choice == "meine"
    return Markup(  # noqa: S704 (ours, escaped)
        render_template(
            "minutes/_tasks.html",
            rows=records.my_tasks(user, only_mine=only_mine),
            only_mine=only_mine,
            unknown_choice=choice[:100] if unknown else None,
            approvals=records.awaiting_approval(user),
        )
    )
