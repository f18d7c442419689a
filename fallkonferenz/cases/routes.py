"""Thin views over the case service."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from ..auth.service import list_agencies
from ..casecrypto import keyring
from ..errors import InvalidInput
from ..forms import form_errors, page_number, refused
from ..localtime import datum, today
from ..vocab import CATEGORIES, NOTE_WITHDRAW_REASONS
from . import bp, retention, service
from .forms import CaseForm, GoalForm, GoalStatusForm, NoteForm


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("seite", "1")))
    except ValueError:
        return 1


FILTERS = ("stelle", "feld", "rechtskreis", "stand")
STALE_SEARCH = (
    "Diese Suche ist abgelaufen oder gilt nur in der Anmeldung, in der sie gestellt wurde. Bitte suchen Sie erneut."
)
# Without a choice of stand (service.CASE_STANDS) the list shows the open cases: closed ones wait only for the end
# of their retention period.
UNKNOWN_STAND = "Diese Auswahl des Stands gibt es nicht. Angezeigt werden die offenen Fälle."


@bp.get("/")
def index():
    """The case list. A search for a name arrives as `suche`, sealed to this login (see `search`); `q` in plain
    text is still read, for addresses saved before."""
    args = {k: request.args.get(k, "")[:200] for k in FILTERS}
    query, messages = request.args.get("q", "")[:200], []
    if token := request.args.get("suche", "")[:2000]:
        found = keyring().unhide(token, _search_binding(), max_age=_search_life())
        query = (found or "")[:200]
        if found is None:
            messages.append(STALE_SEARCH)
        else:
            args["suche"] = token  # the pages of the result keep it
    elif query:
        args["q"] = query
    args["stand"] = args["stand"] or "offen"
    if args["stand"] not in service.CASE_STANDS:
        messages.append(UNKNOWN_STAND)
        args["stand"] = "offen"
    result = service.list_cases(
        g.user,
        query=query,
        lead_agency=args["stelle"],
        field_code=args["feld"],
        rechtskreis=args["rechtskreis"],
        stand=args["stand"],
        page=_page_arg(),
    )
    page = render_template(
        "cases/index.html",
        result=result,
        query=query,
        args=args,
        with_closed=url_for("cases.index", **(args | {"stand": "alle"})),
        message=" ".join(messages) or None,
        agencies=list_agencies(),
        may_create=service.may_create(g.user),
    )
    return page, 400 if messages else 200


def _search_life() -> float:
    """Seconds a sealed search stays readable: as long as an idle login lasts (a bookmark of it dies, and a token
    user's search, bound to her account rather than to a login, does not live for ever)."""
    return current_app.config["SESSION_IDLE_MINUTES"] * 60


def _search_binding() -> str:
    """What a sealed search is bound to: the login session's secret (an API token's user has none, so her id)."""
    return session.get("sid") or f"user:{g.user.id}"


@bp.post("/suche")
def search():
    """The search form: the text goes into the address only sealed to this login, so that a client's name stays
    out of the browser's history, its address bar suggestions, bookmarks and every log of addresses."""
    # the default stand stays out of the address, so that the everyday list has one
    args = {k: v for k in FILTERS if (v := request.form.get(k, "")[:200]) and (k, v) != ("stand", "offen")}
    query = request.form.get("q", "").strip()[:200]
    if query:
        args["suche"] = keyring().hide(query, _search_binding())
    return redirect(url_for("cases.index", **args), 303)


@bp.route("/neu", methods=["GET", "POST"])
def create():
    service.ensure_may_create(g.user)
    form = CaseForm()
    if form.validate_on_submit():
        try:
            case = service.create_case(g.user, form.data, ask_if_known=request.form.get("andere_person") != "1")
        except service.KnownClient as exc:
            return render_template("cases/form.html", form=form, errors={}, duplicates=exc.cases), exc.status
        flash(f"Fall {case.number} wurde angelegt.", "success")
        return redirect(url_for("cases.detail", number=case.number))
    status = 422 if form.is_submitted() else 200
    return render_template("cases/form.html", form=form, errors=form_errors(form)), status


@bp.get("/<number>")
def detail(number: str):
    return _render_detail(number)


def _render_detail(number: str, note_form=None, goal_form=None, withdraw_failed=None, status: int = 200):
    """Show the case; a rejected form comes back filled in with its errors, so nothing typed is lost."""
    choice, note_problem = _note_choice()
    view = service.get_case(g.user, number, notes=choice)
    if choice.page > 1 and not view.notes:
        note_problem = f"Seite {choice.page} der Vermerke gibt es nicht."
    if note_problem and status == 200:
        status = 400
    sharing_ends = service.sharing_ends(g.user, view)
    note_form = note_form or NoteForm(formdata=None)
    if goal_form is None:
        goal_form = _goal_form(formdata=None)
        goal_form.responsible_agency_id.data = g.user.agency_id  # most goals are the writer's own agency's
    return (
        render_template(
            "cases/detail.html",
            case=view,
            erasure_on=retention.erasure_date(view.closed_on),
            retention_days=retention.retention_days(),
            hidden_because=service.why_hidden(g.user, view),
            sharing_ends=sharing_ends,
            sharing_ends_in=(sharing_ends - today()).days if sharing_ends else None,
            # Packages above the core (the minutes' decisions and tasks) contribute sections through the factory.
            panels=[panel(g.user, view) for panel in current_app.extensions.get("fk_case_panels", ())],
            note_form=note_form,
            goal_form=goal_form,
            status_form=GoalStatusForm(formdata=None),
            note_errors=form_errors(note_form),
            withdraw_failed=withdraw_failed or (None, ""),
            WITHDRAW_REASONS=NOTE_WITHDRAW_REASONS,
            goal_errors=form_errors(goal_form),
            may_edit_goal=lambda goal: service.may_edit_goal(g.user, goal),
            note_choice=choice,
            note_problem=note_problem,
            NOTES_PAGE=service.NOTES_PAGE,
        ),
        status,
    )


def _note_choice() -> tuple[service.NoteChoice, str | None]:
    """The notes the case page shows (`vermerke`: the page, `kategorie`: one category), and what was refused of
    the address (the first page of all notes is shown then)."""
    raw_page, category = request.args.get("vermerke", "1"), request.args.get("kategorie", "") or None
    page = page_number(raw_page)
    if category is not None and category not in CATEGORIES:
        return service.NoteChoice(), "Diese Kategorie gibt es nicht; angezeigt werden alle Vermerke."
    if page is None:
        return service.NoteChoice(category=category), "Ungültige Seitenzahl der Vermerke; angezeigt wird die erste."
    return service.NoteChoice(page, category), None


def _goal_form(keep: int | None = None, **kwargs) -> GoalForm:
    """The goal form; `keep`: a goal's responsible agency, offered even when it was deactivated since (else the
    form would move the goal to the first agency offered)."""
    form = GoalForm(**kwargs)
    agencies = [a for a in list_agencies(active_only=False) if a.active or a.id == keep]
    form.responsible_agency_id.choices = [(a.id, f"{a.code} – {a.name}") for a in agencies]
    return form


@bp.route("/<number>/bearbeiten", methods=["GET", "POST"])
def edit(number: str):
    view = service.get_case(g.user, number, purpose="Stammdaten bearbeiten")
    form = CaseForm(data=service.master_input(view)) if request.method == "GET" else CaseForm()
    if form.validate_on_submit():
        service.update_case(g.user, number, form.data)
        flash("Die Stammdaten wurden gespeichert.", "success")
        return redirect(url_for("cases.detail", number=view.number))
    status = 422 if form.is_submitted() else 200
    return render_template("cases/form.html", form=form, case=view, errors=form_errors(form)), status


@bp.post("/<number>/abschliessen")
def close(number: str):
    case = retention.close_case(g.user, number)
    erased_on = retention.erasure_date(case.closed_on)
    flash(
        f"Der Fall ist abgeschlossen. Er wird am {datum(erased_on)} gelöscht, wenn er nicht wieder geöffnet wird.",
        "success",
    )
    return redirect(url_for("cases.detail", number=case.number))


@bp.post("/<number>/wieder-oeffnen")
def reopen(number: str):
    case = retention.reopen_case(g.user, number)
    flash("Der Fall ist wieder geöffnet; die Aufbewahrungsfrist läuft erst nach dem nächsten Abschluss.", "success")
    return redirect(url_for("cases.detail", number=case.number))


@bp.post("/<number>/vermerke")
def add_note(number: str):
    form = NoteForm()
    if not form.validate():
        return _render_detail(number, note_form=form, status=422)
    service.add_note(g.user, number, form.category.data, form.text.data)
    flash("Der Vermerk wurde gespeichert.", "success")
    return redirect(url_for("cases.detail", number=number.upper(), _anchor="vermerke"))


@bp.post("/<number>/vermerke/<int:note_id>/zurueckziehen")
def withdraw_note(number: str, note_id: int):
    try:
        service.withdraw_note(g.user, number, note_id, request.form.get("reason", ""))
    except InvalidInput as exc:
        return _render_detail(number, withdraw_failed=(note_id, " ".join(exc.errors.values())), status=422)
    flash("Der Vermerk wurde zurückgezogen; sein Text ist gelöscht.", "success")
    # back to the page of notes it was withdrawn on
    shown = {k: request.form.get(k) for k in ("vermerke", "kategorie") if request.form.get(k)}
    return redirect(url_for("cases.detail", number=number.upper(), **shown, _anchor=f"vermerk-{note_id}"))


@bp.post("/<number>/ziele")
def add_goal(number: str):
    form = _goal_form()
    if not form.validate():
        return _render_detail(number, goal_form=form, status=422)
    try:
        service.add_goal(g.user, number, form.data)
    except InvalidInput as exc:
        return _render_detail(number, goal_form=refused(form, exc.errors), status=422)
    flash("Das Ziel wurde gespeichert.", "success")
    return redirect(url_for("cases.detail", number=number.upper(), _anchor="ziele"))


@bp.route("/<number>/ziele/<int:goal_id>/bearbeiten", methods=["GET", "POST"])
def edit_goal(number: str, goal_id: int):
    case, goal = service.goal_to_edit(g.user, number, goal_id)
    keep = goal.responsible_agency_id
    form = _goal_form(keep, obj=goal) if request.method == "GET" else _goal_form(keep)
    if form.validate_on_submit():
        try:
            changed = service.edit_goal(g.user, number, goal_id, {k: form.data[k] for k in service.GOAL_CONTENT})
        except InvalidInput as exc:
            form = refused(form, exc.errors)
        else:
            flash("Das Ziel wurde geändert." if changed else "Keine Änderung: Das Ziel war schon so.", "success")
            return redirect(url_for("cases.detail", number=case.number, _anchor=f"ziel-{goal_id}"))
    errors = form_errors(form)
    return render_template("cases/goal_edit.html", case=case, goal=goal, form=form, errors=errors), (
        422 if errors else 200
    )


@bp.post("/<number>/ziele/<int:goal_id>/status")
def goal_status(number: str, goal_id: int):
    form = GoalStatusForm()
    if not form.validate():
        raise InvalidInput(errors=form_errors(form))
    service.set_goal_status(g.user, number, goal_id, form.status.data)
    flash("Der Status des Ziels wurde geändert.", "success")
    return redirect(url_for("cases.detail", number=number.upper(), _anchor="ziele"))


@bp.get("/<number>/zugriffe")
def access_report(number: str):
    # the report names the case by its number alone: reading it is no read of the case's data
    case, rows = service.access_report(g.user, number)
    return render_template("cases/access_report.html", case=case, rows=rows)
