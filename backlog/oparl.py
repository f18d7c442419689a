"""The read-only OParl 1.1 view of the de-identified steering layer (/oparl/v1), for council information systems.

It needs a Bearer token or a session like the rest of the app. It publishes no Person objects, no case
conferences, and of a steering meeting only its backlog items; a Paper carries the number of affected cases, never
which they are.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from fallkonferenz.errors import DomainError, InvalidInput, NotFound, db_id
from fallkonferenz.extensions import db
from fallkonferenz.localtime import local_date
from fallkonferenz.web import HTTP_MESSAGES, public_url

from . import stats
from .api import iso_day, page_arg
from .models import CATEGORIES, STATES

bp = Blueprint("oparl", __name__)

OPARL = "https://schema.oparl.org/1.1/"
STEERING = "lenkungsgruppe"  # the Lenkungsgruppe as an Organization of its Body
ORGANIZATION_TYPES = {"lenkungsgruppe": "Gremium", "stelle": "Institution", "ag": "Gremium"}
DEFAULT_LIMIT, MAX_LIMIT = 50, 100


def _type(name: str) -> str:
    return OPARL + name


def _url(endpoint: str, **values) -> str:
    return public_url(f"oparl.{endpoint}", **values)


def _stamp(value: datetime | None) -> str | None:
    """OParl date-time: with a time zone; the database keeps UTC."""
    return value.replace(microsecond=0, tzinfo=UTC).isoformat() if value else None


def _org_url(key: str) -> str:
    return _url("organization", key=key)


@bp.errorhandler(DomainError)
def _oparl_domain_error(exc: DomainError):
    db.session.rollback()
    return jsonify(error=exc.message, errors=exc.errors), exc.status


@bp.errorhandler(HTTPException)
def _oparl_http_error(exc: HTTPException):
    db.session.rollback()
    code = exc.code or 500
    return jsonify(error=HTTP_MESSAGES.get(code, "Fehler."), errors={}), code


def _paging() -> tuple[int, int]:
    return page_arg(), page_arg("limit", DEFAULT_LIMIT, MAX_LIMIT)


def _listing(endpoint: str, result: stats.Page, data: list, **args):
    """An OParl object list: data, pagination and the links between pages."""

    def link(page: int) -> str:
        return _url(endpoint, page=page, limit=result.limit, **args)

    links = {"first": link(1), "last": link(result.pages)}
    if result.page > 1:
        links["prev"] = link(min(result.page - 1, result.pages))
    if result.page < result.pages:
        links["next"] = link(result.page + 1)
    return jsonify(
        data=data,
        pagination={
            "totalElements": result.total,
            "elementsPerPage": result.limit,
            "currentPage": result.page,
            "totalPages": result.pages,
        },
        links=links,
    )


def _in_pages(rows: list, page: int, limit: int) -> stats.Page:
    """A short list that lives in memory, cut into OParl pages."""
    return stats.Page(rows=rows[(page - 1) * limit : page * limit], total=len(rows), page=page, limit=limit)


@bp.get("")
def system():
    stats.require_reader(g.user)
    return jsonify(
        id=_url("system"),
        type=_type("System"),
        oparlVersion=OPARL,
        name="Fallkonferenz – Lenkungsgruppe",
        body=_url("bodies"),
        product="Fallkonferenz",
    )


def _body_json() -> dict:
    return {
        "id": _url("body"),
        "type": _type("Body"),
        "system": _url("system"),
        "name": "Lenkungsgruppe der rechtskreisübergreifenden Zusammenarbeit",
        "shortName": "Lenkungsgruppe",
        "classification": "Lenkungsgruppe",
        "organization": _url("organizations"),
        "person": _url("persons"),
        "meeting": _url("meetings"),
        "paper": _url("papers"),
        "consultation": _url("consultations"),
        "membership": _url("memberships"),
        "legislativeTerm": [],
    }


@bp.get("/bodies")
def bodies():
    stats.require_reader(g.user)
    page, limit = _paging()
    result = _in_pages([_body_json()], page, limit)
    return _listing("bodies", result, result.rows)


@bp.get("/body")
def body():
    stats.require_reader(g.user)
    return jsonify(_body_json())


@bp.get("/persons")
def persons():
    """Always empty: the steering layer publishes no persons."""
    stats.require_reader(g.user)
    page, limit = _paging()
    return _listing("persons", stats.Page(rows=[], total=0, page=page, limit=limit), [])


# Organizations: the Lenkungsgruppe itself, the agencies (for Membership.onBehalfOf), the working groups.


def _steering_org() -> dict:
    return {
        "id": _org_url(STEERING),
        "type": _type("Organization"),
        "body": _url("body"),
        "name": "Lenkungsgruppe",
        "organizationType": "Gremium",
        "classification": "Lenkungsgruppe",
        "membership": [],
        "meeting": _url("meetings"),
    }


def _agency_org(agency) -> dict:
    return {
        "id": _org_url(f"stelle-{agency.code}"),
        "type": _type("Organization"),
        "body": _url("body"),
        "name": agency.name,
        "shortName": agency.code,
        "organizationType": "Institution",
        "classification": "Behörde",
    }


def _group_org(group, memberships) -> dict:
    out = {
        "id": _org_url(f"ag-{group.id}"),
        "type": _type("Organization"),
        "body": _url("body"),
        "name": group.name,
        "organizationType": "Gremium",
        "classification": "Arbeitsgruppe",
        "subOrganizationOf": _org_url(STEERING),
        # OParl 1.1 lists an Organization's memberships by URL; the objects are at those URLs and in /memberships.
        "membership": [_url("membership", membership_id=m.id) for m in memberships],
        "startDate": iso_day(local_date(group.created_at)),  # the day as the agencies count it
        "created": _stamp(group.created_at),
        "modified": _stamp(group.created_at),
        "fallkonferenz:status": group.status,
    }
    if group.due_date:
        out["fallkonferenz:dueDate"] = iso_day(group.due_date)
    return out


def _membership_json(m) -> dict:
    return {
        "id": _url("membership", membership_id=m.id),
        "type": _type("Membership"),
        "organization": _org_url(f"ag-{m.group_id}"),
        "role": "Leitung" if m.role == "leitung" else "Mitglied",
        "onBehalfOf": _org_url(f"stelle-{m.on_behalf_of.code}"),
        "startDate": iso_day(m.start_date),
    }


@bp.get("/organizations")
def organizations():
    page, limit = _paging()
    groups = stats.working_groups(g.user)
    members = stats.memberships_of(grp.id for grp in groups)
    data = [_steering_org()] + [_agency_org(a) for a in stats.agencies(g.user)]
    data += [_group_org(grp, members.get(grp.id, [])) for grp in groups]
    result = _in_pages(data, page, limit)
    return _listing("organizations", result, result.rows)


@bp.get("/organization/<key>")
def organization(key: str):
    if key == STEERING:
        stats.require_reader(g.user)
        return jsonify(_steering_org())
    kind, _, ident = key.partition("-")
    if kind == "stelle" and ident:
        return jsonify(_agency_org(stats.agency(g.user, ident)))
    if kind == "ag" and db_id(ident):
        group = stats.working_group(g.user, db_id(ident))
        return jsonify(_group_org(group, stats.memberships_of([group.id]).get(group.id, [])))
    raise NotFound("Organisation nicht gefunden.")


@bp.get("/memberships")
def memberships():
    page, limit = _paging()
    result = stats.membership_list(g.user, page, limit)
    return _listing("memberships", result, [_membership_json(m) for m in result.rows])


@bp.get("/membership/<int:membership_id>")
def membership(membership_id: int):
    return jsonify(_membership_json(stats.membership(g.user, membership_id)))


# Meetings: only the Lenkungsgruppe's own, each with its backlog items as AgendaItems.


def _agenda_item_json(row: stats.AgendaRow, embedded: bool) -> dict:
    out = {
        "id": _url("agenda_item", agenda_item_id=row.id),
        "type": _type("AgendaItem"),
        "number": row.number,
        "order": row.order,
        "name": row.name,
        "public": False,
        "consultation": _url("consultation", consultation_id=row.consultation_id),
        "created": _stamp(row.created_at),
        "modified": _stamp(row.created_at),
    }
    if not embedded:
        out["meeting"] = _url("meeting", conference_id=row.conference_id)
    return out


def _meeting_json(conference, agenda: list[stats.AgendaRow]) -> dict:
    return {
        "id": _url("meeting", conference_id=conference.id),
        "type": _type("Meeting"),
        "name": conference.title,
        "meetingState": conference.state,
        "cancelled": conference.state == "abgesagt",
        "start": _stamp(conference.start),
        "end": _stamp(conference.end),
        "organization": [_org_url(STEERING)],
        "agendaItem": [_agenda_item_json(row, embedded=True) for row in agenda],
        "created": _stamp(conference.created_at),
        "modified": _stamp(conference.updated_at),
    }


@bp.get("/meetings")
def meetings():
    page, limit = _paging()
    result = stats.meetings(g.user, page, limit)
    agenda = stats.agenda_of(c.id for c in result.rows)
    return _listing("meetings", result, [_meeting_json(c, agenda.get(c.id, [])) for c in result.rows])


@bp.get("/meeting/<int:conference_id>")
def meeting(conference_id: int):
    conference = stats.meeting(g.user, conference_id)
    return jsonify(_meeting_json(conference, stats.agenda_of([conference.id]).get(conference.id, [])))


@bp.get("/agendaitem/<int:agenda_item_id>")
def agenda_item(agenda_item_id: int):
    return jsonify(_agenda_item_json(stats.agenda_item(g.user, agenda_item_id), embedded=False))


# Papers (the escalations) and their Consultations.


def _consultation_json(row: stats.ConsultationRow, embedded: bool) -> dict:
    out = {
        "id": _url("consultation", consultation_id=row.id),
        "type": _type("Consultation"),
        "agendaItem": _url("agenda_item", agenda_item_id=row.agenda_item_id),
        "meeting": _url("meeting", conference_id=row.conference_id),
        "organization": [_org_url(STEERING)],
        "authoritative": row.authoritative,
        "role": "Beratung und Beschluss" if row.authoritative else "Beratung",
        "created": _stamp(row.created_at),
        "modified": _stamp(row.created_at),
    }
    if not embedded:
        out["paper"] = _url("paper", escalation_id=row.escalation_id)
    return out


def _paper_json(e, consultations: list[stats.ConsultationRow]) -> dict:
    out = {
        "id": _url("paper", escalation_id=e.id),
        "type": _type("Paper"),
        "body": _url("body"),
        "name": e.title,
        "reference": e.reference,
        "date": iso_day(local_date(e.created_at)),
        "paperType": CATEGORIES.get(e.category, e.category),
        "consultation": [_consultation_json(c, embedded=True) for c in consultations],
        "keyword": [CATEGORIES.get(e.category, e.category), STATES.get(e.state, e.state)],
        "created": _stamp(e.created_at),
        "modified": _stamp(e.updated_at),
        # Not in OParl: how many cases the problem affects (never which), and where it stands.
        "fallkonferenz:affectedCases": e.case_count,
        "fallkonferenz:state": e.state,
        "fallkonferenz:stateLabel": STATES.get(e.state, e.state),
        "fallkonferenz:category": e.category,
    }
    if e.working_group_id:
        out["underDirectionOf"] = [_org_url(f"ag-{e.working_group_id}")]
    if e.merged_into_id:
        out["relatedPaper"] = [_url("paper", escalation_id=e.merged_into_id)]
    return out


def _since() -> datetime | None:
    raw = request.args.get("modified_since")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(errors={"modified_since": "Bitte Datum und Uhrzeit nach ISO 8601 angeben."}) from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


@bp.get("/papers")
def papers():
    page, limit = _paging()
    since = _since()
    result = stats.papers(g.user, page, limit, since)
    consultations = stats.consultations_of(e.id for e in result.rows)
    args = {"modified_since": request.args["modified_since"]} if since else {}
    return _listing("papers", result, [_paper_json(e, consultations.get(e.id, [])) for e in result.rows], **args)


@bp.get("/paper/<int:escalation_id>")
def paper(escalation_id: int):
    e = stats.paper(g.user, escalation_id)
    return jsonify(_paper_json(e, stats.consultations_of([e.id]).get(e.id, [])))


@bp.get("/consultations")
def consultations():
    page, limit = _paging()
    result = stats.consultation_list(g.user, page, limit)
    return _listing("consultations", result, [_consultation_json(c, embedded=False) for c in result.rows])


@bp.get("/consultation/<int:consultation_id>")
def consultation(consultation_id: int):
    return jsonify(_consultation_json(stats.consultation(g.user, consultation_id), embedded=False))
