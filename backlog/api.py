"""JSON API of the backlog (/api/v1/backlog); the OParl view of the steering layer is in `backlog.oparl`.

It sits on `backlog.service` and `backlog.stats`. Which cases an item affects appears only in `linkedCases` of one
item, straight from `service.linked_cases`, which returns only the cases the caller's agency may list anyway.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, g, jsonify, request

from fallkonferenz.api import api_field_names, int_value, iso_date, json_body, page_arg, utc_stamp
from fallkonferenz.errors import InvalidInput

from . import service, stats
from .models import CATEGORIES, GROUP_STATUS, IMPLEMENTATION_STATUS, PRIORITIES, STATES

bp = Blueprint("backlog_api", __name__)

# Service field names → the API's names, for error messages per field.
API_FIELDS = {
    "proposed_solution": "proposedSolution",
    "working_group": "workingGroup",
    "merge_into": "mergeInto",
    "due_date": "dueDate",
}


def iso_day(value: date | None) -> str | None:
    return value.isoformat() if value else None


class _Body:
    """The JSON object of a request, read field by field; every wrong type is collected into one German 422."""

    def __init__(self):
        self.data = json_body()
        self.errors: dict[str, str] = {}

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors[key] = "Muss Text sein."
            return ""
        if required and not value.strip():
            self.errors[key] = "Dieses Feld ist erforderlich."
        return value

    def texts(self, key: str) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors[key] = "Muss eine Liste von Texten sein."
            return []
        return list(dict.fromkeys(value))  # ["JC", "JC"] is JC once

    def integers(self, key: str) -> list[int]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            self.errors[key] = "Muss eine Liste von Personen-IDs sein."
            return []
        return list(dict.fromkeys(value))

    def integer(self, key: str, *, required: bool = False) -> int | None:
        if self.data.get(key) is None and required:
            self.errors[key] = "Dieses Feld ist erforderlich."
        return self._read(int_value, key)

    def day(self, key: str) -> date | None:
        return self._read(iso_date, key)

    def _read(self, read, key: str):
        """A field read by one of the API's readers; its refusal is collected with the others."""
        try:
            return read(self.data, key)
        except InvalidInput as exc:
            self.errors |= exc.errors
            return None

    def choice(self, key: str, allowed: dict, unknown: str) -> str:
        value = self.text(key, required=True)
        if value and value not in allowed:
            self.errors[key] = f"{unknown} Erlaubt: " + ", ".join(allowed) + "."
        return value

    def check(self) -> None:
        if self.errors:
            raise InvalidInput(errors=self.errors)


_api_errors = api_field_names(bp, API_FIELDS)


@bp.errorhandler(service.IdentifyingText)
def _identifying(exc: service.IdentifyingText):
    # No rollback (IdentifyingText.keeps_audit): the service raises before it writes anything, and its audited
    # reads of the linked cases (the guard's look-up of names) stay on record.
    hits = [
        {"field": API_FIELDS.get(h.field, h.field), "start": h.start, "end": h.end, "kind": h.kind, "label": h.label}
        for h in exc.hits
    ]
    return jsonify(error=exc.message, errors=_api_errors(exc.errors), hits=hits), 422


# -- JSON shapes ------------------------------------------------------------------------------------------------


def _summary(e) -> dict:
    return {
        "id": e.id,
        "reference": e.reference,
        "title": e.title,
        "category": e.category,
        "categoryLabel": CATEGORIES.get(e.category, e.category),
        "state": e.state,
        "stateLabel": STATES.get(e.state, e.state),
        "priority": e.priority,
        "priorityLabel": PRIORITIES.get(e.priority) if e.priority else None,
        "caseCount": e.case_count,
        "rechtskreise": e.rechtskreis_list,
        "agencies": e.agency_list,
        "workingGroup": e.working_group_id,
        "mergedInto": e.merged_into_id,
        "createdAt": utc_stamp(e.created_at),
        "updatedAt": utc_stamp(e.updated_at),
        "decidedAt": utc_stamp(e.decided_at),
        "implementedAt": utc_stamp(e.implemented_at),
        "version": e.version,
    }


def _implementation(impl, recommendation) -> dict:
    return {
        "id": impl.id,
        "agency": impl.agency.code,
        "status": impl.status,
        "statusLabel": IMPLEMENTATION_STATUS.get(impl.status, impl.status),
        "reason": impl.reason,
        "updatedAt": utc_stamp(impl.updated_at),
        "overdue": service.is_overdue(recommendation, impl),
        "version": impl.version,
    }


def _detail(e) -> dict:
    out = _summary(e)
    recommendation = service.recommendation_of(e.id)
    out |= {
        "description": e.description,
        "proposedSolution": e.proposed_solution,
        "stateReason": e.state_reason,
        "supporterCount": service.supporter_count(e.id),
        "history": [
            {
                "from": t.from_state,
                "to": t.to_state,
                "toLabel": STATES.get(t.to_state, t.to_state),
                "reason": t.reason,
                "at": utc_stamp(t.at),
                "agency": t.actor.agency.code if t.actor else None,
            }
            for t in service.history(e.id)
        ],
        "consultations": [
            {"meeting": c.id, "name": c.title, "start": utc_stamp(c.start), "agendaItem": item_id}
            for c, item_id in service.consultations_for(e.id)
        ],
        "recommendation": None,
        # Only the cases the caller's agency may list; everyone else gets [] and sees caseCount alone.
        "linkedCases": [{"id": cid, "number": number} for cid, number in service.linked_cases(g.user, e.id)],
    }
    if recommendation is not None:
        out["recommendation"] = {
            "text": recommendation.text,
            "adoptedOn": iso_day(recommendation.adopted_on),
            "dueDate": iso_day(recommendation.due_date),
            "implementations": [_implementation(i, recommendation) for i in recommendation.implementations],
        }
    return out


# -- JSON API ----------------------------------------------------------------------------------------------------


@bp.get("")
def items():
    f = stats.parse_filter(request.args, strict=True)
    f.page = page_arg()
    rows, total = service.list_items(g.user, f)
    return jsonify(
        total=total,
        page=f.page,
        pageSize=service.PAGE_SIZE,
        hasNext=f.page * service.PAGE_SIZE < total,
        items=[_summary(e) for e in rows],
    )


@bp.get("/<int:escalation_id>")
def item(escalation_id: int):
    return jsonify(_detail(service.load(g.user, escalation_id)))


@bp.post("")
def escalate():
    body = _Body()
    agenda_item = body.integer("agendaItem", required=True)
    data = _content(body)
    body.check()
    escalation = service.escalate(g.user, data, agenda_item)
    return jsonify(_detail(escalation)), 201


def _content(body: _Body, current=None) -> service.EscalationInput:
    """What an item says, from a JSON body: every field for a new item; for a change those given, the others as
    they are (`current`)."""

    def given(key: str) -> bool:
        return current is None or key in body.data

    return service.EscalationInput(
        title=body.text("title", required=True) if given("title") else current.title,
        description=body.text("description", required=True) if given("description") else current.description,
        category=(
            body.choice("category", CATEGORIES, "Unbekannte Kategorie.") if given("category") else current.category
        ),
        rechtskreise=body.texts("rechtskreise") if given("rechtskreise") else current.rechtskreis_list,
        agencies=body.texts("agencies") if given("agencies") else current.agency_list,
        proposed_solution=body.text("proposedSolution") if given("proposedSolution") else current.proposed_solution,
    )


@bp.patch("/<int:escalation_id>")
def edit(escalation_id: int):
    """Reword an item: the steering group while it is open, the reporter until it is triaged (as on its page)."""
    body = _Body()
    data = _content(body, service.load(g.user, escalation_id))
    version = body.integer("version", required=True)
    body.check()
    return jsonify(_detail(service.edit_text(g.user, escalation_id, version, data)))


@bp.post("/<int:escalation_id>/transitions")
def transition(escalation_id: int):
    body = _Body()
    to = body.choice("to", STATES, "Unbekannter Status.")
    reason = body.text("reason")
    working_group = body.integer("workingGroup")
    version = body.integer("version", required=True)
    body.check()
    escalation = service.transition(g.user, escalation_id, to, version, reason=reason, working_group_id=working_group)
    return jsonify(_detail(escalation))


@bp.post("/<int:escalation_id>/merge")
def merge(escalation_id: int):
    body = _Body()
    into = body.integer("mergeInto", required=True)
    reason = body.text("reason")
    version = body.integer("version", required=True)
    body.check()
    return jsonify(_detail(service.merge(g.user, escalation_id, into, version, reason)))


@bp.post("/<int:escalation_id>/triage")
def triage(escalation_id: int):
    body = _Body()
    priority = body.integer("priority", required=True)
    category = body.text("category") or None
    version = body.integer("version", required=True)
    body.check()
    return jsonify(_detail(service.triage(g.user, escalation_id, version, priority, category)))


@bp.post("/<int:escalation_id>/recommendation")
def adopt(escalation_id: int):
    body = _Body()
    text = body.text("text", required=True)
    due_date = body.day("dueDate")
    version = body.integer("version", required=True)
    codes = body.texts("agencies") if "agencies" in body.data else None  # absent: every member agency
    body.check()
    service.adopt(g.user, escalation_id, version, text, due_date, agency_codes=codes)
    return jsonify(_detail(service.load(g.user, escalation_id))), 201


@bp.post("/<int:escalation_id>/cases")
def join(escalation_id: int):
    body = _Body()
    agenda_item = body.integer("agendaItem", required=True)
    body.check()
    return jsonify(_detail(service.join(g.user, escalation_id, agenda_item))), 201


@bp.patch("/implementations/<int:implementation_id>")
def implementation(implementation_id: int):
    body = _Body()
    status = body.choice("status", IMPLEMENTATION_STATUS, "Unbekannter Stand der Umsetzung.")
    reason = body.text("reason")
    version = body.integer("version", required=True)
    body.check()
    impl = service.update_implementation(g.user, implementation_id, status, reason, version)
    escalation = service.load(g.user, impl.recommendation.escalation_id)
    out = _implementation(impl, impl.recommendation)
    out["escalation"] = {"id": escalation.id, "state": escalation.state, "version": escalation.version}
    return jsonify(out)


# -- working groups ------------------------------------------------------------------------------------------------


def _group(group, *, full: bool = True) -> dict:
    """A working group as its page shows it; the list leaves out its items and reports (`full`)."""
    out = {
        "id": group.id,
        "name": group.name,
        "mandate": group.mandate,
        "status": group.status,
        "lead": group.lead_id,
        "dueDate": iso_day(group.due_date),
        "overdue": group.status == "aktiv" and group.due_date is not None and group.due_date < service.today(),
        "members": [
            {"person": m.user_id, "name": m.user.display_name, "agency": m.on_behalf_of.code, "role": m.role}
            for m in group.members
        ],
    }
    if full:
        out["items"] = [
            {"id": e.id, "reference": e.reference, "title": e.title, "state": e.state}
            for e in service.group_items(group.id)
        ]
        out["reports"] = [
            {
                "id": r.id,
                "text": r.text,
                "author": r.author.display_name if r.author else None,
                "at": utc_stamp(r.created_at),
            }
            for r in group.reports
        ]
    return out


@bp.get("/groups")
def groups():
    service.require_reader(g.user)
    return jsonify(items=[_group(group, full=False) for group in service.groups_overview()])


@bp.get("/groups/<int:group_id>")
def group(group_id: int):
    return jsonify(_group(service.load_group(g.user, group_id)))


def _group_input(body: _Body, current=None) -> service.GroupInput:
    """A group's fields from a JSON body: all for a new group; for a change those given, the others as they are."""

    def given(key: str) -> bool:
        return current is None or key in body.data

    return service.GroupInput(
        name=body.text("name", required=True) if given("name") else current.name,
        mandate=body.text("mandate") if given("mandate") else current.mandate,
        lead_id=body.integer("lead") if given("lead") else current.lead_id,
        due_date=body.day("dueDate") if given("dueDate") else current.due_date,
        member_ids=body.integers("members") if given("members") else [m.user_id for m in current.members],
    )


@bp.post("/groups")
def create_group():
    body = _Body()
    data = _group_input(body)
    body.check()
    return jsonify(_group(service.create_group(g.user, data))), 201


@bp.patch("/groups/<int:group_id>")
def change_group(group_id: int):
    service.require_steering(g.user)
    body = _Body()
    data = _group_input(body, service.load_group(g.user, group_id))
    body.check()
    changed = service.update_group(g.user, group_id, data)
    return jsonify(changed=changed, group=_group(service.load_group(g.user, group_id)))


@bp.post("/groups/<int:group_id>/reports")
def group_report(group_id: int):
    body = _Body()
    text = body.text("text", required=True)
    body.check()
    service.add_report(g.user, group_id, text)
    return jsonify(_group(service.load_group(g.user, group_id))), 201


@bp.post("/groups/<int:group_id>/status")
def group_status(group_id: int):
    body = _Body()
    status = body.choice("status", GROUP_STATUS, "Unbekannter Status.")
    body.check()
    return jsonify(_group(service.set_group_status(g.user, group_id, status)))
