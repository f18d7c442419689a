"""Thin views of the backlog: list, item, escalation form, triage, working groups, steering meetings."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

from flask import flash, g, redirect, render_template, request, url_for
from markupsafe import Markup

from agenda.models import OVER_STATES
from agenda.routes import render_detail as render_conference
from agenda.service import visible_conference_ids
from consent.policy import may_escalate, viewer_of
from fallkonferenz.auth.service import list_agencies
from fallkonferenz.errors import Conflict, InvalidInput, db_id
from fallkonferenz.forms import Kept, form_errors, kept_input, page_number
from fallkonferenz.models import User

from . import bp, guard, service, stats
from .forms import (
    AgendaProposalForm,
    DecisionForm,
    EscalationForm,
    GroupForm,
    GroupStatusForm,
    ImplementationForm,
    JoinForm,
    MergeForm,
    MoveForm,
    RecommendationForm,
    ReportForm,
    TriageForm,
)
from .models import (
    CATEGORIES,
    CLOSED_STATES,
    GROUP_STATUS,
    IMPLEMENTATION_DONE,
    IMPLEMENTATION_STATUS,
    NEXT_STEPS,
    PRIORITIES,
    STATES,
    transitions_from,
)

# Errors a change form answers on its own page, keeping the input; 403/404 go to the error page.
KEPT = (InvalidInput, Conflict, service.InvalidTransition)


# -- the list ------------------------------------------------------------------------------------------------


def _filter_args(agencies) -> tuple[service.BacklogFilter, dict, list[str]]:
    """Query parameters → filter; an unknown value is dropped with a German note, never an error."""
    f, dropped, cut = stats.read_filter(request.args, {a.code for a in agencies})
    notes = [f"{stats.UNKNOWN[k]} „{v}“ – dieser Filter wurde nicht angewendet." for k, v in dropped.items()]
    notes.extend([cut] if cut else [])
    raw_page = request.args.get("seite", "1")
    f.page = page_number(raw_page) or 1
    if str(f.page) != raw_page:
        notes.append("Ungültige Seitenzahl – es wird Seite 1 angezeigt.")
    conference = db_id(request.args.get("konferenz", ""))  # kept for the item links: see _render_detail
    args = {
        "kategorie": f.category,
        "status": f.state,
        "behoerde": f.agency,
        # the default order is not written into every link
        "sortierung": f.sort if request.args.get("sortierung") and "sortierung" not in dropped else "",
        "offen": "1" if f.open_only else "",
        "q": f.text,
        "konferenz": str(conference) if conference else "",
    }
    return f, {k: v for k, v in args.items() if v}, notes


@bp.get("/lenkungsgruppe/themen")
def index():
    agencies = list_agencies()
    f, args, notes = _filter_args(agencies)
    rows, total = service.list_items(g.user, f, columns=service.LIST_COLUMNS)
    pages = max(1, ceil(total / service.PAGE_SIZE))
    return render_template(
        "backlog/index.html",
        rows=rows,
        total=total,
        page=f.page,
        pages=pages,
        f=f,
        args=args,
        notes=notes,
        agencies=agencies,
        today=service.today(),
        sorts=service.SORTS,
        steering=service.is_steering(g.user),
    )


# -- one item --------------------------------------------------------------------------------------------------


def _render_detail(escalation_id: int, *, kept=None, errors=None, message=None, status=200):
    escalation = service.load(g.user, escalation_id)
    # searched from a conference's page: its cases are offered first for "betrifft uns auch"
    from_conference = db_id(request.args.get("konferenz", ""))
    steering = service.is_steering(g.user)
    recommendation = service.recommendation_of(escalation.id)
    group = service.load_group(g.user, escalation.working_group_id) if escalation.working_group_id else None
    mergeable = steering and "zusammengefuehrt" in transitions_from(escalation.state)
    merge_targets = [e for e in service.joinable(g.user) if e.id != escalation.id] if mergeable else []
    impls = recommendation.implementations if recommendation else []
    viewer = viewer_of(g.user)
    consultations = service.consultations_for(escalation.id)
    return (
        render_template(
            "backlog/detail.html",
            e=escalation,
            steering=steering,
            history=service.history(escalation.id),
            supporters=service.supporter_count(escalation.id),
            linked=service.linked_cases(g.user, escalation.id),
            linkable=service.linkable_items(g.user, escalation, first=from_conference),
            case_role=may_escalate(viewer),
            consultations=consultations,
            # Everyone reads the backlog; a meeting's page opens only to its moderator and participants.
            open_meetings=visible_conference_ids(g.user, [c.id for c, _ in consultations]),
            group=group,
            recommendation=recommendation,
            overdue={i.id for i in impls if service.is_overdue(recommendation, i)},
            may_update=(reportable := service.reportable_implementations(g.user, escalation, impls)),
            closing=service.closing_reports(escalation, impls, reportable),
            can_adopt=steering and "empfehlung" in transitions_from(escalation.state),
            targets=service.plain_moves(escalation),
            groups=service.groups("aktiv") if steering else [],
            merge_targets=merge_targets,
            member_agencies=service.member_agencies() if steering and escalation.is_open else [],
            rewordable=service.may_reword(g.user, escalation),
            kept=kept or Kept(),
            errors=errors or {},
            message=message,
        ),
        status,
    )


@bp.get("/lenkungsgruppe/themen/<int:escalation_id>")
def detail(escalation_id: int):
    return _render_detail(escalation_id)


def _change(escalation_id: int, name: str, form, action, success, anchor: str = "steuerung"):
    """Validate the shape, run the service; a rule or a stale version re-renders the page with the input kept.
    `success` is the message after it, or a function that words it once the change is made."""
    if not form.validate():
        return _render_detail(escalation_id, kept=kept_input(name), errors=form_errors(form), status=422)
    try:
        action()
    except KEPT as exc:  # the service left nothing behind (its changes are all or nothing)
        return _render_detail(
            escalation_id, kept=kept_input(name), errors=exc.errors, message=exc.message, status=exc.status
        )
    flash(success() if callable(success) else success, "success")
    return redirect(url_for("backlog.detail", escalation_id=escalation_id, _anchor=anchor))


def _reported(escalation_id: int) -> str:
    """What a saved implementation report says: also that it closed the item, where it was the last one."""
    escalation = service.load(g.user, escalation_id)
    if escalation.state == "umgesetzt":
        return (
            f"Der Stand der Umsetzung wurde gespeichert. Damit haben alle Stellen gemeldet: {escalation.reference} "
            "hat jetzt den Status „umgesetzt“ und ist abgeschlossen."
        )
    return "Der Stand der Umsetzung wurde gespeichert."


@bp.post("/lenkungsgruppe/themen/<int:escalation_id>/sichten")
def triage(escalation_id: int):
    service.require_steering(g.user)
    form = TriageForm()
    return _change(
        escalation_id,
        "triage",
        form,
        lambda: service.triage(
            g.user, escalation_id, form.version.data, form.priority.data, form.category.data or None
        ),
        "Priorität und Kategorie wurden gespeichert.",
    )


@bp.post("/lenkungsgruppe/themen/<int:escalation_id>/status")
def move(escalation_id: int):
    service.require_steering(g.user)
    form = MoveForm()
    return _change(
        escalation_id,
        "move",
        form,
        lambda: service.transition(
            g.user,
            escalation_id,
            form.to_state.data or "",
            form.version.data,
            reason=form.reason.data or "",
            working_group_id=form.working_group.data,
        ),
        "Der Status wurde geändert. Die Meldenden werden benachrichtigt.",
        "verlauf",
    )


@bp.post("/lenkungsgruppe/themen/<int:escalation_id>/zusammenfuehren")
def merge(escalation_id: int):
    service.require_steering(g.user)
    form = MergeForm()
    return _change(
        escalation_id,
        "merge",
        form,
        lambda: service.merge(g.user, escalation_id, form.into.data, form.version.data, form.reason.data or ""),
        "Der Eintrag wurde zusammengeführt; verknüpfte Fälle und Unterstützende wurden übernommen.",
        "verlauf",
    )


@bp.post("/lenkungsgruppe/themen/<int:escalation_id>/empfehlung")
def adopt(escalation_id: int):
    service.require_steering(g.user)
    form = RecommendationForm()
    return _change(
        escalation_id,
        "adopt",
        form,
        lambda: service.adopt(
            g.user, escalation_id, form.version.data, form.text.data or "", form.due_date.data, form.agencies.data
        ),
        "Die Empfehlung wurde beschlossen. Jede Stelle meldet ihren Stand der Umsetzung.",
        "empfehlung",
    )


@bp.post("/lenkungsgruppe/umsetzung/<int:impl_id>")
def implementation(impl_id: int):
    service.require_steering(g.user)
    escalation_id = service.implementation_escalation_id(impl_id)
    form = ImplementationForm()
    return _change(
        escalation_id,
        f"impl-{impl_id}",
        form,
        lambda: service.update_implementation(
            g.user, impl_id, form.status.data or "", form.reason.data or "", form.version.data
        ),
        lambda: _reported(escalation_id),
        "empfehlung",
    )


# -- escalating and editing the text ---------------------------------------------------------------------------


def _escalation_form(**kwargs) -> EscalationForm:
    return EscalationForm(**kwargs).with_agencies(list_agencies())


def _escalation_input(form: EscalationForm) -> service.EscalationInput:
    return service.EscalationInput(
        title=form.title.data or "",
        description=form.description.data or "",
        category=form.category.data or "",
        rechtskreise=form.rechtskreise.data or [],
        agencies=form.agencies.data or [],
        proposed_solution=form.proposed_solution.data or "",
    )


def _marked(form: EscalationForm, hits: list[guard.Hit]) -> dict:
    """Per text field: the input with every hit of the guard highlighted."""
    out = {}
    for name in service.TEXT_FIELDS:
        mine = [h for h in hits if h.field == name]
        if mine:
            out[name] = guard.highlight(form[name].data or "", mine)
    return out


@bp.route("/konferenzen/<int:conference_id>/top/<int:item_id>/eskalieren", methods=["GET", "POST"])
def escalate(conference_id: int, item_id: int):
    conference, item, case = service.escalation_source(g.user, item_id, conference_id)
    form = _escalation_form()
    errors, marked = {}, {}
    if form.is_submitted():
        if not form.validate():
            # With the guard's hits in the same round, so that the text is corrected once.
            errors = form_errors(form)
            hits = service.check_text(g.user, _escalation_input(form).texts(), service.agenda_cases(conference))
            if hits:
                errors, marked = service.IdentifyingText(hits).errors | errors, _marked(form, hits)
        else:
            try:
                escalation = service.escalate(g.user, _escalation_input(form), item_id)
            except service.IdentifyingText as exc:
                # nothing was written but the audit trail of the check, which is kept
                errors, marked = exc.errors, _marked(form, exc.hits)
            except InvalidInput as exc:
                errors = exc.errors or {"form": exc.message}
            else:
                flash(
                    f"Das Strukturproblem wurde als {escalation.reference} an die Lenkungsgruppe gemeldet. "
                    "Sie werden über jeden neuen Stand benachrichtigt.",
                    "success",
                )
                return redirect(url_for("backlog.detail", escalation_id=escalation.id))
    return render_template(
        "backlog/form.html",
        form=form,
        errors=errors,
        marked=marked,
        conference=conference,
        item=item,
        case=case,
        action=url_for("backlog.escalate", conference_id=conference_id, item_id=item_id),
    ), (422 if errors else 200)


@bp.route("/lenkungsgruppe/themen/<int:escalation_id>/bearbeiten", methods=["GET", "POST"])
def edit(escalation_id: int):
    escalation = service.load(g.user, escalation_id)
    if request.method == "GET":  # a correction sent too late is the service's to answer, with the input kept
        service.require_reword(g.user, escalation)
    errors, marked, message, status = {}, {}, None, 200
    version = escalation.version
    if request.method == "GET":
        form = _escalation_form(
            data={
                "title": escalation.title,
                "description": escalation.description,
                "category": escalation.category,
                "rechtskreise": escalation.rechtskreis_list,
                "agencies": escalation.agency_list,
                "proposed_solution": escalation.proposed_solution,
                "version": escalation.version,
            }
        )
    else:
        form = _escalation_form()
        version = form.version.data or escalation.version
        if not form.validate():
            errors, status = form_errors(form), 422
        else:
            try:
                service.edit_text(g.user, escalation_id, form.version.data, _escalation_input(form))
            except KEPT as exc:
                errors, message, status = exc.errors, exc.message, exc.status
                if isinstance(exc, service.IdentifyingText):
                    marked = _marked(form, exc.hits)
                escalation = service.load(g.user, escalation_id)
                if isinstance(exc, Conflict):
                    version = escalation.version  # the user has now seen the saved state below
            else:
                flash("Der Text wurde gespeichert.", "success")
                return redirect(url_for("backlog.detail", escalation_id=escalation_id))
    return render_template(
        "backlog/form.html",
        form=form,
        errors=errors,
        marked=marked,
        message=message,
        escalation=escalation,
        version=version,
        action=url_for("backlog.edit", escalation_id=escalation_id),
    ), status


# -- "betrifft uns auch" --------------------------------------------------------------------------------------------


@bp.post("/lenkungsgruppe/themen/<int:escalation_id>/betrifft-uns-auch")
def join(escalation_id: int):
    form = JoinForm()
    if not form.validate():
        raise InvalidInput(errors=form_errors(form))
    # A text that names the case's client is refused with what matched (data of the user's own case); the
    # guard's audited look-up stays on record (IdentifyingText.keeps_audit).
    escalation = service.join(g.user, escalation_id, form.item_id.data)
    flash(f"Ihr Fall wurde mit {escalation.reference} verknüpft ({escalation.case_count} betroffene Fälle).", "success")
    return redirect(url_for("backlog.detail", escalation_id=escalation.id))


# -- working groups -------------------------------------------------------------------------------------------------


@bp.get("/lenkungsgruppe/arbeitsgruppen")
def groups():
    return render_template(
        "backlog/groups.html",
        groups=service.groups_overview(),
        steering=service.is_steering(g.user),
        today=service.today(),
    )


@bp.route("/lenkungsgruppe/arbeitsgruppen/neu", methods=["GET", "POST"])
def group_new():
    service.require_steering(g.user)
    return _group_form(None)


@bp.route("/lenkungsgruppe/arbeitsgruppen/<int:group_id>/bearbeiten", methods=["GET", "POST"])
def group_edit(group_id: int):
    service.require_steering(g.user)
    return _group_form(service.load_group(g.user, group_id))


def _group_form(group):
    """A new working group, or the change of one (name, mandate, lead, report date, members)."""
    people = service.group_candidates()
    if group is None:
        form = GroupForm()
    else:
        current = {
            "name": group.name,
            "mandate": group.mandate,
            "lead": group.lead_id,
            "due_date": group.due_date,
            "members": [m.user_id for m in group.members],
        }
        form = GroupForm(data=current)
    form.with_people(people)
    errors, marked = {}, {}
    if form.is_submitted():
        data = service.GroupInput(
            name=form.name.data or "",
            mandate=form.mandate.data or "",
            lead_id=form.lead.data,
            due_date=form.due_date.data,
            member_ids=form.members.data or [],
        )
        try:
            if not form.validate():
                raise InvalidInput(errors=form_errors(form))
            if group is None:
                group = service.create_group(g.user, data)
                flash(f"Die Arbeitsgruppe „{group.name}“ wurde eingerichtet.", "success")
            else:
                changed = service.update_group(g.user, group.id, data)
                flash("Die Arbeitsgruppe wurde geändert." if changed else "Es gab nichts zu ändern.", "success")
        except service.IdentifyingText as exc:
            errors = exc.errors
            marked = {
                key: guard.highlight(value.strip(), [h for h in exc.hits if h.field == key])
                for key, value in (("name", data.name), ("mandate", data.mandate))
                if key in exc.errors
            }
        except InvalidInput as exc:
            errors = exc.errors or {"form": exc.message}
        else:
            return redirect(url_for("backlog.group", group_id=group.id))
    page = render_template("backlog/group_form.html", form=form, errors=errors, marked=marked, group=group)
    return page, (422 if errors else 200)


def _render_group(group_id: int, *, errors=None, marked=None, text="", status=200):
    group = service.load_group(g.user, group_id)
    steering = service.is_steering(g.user)
    return render_template(
        "backlog/group.html",
        group=group,
        items=service.group_items(group.id),
        steering=steering,
        may_report=steering or any(m.user_id == g.user.id for m in group.members),
        errors=errors or {},
        marked=marked,
        text=text,
        today=service.today(),
    ), status


@bp.get("/lenkungsgruppe/arbeitsgruppen/<int:group_id>")
def group(group_id: int):
    return _render_group(group_id)


@bp.post("/lenkungsgruppe/arbeitsgruppen/<int:group_id>/bericht")
def group_report(group_id: int):
    form = ReportForm()
    text = form.text.data or ""
    try:
        if not form.validate():
            raise InvalidInput(errors=form_errors(form))
        service.add_report(g.user, group_id, text)
    except service.IdentifyingText as exc:
        return _render_group(
            group_id,
            errors={"text": exc.message},
            marked=guard.highlight(text, exc.hits),
            text=text,
            status=422,
        )
    except InvalidInput as exc:
        return _render_group(group_id, errors=exc.errors or {"text": exc.message}, text=text, status=422)
    flash("Der Statusbericht wurde gespeichert.", "success")
    return redirect(url_for("backlog.group", group_id=group_id, _anchor="berichte"))


@bp.post("/lenkungsgruppe/arbeitsgruppen/<int:group_id>/status")
def group_status(group_id: int):
    form = GroupStatusForm()
    service.set_group_status(g.user, group_id, form.status.data or "")
    flash(f"Die Arbeitsgruppe ist jetzt {GROUP_STATUS.get(form.status.data, '')}.", "success")
    return redirect(url_for("backlog.group", group_id=group_id))


# -- steering meetings ------------------------------------------------------------------------------------------------


@bp.post("/konferenzen/<int:conference_id>/themen")
def put_on_agenda(conference_id: int):
    form = AgendaProposalForm()
    if not form.validate():
        raise InvalidInput(errors=form_errors(form))
    if not form.escalation.data:
        raise InvalidInput(errors={"escalation": "Bitte wählen Sie mindestens einen Eintrag."})
    # Empty is the default; 0 is refused by the service, not replaced.
    time_box = 15 if form.time_box.data is None else form.time_box.data
    moved = service.put_on_agenda(g.user, conference_id, form.escalation.data, time_box)
    references = ", ".join(e.reference for e in moved)
    flash(f"Auf der Tagesordnung: {references}.", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor="tagesordnung"))


@bp.post("/konferenzen/<int:conference_id>/top/<int:item_id>/beschluss")
def decide(conference_id: int, item_id: int):
    service.load_consultation(g.user, conference_id, item_id)
    form = DecisionForm()
    try:
        if not form.validate():
            raise InvalidInput(errors=form_errors(form))
        escalation = service.decide(
            g.user,
            conference_id,
            item_id,
            service.DecisionInput(
                outcome=form.outcome.data or "",
                text=form.text.data or "",
                version=form.version.data,
                working_group_id=form.working_group.data,
                due_date=form.due_date.data,
                agency_ids=form.agencies.data or [],
            ),
        )
    except KEPT as exc:
        # the conference page again, with this form open and filled in (read by conference_panel)
        g.backlog_kept, g.backlog_errors, g.backlog_message = kept_input(f"decide-{item_id}"), exc.errors, exc.message
        return render_conference(conference_id, status=exc.status)
    flash(f"Der Beschluss zu {escalation.reference} wurde festgehalten ({STATES[escalation.state]}).", "success")
    return redirect(url_for("agenda.detail", conference_id=conference_id, _anchor=f"top-{item_id}"))


@dataclass
class ConferencePanel:
    """What the backlog adds to a conference page (and its minutes) for this user."""

    can_escalate: bool = False
    steering: bool = False
    consultations: dict = field(default_factory=dict)
    proposed: list = field(default_factory=list)
    may_propose: bool = False
    groups: list = field(default_factory=list)
    agencies: list = field(default_factory=list)
    kept: Kept = field(default_factory=Kept)
    errors: dict = field(default_factory=dict)
    message: str | None = None


def conference_panel(conference, view) -> ConferencePanel:
    """Backlog data for the conference page: computed only when a conference template asks for it."""
    user: User = g.user
    panel = ConferencePanel(
        steering=service.is_steering(user),
        kept=g.get("backlog_kept") or Kept(),
        errors=g.get("backlog_errors") or {},
        message=g.get("backlog_message"),
    )
    if conference.kind == "lenkungsgruppe":
        panel.consultations = service.consultations_of(conference.id)
        panel.may_propose = panel.steering and view.is_moderator and conference.state not in OVER_STATES
        if panel.may_propose:
            panel.proposed = service.proposed_agenda(user, conference.id)
        if panel.steering and panel.consultations:
            panel.groups = service.groups("aktiv")
            panel.agencies = service.member_agencies()
        return panel
    panel.can_escalate = may_escalate(viewer_of(user))
    return panel


# Where the long words of the backlog's vocabulary may break in a narrow table heading (soft hyphens; a
# browser's own German hyphenation is not everywhere), so the Kennzahlen table fits a 1366 px screen.
_BREAKS = {
    word: word.replace("|", "\u00ad")
    for word in (
        "einge|reicht",
        "ge|sichtet",
        "Tages|ordnung",
        "Arbeits|gruppe",
        "Empfeh|lung",
        "be|schlossen",
        "Um|setzung",
        "umge|setzt",
        "abge|lehnt",
        "zusammen|geführt",
        "Kinder|betreuung",
    )
}


@bp.app_template_filter("breakable")
def breakable(label: str) -> str:
    """The label with soft hyphens in its long words, and a break allowed after each slash."""
    for word, marked in _BREAKS.items():
        label = label.replace(word.replace("|", ""), marked)
    return label.replace("/", "/\u200b")


@bp.app_context_processor
def backlog_vocabulary():
    return {
        "BACKLOG_STATES": STATES,
        "BACKLOG_CLOSED": CLOSED_STATES,
        "BACKLOG_NEXT": NEXT_STEPS,
        "BACKLOG_CATEGORIES": CATEGORIES,
        "PRIORITIES": PRIORITIES,
        "IMPLEMENTATION_STATUS": IMPLEMENTATION_STATUS,
        "GROUP_STATUS": GROUP_STATUS,
        "OUTCOMES": service.OUTCOMES,
        "OUTCOMES_FINAL": service.OUTCOMES_FINAL,
        "IMPLEMENTATION_DONE": IMPLEMENTATION_DONE,
        "BACKLOG_FIELDS": service.FIELD_LABELS,
        "backlog_conference": conference_panel,
    }


def case_panel(user: User, case):
    """The case page's structural problems: the backlog items its case is linked to, for the case team."""
    rows = service.escalations_of_case(user, case.id, case.access)
    if not rows:
        return Markup("")
    return Markup(render_template("backlog/_case.html", rows=rows, case=case))  # noqa: S704 (ours, escaped)


def dashboard_panel(user: User):
    """The dashboard's "Meine Strukturprobleme": what the user raised or joined, and where it stands; for a
    steering member, what waits for the steering group and for her agency."""
    # Our own rendered (and autoescaped) templates, so it is safe to embed them as markup.
    if service.is_steering(user):
        return Markup(render_template("backlog/_steering_dashboard.html", work=service.steering_work(user)))  # noqa: S704
    return Markup(render_template("backlog/_dashboard.html", rows=service.my_escalations(user)))  # noqa: S704
