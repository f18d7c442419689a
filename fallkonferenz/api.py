"""JSON API /api/v1 over the same services as the web UI (session or personal access token)."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Blueprint, g, jsonify, request

from consent import service as consent_service
from consent.policy import Access

from .auth.service import list_agencies
from .cases import retention
from .cases import service as case_service
from .errors import DB_INT_MAX, InvalidInput
from .openapi import OPENAPI
from .vocab import CATEGORIES, FIELDS, GOAL_STATUS, NOTE_WITHDRAW_REASONS, RECHTSKREISE
from .web import error_response

bp = Blueprint("api", __name__)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def api_field_names(blueprint: Blueprint, names: dict[str, str]):
    """Refused input of this blueprint names its fields as the API does (the services name them as the forms
    do: "valid_until" is "periodEnd" here). Returns the translation for handlers of their own."""

    def translate(errors: dict | None) -> dict:
        return {names.get(key, key): message for key, message in (errors or {}).items()}

    @blueprint.errorhandler(InvalidInput)
    def invalid(exc: InvalidInput):
        return error_response(exc.status, exc.message, translate(exc.errors), keep_audit=exc.keeps_audit)

    return translate


api_field_names(
    bp,
    {
        "signed_on": "dateTime",
        "valid_from": "periodStart",
        "valid_until": "periodEnd",
        "grantor_kind": "grantor.kind",
        "grantor_name": "grantor.name",
        "grants": "provision",
        "interpreter_language": "interpreterLanguage",
        "due_date": "dueDate",
        "responsible_agency_id": "responsibleAgency",
    },
)


def utc_stamp(value: datetime | None) -> str | None:
    """A stored time (naive UTC) as the API writes times: ISO 8601 with "Z", which no reader takes for local time."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def json_body() -> dict:
    """The request's JSON object, or a German 422."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes; silent=True covers only ValueError
        data = None
    if not isinstance(data, dict):
        raise InvalidInput("Der Inhalt ist kein gültiges JSON-Objekt.")
    if not storable_text(data):
        raise InvalidInput(BAD_CHARACTERS)
    return data


BAD_CHARACTERS = "Der Text enthält ein unzulässiges Zeichen (Nullbyte oder ungültiges Unicode-Zeichen)."


def storable_text(data) -> bool:
    """Whether every text in a parsed JSON value (keys too) can be stored: no NUL byte, which PostgreSQL refuses,
    and no lone surrogate ("\\ud800"), which no UTF-8 encoder takes. Walked without recursion: the parser
    allows deeper nesting than Python's stack."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return False
            try:
                value.encode()
            except UnicodeEncodeError:
                return False
    return True


def text_value(data: dict, key: str, max_len: int, required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(errors={key: "Muss Text sein."})
    if required and not value.strip():
        raise InvalidInput(errors={key: "Dieses Feld ist erforderlich."})
    if len(value) > max_len:
        raise InvalidInput(errors={key: f"Höchstens {max_len} Zeichen."})
    return value.strip()


def _choice(data: dict, key: str, allowed, message: str, default: str | None = None) -> str:
    """A value from a closed list (categories, fields, agencies, states); anything else is a 422, also a list or
    an object, which a membership test would not even be able to look up."""
    value = data.get(key, default)
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(errors={key: message})
    return value


def int_value(data, key: str, default=None, *, query: bool = False) -> int | None:
    """An integer of a JSON body (a number, not text), or of the query string (`query`: digits)."""
    value = data.get(key, default)
    if value is None:
        return None
    if query and isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not -DB_INT_MAX <= value <= DB_INT_MAX:
        raise InvalidInput(errors={key: "Muss eine ganze Zahl sein."})
    return value


def flag(data: dict, key: str) -> bool:
    """A yes/no field: JSON true or false, or absent (false). The text "false" is not true, nor is 1."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(errors={key: "Muss true oder false sein."})
    return value


def iso_date(data: dict, key: str, required: bool = False) -> date | None:
    """A day in JSON as JJJJ-MM-TT (absent or empty: None); anything else is a German 422 for that field."""
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise InvalidInput(errors={key: "Dieses Feld ist erforderlich."})
        return None
    try:
        # only JJJJ-MM-TT: 20270212 (a number or text) or 2027-W06-5 would be read as dates in ISO's other forms
        if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(errors={key: "Bitte ein Datum im Format JJJJ-MM-TT angeben."}) from None


def _choices(data: dict, key: str, allowed) -> list[str]:
    value = data.get(key, [])
    if value is None:
        value = []
    if not isinstance(value, list) or any(not isinstance(v, str) or v not in allowed for v in value):
        raise InvalidInput(errors={key: "Unbekannte Auswahl."})
    return list(dict.fromkeys(value))  # each once, in the order given


def _access_json(access: Access) -> dict:
    return {"visibleCategories": sorted(access.categories), "hiddenCategories": access.hidden(), "lead": access.is_lead}


def _case_json(view) -> dict:
    out = {
        "id": view.id,
        "number": view.number,
        "leadAgency": view.lead_agency.code,
        "access": _access_json(view.access),
        "closedOn": view.closed_on.isoformat() if view.closed_on else None,
        "erasureOn": erasure.isoformat() if (erasure := retention.erasure_date(view.closed_on)) else None,
    }
    if view.master:
        out["client"] = dict(view.master) | {"birth_date": view.master.get("birth_date") or None}  # unknown: null
    if view.residence:
        rv = view.residence
        out["residence"] = {
            "status": rv["status"],
            "validUntil": rv["valid_until"].isoformat() if rv["valid_until"] else None,
        }
    if view.rechtskreise or view.fields:
        out["rechtskreise"], out["fields"] = view.rechtskreise, view.fields
    return out


def _note_json(n) -> dict:
    return {
        "id": n.id,
        "category": n.category,
        "text": n.text,
        "agency": n.agency_code,
        "createdAt": utc_stamp(n.created_at),
        "withdrawnAt": utc_stamp(n.withdrawn_at),
        "withdrawReason": n.withdraw_reason,
    }


def _goal_json(goal) -> dict:
    return {
        "id": goal.id,
        "title": goal.title,
        "field": goal.field,
        "responsibleAgency": goal.responsible_agency.code,
        "dueDate": goal.due_date.isoformat() if goal.due_date else None,
        "status": goal.status,
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


def page_arg(name: str = "page", default: int = 1, maximum: int = 100000) -> int:
    """A page number of a list: ASCII digits from 1 to `maximum`, else a 422 (not silently page 1)."""
    raw = request.args.get(name, str(default)).strip()
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise InvalidInput(errors={name: f"Muss eine ganze Zahl von 1 bis {maximum} sein."})
    return int(raw)


# The list's `state`: open or closed cases only; without it, both.
CASE_STATES = {"open": "offen", "closed": "abgeschlossen", "": "alle"}


@bp.get("/cases")
def cases():
    page = page_arg()
    state = request.args.get("state", "")
    if state not in CASE_STATES:
        raise InvalidInput(errors={"state": "Muss „open“ (offene Fälle) oder „closed“ (abgeschlossene) sein."})
    lead = request.args.get("leadAgency", "")
    if lead and lead not in {a.code for a in list_agencies(active_only=False)}:
        raise InvalidInput(errors={"leadAgency": "Unbekannte Stelle."})
    narrowed = {}
    for key, allowed in (("field", FIELDS), ("rechtskreis", RECHTSKREISE)):
        narrowed[key] = request.args.get(key, "")
        if narrowed[key] and narrowed[key] not in allowed:
            raise InvalidInput(errors={key: "Unbekannte Auswahl."})
    try:
        result = case_service.list_cases(
            g.user,
            query=request.args.get("q", "")[:200],
            lead_agency=lead,
            field_code=narrowed["field"],
            rechtskreis=narrowed["rechtskreis"],
            stand=CASE_STATES[state],
            page=page,
            with_total=True,
        )
    except InvalidInput as exc:  # a search with nothing to search for ("%00", "--"): the field says which
        raise InvalidInput(errors=exc.errors or {"q": exc.message}) from None
    return jsonify(
        total=result.total, page=result.page, hasNext=result.has_next, items=[_row_json(r) for r in result.rows]
    )


def _row_json(row) -> dict:
    out = {
        "id": row.id,
        "number": row.number,
        "leadAgency": row.lead_code,
        "access": _access_json(row.access),
        "closedOn": row.closed_on.isoformat() if row.closed_on else None,
    }
    if row.display_name is not None:
        out["name"], out["fields"] = row.display_name, row.fields
    if row.residence_status is not None:
        out["residence"] = {"status": row.residence_status}
    return out


def read_case(ref, notes: case_service.NoteChoice | None = None) -> case_service.CaseView:
    """A case as the API reads it: for the caller, on record with the purpose "API"."""
    return case_service.get_case(g.user, ref, purpose="API", notes=notes)


# A case's text fields in the API, with their greatest length.
MASTER_TEXTS = {
    "given_name": 200,
    "family_name": 200,
    "nationality": 100,
    "languages": 300,
    "address": 300,
    "phone": 50,
    "residence_status": 200,
}


def _master_fields(data: dict, current: dict | None = None) -> dict:
    """A case's master data from a JSON body, each key checked: all of them for a new case; for a change only those
    given, the others as they are (`current`)."""
    fields = dict(current or {})

    def given(key: str) -> bool:
        return current is None or key in data

    for key, size in MASTER_TEXTS.items():
        if given(key):
            fields[key] = text_value(data, key, size, required=key in ("given_name", "family_name"))
    for key in ("birth_date", "residence_valid_until"):
        if given(key):
            fields[key] = iso_date(data, key)
    if given("interpreter_needed"):
        fields["interpreter_needed"] = flag(data, "interpreter_needed")
    for key, allowed in (("rechtskreise", RECHTSKREISE), ("fields", FIELDS)):
        if given(key):
            fields[key] = _choices(data, key, allowed)
    return fields


@bp.patch("/cases/<number>")
def update_case(number: str):
    """Change the master data (the lead agency); what is left out stays."""
    data = json_body()
    case_service.update_case(g.user, number, _master_fields(data, case_service.master_input(read_case(number))))
    return jsonify(_case_json(read_case(number)))


@bp.post("/cases")
def create_case():
    data = json_body()
    fields = _master_fields(data)
    try:
        # The same person twice makes two half records: the cases the agency may see of a client with this name
        # and birth date are named first, until the caller confirms with differentPerson that it is someone else.
        case = case_service.create_case(g.user, fields, ask_if_known=not flag(data, "differentPerson"))
    except case_service.KnownClient as exc:
        return jsonify(error=exc.message, possibleDuplicates=[_row_json(r) for r in exc.cases]), exc.status
    return jsonify(_case_json(read_case(case.id))), 201


@bp.get("/cases/<number>")
def case(number: str):
    view = read_case(number)
    out = _case_json(view)
    out["notes"] = [_note_json(n) for n in view.notes]
    out["goals"] = [_goal_json(x) for x in view.goals]
    return jsonify(out)


@bp.post("/cases/<number>/close")
def close_case(number: str):
    case = retention.close_case(g.user, number)
    return jsonify(_case_json(read_case(case.id)))


@bp.post("/cases/<number>/reopen")
def reopen_case(number: str):
    case = retention.reopen_case(g.user, number)
    return jsonify(_case_json(read_case(case.id)))


@bp.get("/cases/<number>/notes")
def notes(number: str):
    """The visible notes, newest first, in pages as the case page shows them; `category` narrows to one."""
    page = page_arg()
    category = request.args.get("category", "") or None
    if category is not None and category not in CATEGORIES:
        raise InvalidInput(errors={"category": "Unbekannte Datenkategorie."})
    view = read_case(number, notes=case_service.NoteChoice(page, category))
    return jsonify(
        items=[_note_json(n) for n in view.notes],
        page=page,
        hasNext=view.notes_more,
        counts=dict(sorted(view.note_counts.items())),
    )


@bp.post("/cases/<number>/notes")
def add_note(number: str):
    data = json_body()
    category = _choice(data, "category", CATEGORIES, "Unbekannte Datenkategorie.")
    note = case_service.add_note(g.user, number, category, text_value(data, "text", 10000, required=True))
    return jsonify(id=note.id, category=note.category), 201


@bp.post("/cases/<number>/notes/<int:note_id>/withdraw")
def withdraw_note(number: str, note_id: int):
    reason = _choice(json_body(), "reason", NOTE_WITHDRAW_REASONS, "Unbekannter Grund.")
    note = case_service.withdraw_note(g.user, number, note_id, reason)
    withdrawn = {"withdrawnAt": utc_stamp(note.withdrawn_at), "withdrawReason": note.withdraw_reason}
    return jsonify(id=note.id, category=note.category, **withdrawn)


@bp.get("/cases/<number>/goals")
def goals(number: str):
    return jsonify(items=[_goal_json(x) for x in read_case(number).goals])


def _goal_content(data: dict, current: dict | None = None) -> dict:
    """What a goal says, from a JSON body, each key checked: all of them for a new goal; for a change only those
    given, the others as they are (`current`)."""
    agencies = {a.code: a.id for a in list_agencies()}
    new, current = current is None, current or {}

    def given(key: str) -> bool:
        return new or key in data

    return {
        "field": _choice(data, "field", FIELDS, "Unbekanntes Handlungsfeld.") if given("field") else current["field"],
        "responsible_agency_id": agencies[_choice(data, "responsibleAgency", agencies, "Unbekannte Stelle.")]
        if given("responsibleAgency")
        else current["responsible_agency_id"],
        "title": text_value(data, "title", 500, required=True) if given("title") else current["title"],
        "due_date": iso_date(data, "dueDate") if given("dueDate") else current["due_date"],
    }


@bp.post("/cases/<number>/goals")
def add_goal(number: str):
    data = json_body()
    content = _goal_content(data)
    status = _choice(data, "status", GOAL_STATUS, "Unbekannter Status.", default="offen")
    goal = case_service.add_goal(g.user, number, content | {"status": status})
    return jsonify(_goal_json(goal)), 201


GOAL_CONTENT_KEYS = ("title", "field", "responsibleAgency", "dueDate")


@bp.patch("/cases/<number>/goals/<int:goal_id>")
def update_goal(number: str, goal_id: int):
    """The status (every agency that sees the goal), what the goal says (its writer's agency), or both at once;
    keys left out stay as they are, `dueDate: null` clears the date."""
    data = json_body()
    if not any(key in data for key in ("status", *GOAL_CONTENT_KEYS)):
        raise InvalidInput(
            errors={"status": "Bitte mindestens eine Angabe: status, title, field, responsibleAgency oder dueDate."}
        )
    status = _choice(data, "status", GOAL_STATUS, "Unbekannter Status.") if "status" in data else None
    if any(key in data for key in GOAL_CONTENT_KEYS):
        _case, goal = case_service.goal_to_edit(g.user, number, goal_id)
        current = {key: getattr(goal, key) for key in case_service.GOAL_CONTENT}
        case_service.edit_goal(g.user, number, goal_id, _goal_content(data, current))
    if status is not None:
        goal = case_service.set_goal_status(g.user, number, goal_id, status)
    return jsonify(_goal_json(goal))


@bp.get("/cases/<number>/consents")
def consents(number: str):
    _case, rows = consent_service.consent_history(g.user, number)
    return jsonify(items=[_consent_json(r) for r in rows])


def _consent_json(row) -> dict:
    c = row.consent
    return {
        "id": c.id,
        "version": c.version,
        "status": row.status,
        "grantor": {"kind": c.grantor_kind, "name": row.grantor_name},
        "dateTime": c.signed_on.isoformat(),
        "period": {"start": c.valid_from.isoformat(), "end": c.valid_until.isoformat()},
        "decision": "permit",
        "purpose": c.purpose,
        "regulatoryBasis": c.regulatory_basis,
        "provision": [{"actor": agency, "class": sorted(cats)} for agency, cats in sorted(row.grants.items())],
        "verification": {
            "verified": c.verified_by_id is not None,
            "interpreterUsed": c.interpreter_used,
            "interpreterLanguage": c.interpreter_language,
        },
        "hasSourceAttachment": c.document is not None,
        "revokedAt": utc_stamp(c.revoked_at),
    }


@bp.post("/cases/<number>/consents")
def grant(number: str):
    data = json_body()
    provision = data.get("provision")
    if not isinstance(provision, list) or not all(isinstance(p, dict) for p in provision):
        raise InvalidInput(errors={"provision": "Liste von {actor, class} erwartet."})
    grants = []
    for p in provision:
        classes = p.get("class")
        if not isinstance(p.get("actor"), str) or not isinstance(classes, list):
            raise InvalidInput(errors={"provision": "Liste von {actor, class} erwartet."})
        grants += [(p["actor"].upper(), str(c)) for c in classes]
    grantor = data.get("grantor", {})
    if not isinstance(grantor, dict):
        raise InvalidInput(errors={"grantor.kind": "Erwartet: {kind: client|guardian, name}."})
    consent = consent_service.grant_consent(
        g.user,
        number,
        consent_service.ConsentInput(
            # named as the API names them, "grantor.kind", in a refusal
            grantor_kind=text_value({"grantor.kind": grantor.get("kind")}, "grantor.kind", 40) or "client",
            grantor_name=text_value({"grantor.name": grantor.get("name")}, "grantor.name", 200),
            signed_on=iso_date(data, "dateTime", required=True),
            valid_from=iso_date(data, "periodStart", required=True),
            valid_until=iso_date(data, "periodEnd", required=True),
            purpose=text_value(data, "purpose", 300, required=True),
            grants=grants,
            interpreter_used=flag(data, "interpreterUsed"),
            interpreter_language=text_value(data, "interpreterLanguage", 100),
            verified=flag(data, "verified"),
        ),
    )
    return jsonify(id=consent.id, version=consent.version), 201


@bp.post("/cases/<number>/consents/<int:consent_id>/revoke")
def revoke(number: str, consent_id: int):
    reason = text_value(json_body(), "reason", 2000)
    consent = consent_service.revoke_consent(g.user, number, consent_id, reason)
    return jsonify(id=consent.id, revokedAt=utc_stamp(consent.revoked_at))
