"""Thin views: conference list, planning, agenda, poll, responses, calendar."""

from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import case as sql_case
from sqlalchemy import select

from fallkonferenz.auth.service import get_user
from fallkonferenz.errors import Conflict, InvalidInput, NotFound, db_id
from fallkonferenz.extensions import db
from fallkonferenz.forms import form_errors, page_number, refused
from fallkonferenz.models import Agency, User
from fallkonferenz.web import attachment, is_safe_next, public_url

from . import bp, calendar, items, service
from .forms import CancelForm, ConferenceForm, ItemEditForm, ItemForm, PollForm
from .models import ITEM_KINDS

STATE_DONE = {
    "eingeladen": "Alle Teilnehmenden wurden eingeladen.",
    "laeuft": "Die Konferenz läuft.",
    "beendet": "Die Konferenz ist beendet.",
    "abgesagt": "Die Konferenz ist abgesagt.",
}


def _people() -> list[User]:
    """Active accounts that can take part in conferences (steering members in their own), for the picker."""
    return db.session.scalars(
        select(User)
        .join(Agency)
        .where(User.active.is_(True), Agency.active.is_(True), User.role.in_(("case_worker", "moderator", "steering")))
        # the case workers by agency first; the steering members (Lenkungsgruppe-Sitzungen only) after them
        .order_by(sql_case((User.role == "steering", 1), else_=0), Agency.code, User.display_name)
    ).all()


def _person_label(user: User) -> str:
    if user.role == "steering":
        return f"Lenkungsgruppe {user.agency.code} – {user.display_name} (nur Lenkungsgruppe-Sitzungen)"
    return f"{user.agency.code} – {user.display_name}"


def _conference_form(**kwargs) -> ConferenceForm:
    form = ConferenceForm(**kwargs)
    form.participants.choices = [(u.id, _person_label(u)) for u in _people()]
    return form


def _input(form: ConferenceForm) -> service.ConferenceInput:
    return service.ConferenceInput(
        title=form.title.data or "",
        kind=form.kind.data,
        start=form.start.data,
        end=form.end.data,
        location=form.location.data or "",
        video_link=form.video_link.data or "",
    )


def _version() -> int | None:
    """The agenda version the page was built on (None if not sent); anything else than a number is refused, not
    taken as "no version", which would skip the check for a stale page."""
    raw = request.form.get("version")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise InvalidInput("Die Seite ist unvollständig oder veraltet. Bitte laden Sie sie neu.")
    return int(raw)


@bp.get("/konferenzen")
def index():
    asked = page_number(request.args.get("seite", "1"))
    page = asked or 1
    upcoming = service.upcoming_conferences(g.user) if page == 1 else []
    past, older = service.past_conferences(g.user, page)
    message = None if asked else "Ungültige Seitenzahl – es wird die erste Seite angezeigt."
    return render_template(
        "agenda/index.html", upcoming=upcoming, past=past, page=page, older=older, message=message
    ), (400 if message else 200)


@bp.route("/konferenzen/neu", methods=["GET", "POST"])
def create():
    form = _conference_form()
    errors = {}
    if form.is_submitted():
        try:
            if not form.validate():
                raise InvalidInput(errors=form_errors(form))
            conference = service.create_conference(g.user, _input(form), form.participants.data or [])
            flash("Die Konferenz wurde angelegt. Laden Sie ein oder starten Sie eine Terminumfrage.", "success")
            return redirect(url_for("agenda.detail", conference_id=conference.id))
        except InvalidInput as exc:
            errors = exc.errors
    return render_template("agenda/form.html", form=form, errors=errors), (422 if errors else 200)


@bp.route("/konferenzen/<int:conference_id>/bearbeiten", methods=["GET", "POST"])
def edit(conference_id: int):
    conference = service.load_moderated(g.user, conference_id)
    form = _conference_form(obj=conference) if request.method == "GET" else _conference_form()
    errors = {}
    if request.method == "POST":
        try:
            if not form.validate():
                raise InvalidInput(errors=form_errors(form))
            service.update_conference(g.user, conference_id, _input(form))
            flash("Die Konferenz wurde gespeichert.", "success")
            return redirect(url_for("agenda.detail", conference_id=conference_id))
        except InvalidInput as exc:
            errors = exc.errors
    return render_template("agenda/form.html", form=form, errors=errors, conference=conference), (
        422 if errors else 200
    )


@bp.get("/konferenzen/<int:conference_id>")
def detail(conference_id: int):
    return render_detail(conference_id)


def render_detail(
    conference_id: int,
    *,
    item_form=None,
    errors=None,
    confirm=None,
    poll_form=None,
    poll_errors=None,
    response_errors=None,
    cancel_errors=None,
    invite_errors=None,
    agenda_message=None,
    notice_message=None,
    poll_message=None,
    status=200,
):
    """The conference page, also with a refused form kept (the backlog's decision form uses it too)."""
    view = items.conference_view(g.user, conference_id)
    if item_form is None:
        item_form = ItemForm(formdata=None)
    item_form.presenter.choices = [(0, "—")] + [(p.user.id, p.user.display_name) for p in view.participants]
    item_form.kind.choices = [(k, ITEM_KINDS[k]) for k in items.offered_kinds(view.conference)]
    people = _people()
    colleagues = service.substitutes(g.user, view.conference, people)
    return (
        render_template(
            "agenda/detail.html",
            view=view,
            c=view.conference,
            item_form=item_form,
            errors=errors or {},
            confirm=confirm,
            poll_form=poll_form or PollForm(formdata=None),
            poll_errors=poll_errors or {},
            response_errors=response_errors or {},
            cancel_form=CancelForm(formdata=None),
            cancel_errors=cancel_errors or {},
            invitable=service.invitable(view.conference, people) if view.is_moderator else [],
            successors=service.successors(view.conference, people) if view.is_moderator else [],
            invite_errors=invite_errors or {},
            agenda_message=agenda_message,
            notice_message=notice_message,
            poll_message=poll_message,
            colleagues=colleagues,
        ),
        status,
    )


@bp.post("/konferenzen/<int:conference_id>/status")
def state(conference_id: int):
    new = request.form.get("state", "")
    try:
        service.set_state(g.user, conference_id, new, request.form.get("reason", ""))
    except InvalidInput as exc:
        if new != "abgesagt":
            raise
        # The reason stays in its field with the refusal beside it (it may name a client, say).
        return render_detail(conference_id, cancel_errors=exc.errors or {"reason": exc.message}, status=422)
    flash(STATE_DONE.get(new, "Der Status wurde geändert."), "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id))


@bp.post("/konferenzen/<int:conference_id>/teilnehmende")
def add_participants(conference_id: int):
    ids = [i for i in map(db_id, request.form.getlist("user")) if i]
    try:
        if not ids:
            raise InvalidInput(errors={"participants": "Bitte wählen Sie mindestens eine Person."})
        warnings = service.add_participants(g.user, conference_id, ids)
    except InvalidInput as exc:
        # The list again with the ticks kept and the message beside it.
        return render_detail(conference_id, invite_errors=exc.errors or {"participants": exc.message}, status=422)
    for warning in warnings:
        flash(warning, "warning")
    flash("Die Teilnehmenden wurden hinzugefügt.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="teilnehmende"))


@bp.post("/konferenzen/<int:conference_id>/teilnehmende/<int:user_id>/entfernen")
def remove_participant(conference_id: int, user_id: int):
    service.remove_participant(g.user, conference_id, user_id)
    flash("Die Person nimmt nicht mehr teil.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="teilnehmende"))


@bp.post("/konferenzen/<int:conference_id>/antwort")
def respond(conference_id: int):
    substitute = request.form.get("substitute", "")
    try:
        row = service.respond(g.user, conference_id, request.form.get("response", ""), db_id(substitute))
    except InvalidInput as exc:  # the answer comes back on the page, the choice kept and the field marked
        return render_detail(conference_id, response_errors=exc.errors, status=422)
    if not row.active:  # the colleague has the seat now; the conference is no longer the actor's to open
        flash(f"Sie werden von {row.represented_by.display_name} vertreten und nehmen nicht mehr teil.", "success")
        return redirect(url_for("main.dashboard"))
    flash("Ihre Antwort wurde gespeichert.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id))


@bp.post("/konferenzen/<int:conference_id>/umfrage")
def create_poll(conference_id: int):
    form = PollForm()
    if not form.validate():  # a refused poll comes back on the page with what was typed, the fields marked
        return render_detail(conference_id, poll_form=form, poll_errors=form_errors(form), status=422)
    slots = []
    for i in range(8):
        start, end = getattr(form, f"start{i}").data, getattr(form, f"end{i}").data
        if start and end:
            slots.append((start, end))
        elif start or end:
            missing = f"end{i}" if start else f"start{i}"
            errors = {missing: "Bitte Beginn und Ende angeben."}  # the summary names the field ("Termin 2: Ende")
            return render_detail(conference_id, poll_form=form, poll_errors=errors, status=422)
    try:
        service.create_poll(g.user, conference_id, slots)
    except InvalidInput as exc:
        return render_detail(conference_id, poll_form=form, poll_errors=exc.errors, status=422)
    flash("Die Terminumfrage wurde verschickt.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="umfrage"))


@bp.post("/konferenzen/<int:conference_id>/umfrage/antwort")
def answer_poll(conference_id: int):
    answers = {}
    for key, value in request.form.items():
        if key.startswith("slot-") and db_id(key[5:]):
            answers[db_id(key[5:])] = value
    service.answer_poll(g.user, conference_id, answers)
    flash("Ihre Antworten wurden gespeichert. Sie können sie bis zur Festlegung ändern.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="umfrage"))


@bp.post("/konferenzen/<int:conference_id>/umfrage/<int:slot_id>/festlegen")
def fix_slot(conference_id: int, slot_id: int):
    try:
        service.fix_slot(g.user, conference_id, slot_id)
    except InvalidInput as exc:  # the slot has passed since it was proposed: the poll table says what she can do
        return render_detail(conference_id, poll_message=" ".join(exc.errors.values()), status=422)
    flash("Der Termin steht fest. Alle Teilnehmenden wurden eingeladen.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id))


@bp.post("/konferenzen/<int:conference_id>/umfrage/beenden")
def end_poll(conference_id: int):
    service.end_poll(g.user, conference_id)
    flash(
        "Die Terminumfrage ist beendet; die Befragten wurden benachrichtigt. Starten Sie eine neue Umfrage, "
        "oder tragen Sie unter „Bearbeiten“ einen Termin ein und laden Sie ein.",
        "success",
    )
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="steuerung-h"))


@bp.post("/konferenzen/<int:conference_id>/top")
def add_item(conference_id: int):
    form = ItemForm()
    form.presenter.choices = [(0, "—")] + [(u.id, u.display_name) for u in _people()]
    if not form.validate():
        return render_detail(conference_id, item_form=form, errors=form_errors(form), status=422)
    data = items.ItemInput(
        title=form.title.data or "",
        kind=form.kind.data,
        time_box=form.time_box.data,
        case_ref=(form.case.data or "").strip() or None,
        presenter_id=form.presenter.data or None,
        position=form.position.data,
    )
    try:
        items.add_item(g.user, conference_id, data, confirmed=request.form.get("confirm") == "1", version=_version())
    except items.NeedsConfirmation as exc:
        return render_detail(conference_id, item_form=form, confirm=exc.agencies, status=409)
    except Conflict as exc:  # the agenda changed meanwhile (another tab, a colleague): keep what was typed
        return render_detail(conference_id, item_form=form, agenda_message=exc.message, status=409)
    except InvalidInput as exc:
        return render_detail(conference_id, item_form=form, errors=exc.errors, status=422)
    except NotFound as exc:
        if not exc.errors:  # the conference itself
            raise
        return render_detail(conference_id, item_form=form, errors=exc.errors, status=404)
    flash("Der Tagesordnungspunkt wurde hinzugefügt.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="tagesordnung"))


@bp.post("/konferenzen/<int:conference_id>/moderation")
def hand_over(conference_id: int):
    """The moderator, or the administration from an account's page (`next` leads back there)."""
    target = request.form.get("next", "")
    back = target if is_safe_next(target) else url_for("agenda.detail", conference_id=conference_id)
    # a successor not offered (a stale page, a tampered form) gets the German 422 page with the rule
    successor = service.hand_over(g.user, conference_id, request.form.get("successor"))
    flash(f"Die Moderation liegt jetzt bei {successor.display_name}; sie oder er wurde benachrichtigt.", "success")
    return redirect(back)


def account_panel(user) -> Markup:
    """The administration's account page: the conferences the person moderates that are not over, each with the
    colleagues who could take them over (a deactivated account would leave them without a lead)."""
    conferences = service.open_moderated(user.id)
    feed_since = service.calendar_token_since(user)
    if not conferences and feed_since is None:
        return Markup("")
    people = _people() if conferences else []
    page = render_template(
        "agenda/_account_panel.html",
        account=user,
        rows=[(c, service.successors(c, people)) for c in conferences],
        feed_since=feed_since,
    )
    return Markup(page)  # noqa: S704 (ours, escaped)


@bp.post("/verwaltung/benutzer/<int:user_id>/kalender/widerrufen")
def revoke_account_feed(user_id: int):
    """An account's calendar address, revoked by the administration: the feed shows titles and times."""
    user = get_user(user_id)
    service.revoke_calendar_token(g.user, user)  # the service refuses anyone else (404)
    flash("Die Kalenderadresse des Kontos ist widerrufen; abonnierte Kalender erhalten nichts mehr.", "success")
    return redirect(url_for("main.user_edit", user_id=user.id, _anchor="kalenderadresse"))


@bp.route("/konferenzen/<int:conference_id>/top/<int:item_id>/bearbeiten", methods=["GET", "POST"])
def edit_item(conference_id: int, item_id: int):
    conference, item = items.item_to_edit(g.user, conference_id, item_id)
    form = ItemEditForm(obj=item) if request.method == "GET" else ItemEditForm()
    if request.method == "GET":
        form.presenter.data = item.presenter_id or 0
    form.presenter.choices = [(0, "—")] + [
        (p.user_id, f"{p.user.display_name} ({p.user.agency.code})") for p in conference.participants if p.active
    ]
    version = conference.agenda_version if request.method == "GET" else _version()
    message = None
    if form.validate_on_submit():
        change = items.ItemChange(
            title=item.title if item.kind == "beratung" else form.title.data or "",
            time_box=form.time_box.data,
            presenter_id=form.presenter.data or None,
        )
        try:
            changed = items.edit_item(g.user, conference_id, item_id, change, version)
        except Conflict as exc:  # the agenda changed meanwhile: what was typed stays in the form
            message = exc.message
        except InvalidInput as exc:
            form = refused(form, exc.errors)
        else:
            flash("Der Tagesordnungspunkt wurde geändert." if changed else "Keine Änderung.", "success")
            return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor=f"top-{item_id}"))
    errors = form_errors(form)
    page = render_template(
        "agenda/item_edit.html", c=conference, item=item, form=form, errors=errors, version=version, message=message
    )
    return page, 409 if message else 422 if errors else 200


def _stale_agenda(conference_id: int, exc: Conflict):
    """A change made on a page the agenda has changed since: the agenda as it is now, and why nothing happened."""
    return render_detail(conference_id, agenda_message=exc.message, status=409)


@bp.post("/konferenzen/<int:conference_id>/top/<int:item_id>/entfernen")
def remove_item(conference_id: int, item_id: int):
    try:
        items.remove_item(g.user, conference_id, item_id, _version())
    except Conflict as exc:
        return _stale_agenda(conference_id, exc)
    flash("Der Tagesordnungspunkt wurde entfernt.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="tagesordnung"))


@bp.post("/konferenzen/<int:conference_id>/top/<int:item_id>/verschieben")
def move_item(conference_id: int, item_id: int):
    direction = request.form.get("richtung")
    if direction not in ("hoch", "runter"):
        raise InvalidInput("Unbekannte Richtung: ein Punkt geht nach oben oder nach unten.")
    try:
        number = items.move_item(g.user, conference_id, item_id, -1 if direction == "hoch" else 1, _version())
    except Conflict as exc:
        return _stale_agenda(conference_id, exc)
    flash(f"Der Punkt ist jetzt TOP {number}.", "success")
    # Back to the moved item with the focus on the same button, so the next key press moves it on.
    return redirect(url_for("agenda.detail", conference_id=conference_id, fokus=direction, _anchor=f"top-{item_id}"))


@bp.post("/konferenzen/<int:conference_id>/reihenfolge")
def reorder(conference_id: int):
    positions = {db_id(k[4:]): v for k, v in request.form.items() if k.startswith("pos-") and db_id(k[4:])}
    try:
        changed = items.reorder_by_positions(g.user, conference_id, positions, _version())
    except Conflict as exc:
        return _stale_agenda(conference_id, exc)
    flash("Die Reihenfolge wurde gespeichert." if changed else "Die Reihenfolge ist unverändert.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="tagesordnung"))


@bp.post("/konferenzen/<int:conference_id>/tagesordnung/benachrichtigen")
def announce_agenda(conference_id: int):
    try:
        told = service.announce_agenda(g.user, conference_id)
    except Conflict as exc:  # sent already (a second click, another tab), or not invited yet
        return render_detail(conference_id, notice_message=exc.message, status=409)
    flash(
        "Niemand sonst nimmt teil; es wurde keine E-Mail verschickt."
        if not told
        else f"{'Eine Person wurde' if told == 1 else f'{told} Personen wurden'} über die geänderte Tagesordnung "
        "benachrichtigt.",
        "success",
    )
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="tagesordnung"))


@bp.get("/konferenzen/<int:conference_id>/einladung.ics")
def ics(conference_id: int):
    conference = service.load_conference(g.user, conference_id)
    method = "CANCEL" if conference.state == "abgesagt" else "REQUEST"
    body = calendar.invitation(
        conference, service.active_participants(conference), service.conference_url(conference), method
    )
    return attachment(body, "text/calendar", f"konferenz-{conference.id}.ics")


@bp.get("/faelle/<number>/konferenzen")
def case_conferences(number: str):
    case, rows = items.case_conferences(g.user, number)
    return render_template("agenda/case_conferences.html", case=case, rows=rows)


@bp.route("/kalender", methods=["GET", "POST"])
def calendar_settings():
    token = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "widerrufen":
            service.revoke_calendar_token(g.user)
            flash("Der Kalender-Link wurde widerrufen.", "success")
        elif action == "neu":
            token = service.create_calendar_token(g.user)
        else:
            raise InvalidInput("Unbekannte Aktion für den Kalender-Link.")
    feed_url = public_url("agenda.feed", token=token) if token else None
    return render_template("agenda/calendar.html", feed_url=feed_url, active=service.has_calendar_token(g.user))


@bp.get("/kalender/<token>.ics")
def feed(token: str):
    return Response(service.calendar_feed(token), mimetype="text/calendar")


@bp.app_context_processor
def agenda_vocabulary():
    from .models import KINDS, POLL_ANSWERS, RESPONSES, STATES, TASK_STATUS

    return {
        "KINDS": KINDS,
        "STATES": STATES,
        "ITEM_KINDS": ITEM_KINDS,
        "RESPONSES": RESPONSES,
        "POLL_ANSWERS": POLL_ANSWERS,
        "TASK_STATUS": TASK_STATUS,
    }


def dashboard_panel(user: User):
    """The dashboard's list of the user's next conferences."""
    upcoming = service.upcoming_conferences(user)
    invitations, polls = service.awaiting_answer(user)
    # Our own rendered (and autoescaped) template, so it is safe to embed as markup.
    return Markup(  # noqa: S704
        render_template("agenda/_dashboard.html", upcoming=upcoming[:5], invitations=invitations, polls=polls)
    )
