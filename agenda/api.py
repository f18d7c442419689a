"""JSON API /api/v1/conferences, over the same services as the pages (OParl Meeting / AgendaItem names)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, g, jsonify, request

from fallkonferenz.api import api_field_names, flag, int_value, json_body, page_arg, text_value, utc_stamp
from fallkonferenz.errors import InvalidInput
from fallkonferenz.openapi import (
    BOOL,
    INT,
    OPENAPI,
    STAMP,
    TEXT,
    TEXTS,
    add_paths,
    array_of,
    nullable,
    obj,
    op,
    ref,
)

from . import items, service
from .models import ITEM_KINDS, KINDS, OVER_STATES, POLL_ANSWERS, RESPONSES, STATES

bp = Blueprint("agenda_api", __name__)
api_field_names(
    bp,
    {"title": "name", "video_link": "videoLink", "time_box": "timeBox", "position": "order"}
    # a poll's slots, as the service names them (start0 …): by their place in the request's `slots`
    | {f"{part}{i}": f"slots[{i}].{part}" for i in range(8) for part in ("start", "end")},
)


def _dt(data: dict, key: str) -> datetime:
    try:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise ValueError(value)
        value = datetime.fromisoformat(value)
        # Without an offset a time is UTC, as the API answers; with one it is converted (it used to be dropped).
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    except (ValueError, OverflowError):  # overflow: 0001-01-01T00:00+01:00 is before the first day in UTC
        raise InvalidInput(errors={key: "Bitte Datum und Uhrzeit im Format JJJJ-MM-TTTHH:MM angeben (UTC)."}) from None


def _position(data: dict) -> int | None:
    """Where a new item goes (1 = first); none: at the end. Beyond the end is the end, as in the form."""
    value = int_value(data, "order")
    if value is not None and value < 1:
        raise InvalidInput(errors={"order": "Die Position zählt ab 1."})
    return value


def _meeting(conference) -> dict:
    return {
        "id": conference.id,
        "type": "https://schema.oparl.org/1.1/Meeting",
        "name": conference.title,
        "kind": conference.kind,
        "meetingState": conference.state,
        "start": utc_stamp(conference.start),
        "end": utc_stamp(conference.end),
        "location": conference.location,
        "videoLink": conference.video_link,
        "cancelled": conference.state == "abgesagt",
        "polling": conference.polling and conference.state not in OVER_STATES,
        "agendaVersion": conference.agenda_version,
        "agendaChangedSinceNotice": conference.agenda_changed_since_notice,
    }


def _item(view: items.ItemView, order: int) -> dict:
    out = {
        "id": view.id,
        "type": "https://schema.oparl.org/1.1/AgendaItem",
        "number": view.number,
        "order": order,
        "name": view.title,
        "public": False,
        "kind": view.kind,
        "start": utc_stamp(view.starts),
        "end": utc_stamp(view.ends),
        "timeBox": view.time_box,
        "confidential": view.confidential,
    }
    if view.case_number:
        out["case"] = {"number": view.case_number, "name": view.client_name}
    return out


@bp.get("")
def conferences():
    page = page_arg()
    past, older = service.past_conferences(g.user, page)
    upcoming = service.upcoming_conferences(g.user)
    return jsonify(
        upcoming=[_meeting(c) for c in upcoming], past=[_meeting(c) for c in past], page=page, hasMorePast=older
    )


def _participants(data: dict) -> list[int]:
    """The invited users' ids: a list of numbers (anything else is refused, not ignored)."""
    value = data.get("participants", [])
    if not isinstance(value, list):
        raise InvalidInput(errors={"participants": "Muss eine Liste von Personen-IDs sein."})
    return [int_value({"participants": p}, "participants") for p in value]


@bp.post("")
def create():
    data = json_body()
    conference = service.create_conference(
        g.user,
        service.ConferenceInput(
            title=text_value(data, "name", 200),
            kind=text_value(data, "kind", 40) or "fallkonferenz",
            start=_dt(data, "start"),
            end=_dt(data, "end"),
            location=text_value(data, "location", 300),
            video_link=text_value(data, "videoLink", 500),
        ),
        _participants(data),
    )
    return jsonify(_meeting(conference)), 201


@bp.get("/<int:conference_id>")
def conference(conference_id: int):
    view = items.conference_view(g.user, conference_id)
    out = _meeting(view.conference)
    out["agendaItem"] = [_item(v, i) for i, v in enumerate(view.items, start=1)]
    out["participants"] = [
        # the id is what `participants` of a new conference takes
        {"id": p.user_id, "name": p.user.display_name, "agency": p.user.agency.code, "response": p.response}
        for p in view.participants
    ]
    if view.conference.poll is not None:
        out["poll"] = _poll(view)
    return jsonify(out)


def _poll(view: items.ConferenceView) -> dict:
    """The date poll as the page shows it: every invitee her own answers; the moderator the whole table."""
    table, me = view.poll, g.user.id
    slots = []
    for s in view.conference.poll.slots:
        slot = {"id": s.id, "start": utc_stamp(s.start), "end": utc_stamp(s.end), "passed": s.passed}
        slot["myAnswer"] = table["answers"].get((s.id, me))
        if view.is_moderator:
            slot["yes"] = table["yes"][s.id]
        slots.append(slot)
    out = {"fixed": not view.conference.polling, "slots": slots}
    if view.is_moderator:
        out["answers"] = [
            {"slot": slot_id, "person": person, "answer": answer}
            for (slot_id, person), answer in sorted(table["answers"].items())
        ]
    return out


@bp.post("/<int:conference_id>/state")
def change_state(conference_id: int):
    """Invite, begin, end or cancel (with a reason): the moderator, as on the page."""
    data = json_body()
    state = text_value(data, "meetingState", 20)
    if state not in STATES:
        raise InvalidInput(errors={"meetingState": f"Unbekannter Status; möglich: {', '.join(STATES)}."})
    conference = service.set_state(g.user, conference_id, state, text_value(data, "reason", 1000))
    return jsonify(_meeting(conference))


@bp.put("/<int:conference_id>/response")
def respond(conference_id: int):
    """Zusage, Absage or Vertretung (by a colleague, whose id is `substitute`)."""
    data = json_body()
    substitute = int_value(data, "substitute") or None
    row = service.respond(g.user, conference_id, text_value(data, "response", 20), substitute)
    return jsonify(response=row.response, takesPart=row.active)


@bp.post("/<int:conference_id>/poll")
def create_poll(conference_id: int):
    data = json_body()
    slots = data.get("slots")
    if not isinstance(slots, list) or not all(isinstance(s, dict) for s in slots):
        raise InvalidInput(errors={"slots": "Bitte eine Liste von Terminen mit start und end senden."})
    times = []
    for i, slot in enumerate(slots[:9]):  # more than 8 are refused by the service, with its message
        try:
            times.append((_dt(slot, "start"), _dt(slot, "end")))
        except InvalidInput as exc:
            raise InvalidInput(errors={f"slots[{i}].{k}": v for k, v in exc.errors.items()}) from None
    service.create_poll(g.user, conference_id, times)
    return jsonify(_poll(items.conference_view(g.user, conference_id))), 201


@bp.delete("/<int:conference_id>/poll")
def end_poll(conference_id: int):
    service.end_poll(g.user, conference_id)
    return jsonify(ok=True)


@bp.put("/<int:conference_id>/poll/answers")
def answer_poll(conference_id: int):
    data = json_body()
    given = data.get("answers")
    if not isinstance(given, dict) or not all(
        k.isascii() and k.isdigit() and len(k) < 10 and isinstance(v, str) for k, v in given.items()
    ):
        raise InvalidInput(errors={"answers": "Bitte ein Objekt aus Termin-ID und Antwort senden."})
    service.answer_poll(g.user, conference_id, {int(k): v for k, v in given.items()})
    return jsonify(_poll(items.conference_view(g.user, conference_id)))


@bp.post("/<int:conference_id>/poll/slots/<int:slot_id>/fix")
def fix_slot(conference_id: int, slot_id: int):
    return jsonify(_meeting(service.fix_slot(g.user, conference_id, slot_id)))


@bp.post("/<int:conference_id>/items")
def add_item(conference_id: int):
    data = json_body()
    try:
        item = items.add_item(
            g.user,
            conference_id,
            items.ItemInput(
                title=text_value(data, "name", items.MAX_TITLE),
                kind=text_value(data, "kind", 40),
                time_box=int_value(data, "timeBox", 15),
                case_ref=text_value(data, "case", 40) or None,
                position=_position(data),
            ),
            confirmed=flag(data, "confirmClosed"),
            version=int_value(data, "agendaVersion"),
        )
    except items.NeedsConfirmation as exc:
        return jsonify(error=exc.message, closedFor=exc.agencies), 409
    return jsonify(id=item.id, order=item.position), 201


@bp.patch("/<int:conference_id>/items/<int:item_id>")
def edit_item(conference_id: int, item_id: int):
    """Title, time box or presenter of an item; what is left out stays. The agenda's version is needed: a change
    made on a stale agenda is refused (409)."""
    data = json_body()
    version = int_value(data, "agendaVersion")
    if version is None:
        raise InvalidInput(errors={"agendaVersion": "Bitte die agendaVersion der Tagesordnung mitsenden."})
    _conference, item = items.item_to_edit(g.user, conference_id, item_id)
    change = items.ItemChange(
        title=text_value(data, "name", items.MAX_TITLE) if "name" in data else item.title,
        time_box=int_value(data, "timeBox") if "timeBox" in data else item.time_box,
        presenter_id=int_value(data, "presenter") if "presenter" in data else item.presenter_id,
    )
    changed = items.edit_item(g.user, conference_id, item_id, change, version)
    return jsonify(changed=changed, agendaVersion=item.conference.agenda_version)


@bp.delete("/<int:conference_id>/items/<int:item_id>")
def remove_item(conference_id: int, item_id: int):
    items.remove_item(g.user, conference_id, item_id, int_value(request.args, "agendaVersion", query=True))
    return jsonify(ok=True)


@bp.put("/<int:conference_id>/order")
def reorder(conference_id: int):
    data = json_body()
    ids = data.get("items")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInput(errors={"items": "Liste der Tagesordnungspunkt-IDs erwartet."})
    version = int_value(data, "agendaVersion")
    if version is None:  # without it a stale order would overwrite a newer one unseen
        raise InvalidInput(errors={"agendaVersion": "Bitte die agendaVersion der Tagesordnung mitsenden."})
    items.reorder(g.user, conference_id, ids, version)
    return jsonify(ok=True)


@bp.post("/<int:conference_id>/agenda-notice")
def announce_agenda(conference_id: int):
    return jsonify(notified=service.announce_agenda(g.user, conference_id))


OPENAPI["components"]["parameters"].update(
    {
        "conferenceId": {"name": "conferenceId", "in": "path", "required": True, "schema": {"type": "integer"}},
        "itemId": {"name": "itemId", "in": "path", "required": True, "schema": {"type": "integer"}},
        "slotId": {"name": "slotId", "in": "path", "required": True, "schema": {"type": "integer"}},
        "agendaVersion": {
            "name": "agendaVersion",
            "in": "query",
            "description": "der Stand der Tagesordnung, den der Aufrufer kennt (ohne: keine Prüfung)",
            "schema": {"type": "integer"},
        },
    }
)

add_paths(
    {
        "/conferences": {
            "get": op(
                "Meine Konferenzen (OParl Meeting): alle kommenden, die vergangenen in Seiten zu 50 (`page`; "
                "`hasMorePast` sagt, ob ältere folgen)",
                params=("page",),
                returns="MeetingList",
            ),
            "post": op("Konferenz planen (Moderation)", body="ConferenceInput", ok="201", returns="Meeting"),
        },
        "/conferences/{conferenceId}": {
            "get": op(
                "Konferenz mit Tagesordnung, soweit die Einwilligung reicht",
                params=("conferenceId",),
                returns="MeetingDetail",
            )
        },
        "/conferences/{conferenceId}/items": {
            "post": op(
                "Tagesordnungspunkt hinzufügen (Moderation; 409 mit `closedFor`, wenn Stellen ohne Einwilligung "
                "teilnehmen und `confirmClosed` fehlt, oder bei `order` und veralteter `agendaVersion`)",
                params=("conferenceId",),
                body="AgendaItemInput",
                ok="201",
                also=("409",),
                returns="AgendaItemCreated",
            )
        },
        "/conferences/{conferenceId}/items/{itemId}": {
            "patch": op(
                "Titel, Zeit oder vortragende Person eines Tagesordnungspunkts ändern (Moderation; Art und Fall "
                "bleiben; 409 bei veralteter `agendaVersion`)",
                params=("conferenceId", "itemId"),
                body="AgendaItemChange",
                also=("409",),
                returns="AgendaItemChanged",
            ),
            "delete": op(
                "Tagesordnungspunkt entfernen (409 bei veralteter `agendaVersion`)",
                params=("conferenceId", "itemId", "agendaVersion"),
                also=("409",),
            ),
        },
        "/conferences/{conferenceId}/state": {
            "post": op(
                "Status ändern: einladen, beginnen, beenden oder absagen (mit `reason`; Moderation; 409, wenn der "
                "Status von hier nicht erreichbar ist)",
                params=("conferenceId",),
                body="StateChange",
                also=("409",),
                returns="Meeting",
            )
        },
        "/conferences/{conferenceId}/response": {
            "put": op(
                "Auf die Einladung antworten: Zusage, Absage oder Vertretung durch eine Kollegin oder einen Kollegen "
                "(409, solange die Terminumfrage läuft oder wenn die Konferenz vorüber ist)",
                params=("conferenceId",),
                body="ResponseInput",
                also=("409",),
                returns="ResponseGiven",
            )
        },
        "/conferences/{conferenceId}/poll": {
            "post": op(
                "Terminumfrage mit 2 bis 8 Terminen starten (Moderation, vor der Einladung; 409, wenn es schon eine "
                "gibt)",
                params=("conferenceId",),
                body="PollInput",
                ok="201",
                also=("409",),
                returns="Poll",
            ),
            "delete": op(
                "Terminumfrage ohne Termin beenden: die Antworten werden verworfen, die Befragten benachrichtigt "
                "(Moderation; 409, wenn keine läuft)",
                params=("conferenceId",),
                also=("409",),
            ),
        },
        "/conferences/{conferenceId}/poll/answers": {
            "put": op(
                "In der Terminumfrage antworten (je Termin ja, vielleicht oder nein; änderbar bis zur Festlegung, "
                "danach 409)",
                params=("conferenceId",),
                body="PollAnswers",
                also=("409",),
                returns="Poll",
            )
        },
        "/conferences/{conferenceId}/poll/slots/{slotId}/fix": {
            "post": op(
                "Termin festlegen: die Konferenz erhält seine Zeit, alle werden eingeladen (Moderation; 409, wenn "
                "schon festgelegt; 422, wenn der Termin vergangen ist)",
                params=("conferenceId", "slotId"),
                also=("409",),
                returns="Meeting",
            )
        },
        "/conferences/{conferenceId}/agenda-notice": {
            "post": op(
                "Teilnehmende über die geänderte Tagesordnung benachrichtigen (Moderation; 409, wenn sie sie schon "
                "kennen oder noch nicht eingeladen sind)",
                params=("conferenceId",),
                also=("409",),
                returns="Notified",
            )
        },
        "/conferences/{conferenceId}/order": {
            "put": op(
                "Reihenfolge speichern (mit agendaVersion gegen veraltete Stände)",
                params=("conferenceId",),
                body="Order",
                also=("409",),
            )
        },
    }
)
_MEETING = {
    "id": INT,
    "type": {"const": "https://schema.oparl.org/1.1/Meeting"},
    "name": TEXT,
    "kind": {"enum": list(KINDS)},
    "meetingState": {"enum": list(STATES)},
    "start": STAMP,
    "end": STAMP,
    "location": nullable("string"),
    "videoLink": nullable("string"),
    "cancelled": BOOL,
    "polling": {**BOOL, "description": "true: der Termin wird noch gesucht; start und end sind ein Platzhalter"},
    "agendaVersion": {**INT, "description": "mitzusenden beim Umordnen und Entfernen (sonst 409 bei veraltetem Stand)"},
    "agendaChangedSinceNotice": BOOL,
}
OPENAPI["components"]["schemas"].update(
    {
        "Meeting": obj(_MEETING, description="nach OParl 1.1 Meeting"),
        "MeetingList": obj(
            {
                "upcoming": array_of("Meeting"),
                "past": array_of("Meeting"),
                "page": INT,
                "hasMorePast": BOOL,
            }
        ),
        "MeetingDetail": obj(
            _MEETING
            | {
                "agendaItem": array_of("AgendaItem"),
                "participants": {
                    "type": "array",
                    "items": obj(
                        {
                            "id": INT,
                            "name": TEXT,
                            "agency": TEXT,
                            "response": {"enum": list(RESPONSES)},
                        }
                    ),
                },
            },
            {"poll": ref("Poll")},
        ),
        "Poll": obj(
            {
                "fixed": {**BOOL, "description": "true: ein Termin steht fest; Antworten sind nicht mehr möglich"},
                "slots": {
                    "type": "array",
                    "items": obj(
                        {
                            "id": INT,
                            "start": STAMP,
                            "end": STAMP,
                            "passed": {**BOOL, "description": "hat begonnen: lässt sich nicht mehr festlegen"},
                            "myAnswer": {"enum": [*POLL_ANSWERS, None]},
                        },
                        {"yes": {**INT, "description": "Zusagen (nur für die Moderation)"}},
                    ),
                },
            },
            {
                "answers": {
                    "type": "array",
                    "description": "alle Antworten (nur für die Moderation)",
                    "items": obj({"slot": INT, "person": INT, "answer": {"enum": list(POLL_ANSWERS)}}),
                }
            },
            description="die Terminumfrage: jede und jeder sieht die eigenen Antworten, die Moderation alle",
        ),
        "ResponseGiven": obj(
            {
                "response": {"enum": list(RESPONSES)},
                "takesPart": {**BOOL, "description": "false nach einer Vertretung: der Platz gehört der Vertretung"},
            }
        ),
        "StateChange": {
            "type": "object",
            "required": ["meetingState"],
            "properties": {
                "meetingState": {"enum": ["eingeladen", "laeuft", "beendet", "abgesagt"]},
                "reason": {"type": "string", "maxLength": 1000, "description": "Pflicht bei einer Absage"},
            },
        },
        "ResponseInput": {
            "type": "object",
            "required": ["response"],
            "properties": {
                "response": {"enum": ["zusage", "absage", "vertretung"]},
                "substitute": {"type": "integer", "description": "Personen-ID der Vertretung (derselben Stelle)"},
            },
        },
        "PollInput": {
            "type": "object",
            "required": ["slots"],
            "properties": {
                "slots": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 8,
                    "items": {
                        "type": "object",
                        "required": ["start", "end"],
                        "properties": {
                            "start": {"type": "string", "format": "date-time"},
                            "end": {"type": "string", "format": "date-time"},
                        },
                    },
                }
            },
        },
        "PollAnswers": {
            "type": "object",
            "required": ["answers"],
            "properties": {
                "answers": {
                    "type": "object",
                    "description": "Termin-ID → Antwort",
                    "additionalProperties": {"enum": list(POLL_ANSWERS)},
                }
            },
        },
        "AgendaItem": obj(
            {
                "id": INT,
                "type": {"const": "https://schema.oparl.org/1.1/AgendaItem"},
                "number": TEXT,
                "order": INT,
                "name": TEXT,
                "public": {"const": False},
                "kind": {"enum": list(ITEM_KINDS)},
                "start": STAMP,
                "end": STAMP,
                "timeBox": INT,
                "confidential": {**BOOL, "description": "true: „vertraulicher Fall“, ohne Fallnummer und Namen"},
            },
            {
                "case": obj(
                    {"number": TEXT, "name": nullable("string")},
                    description="nur, wenn die Einwilligung der eigenen Stelle den Fall zeigt",
                )
            },
            description="nach OParl 1.1 AgendaItem",
        ),
        "AgendaItemCreated": obj({"id": INT, "order": INT}),
        "AgendaItemChanged": obj(
            {
                "changed": {
                    **TEXTS,
                    "description": "die geänderten Felder (title, time_box, presenter_id); leer: nichts",
                },
                "agendaVersion": INT,
            }
        ),
        "Notified": obj({"notified": {**INT, "description": "so viele Personen wurden benachrichtigt"}}),
        "ConferenceInput": {
            "type": "object",
            "required": ["name", "start", "end"],
            "properties": {
                "name": {"type": "string", "maxLength": 200},
                "kind": {"enum": ["fallkonferenz", "uebergangskonferenz", "lenkungsgruppe"]},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "location": {"type": "string"},
                "videoLink": {"type": "string"},
                "participants": {"type": "array", "items": {"type": "integer"}},
            },
        },
        "AgendaItemInput": {
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {"enum": ["fallbesprechung", "bericht", "verschiedenes"]},
                "name": {
                    "type": "string",
                    "maxLength": 300,
                    "description": "Pflicht außer bei einer Fallbesprechung (die heißt sonst „Fallbesprechung“)",
                },
                "case": {"type": "string", "description": "Fallnummer; Pflicht bei einer Fallbesprechung"},
                "timeBox": {"type": "integer", "minimum": 1, "maximum": 240, "default": 15},
                "order": {"type": "integer", "minimum": 1, "description": "Position, 1 = zuerst; ohne: ans Ende"},
                "agendaVersion": {
                    "type": "integer",
                    "description": "Mit `order`: abgelehnt (409), falls die Tagesordnung inzwischen geändert wurde; "
                    "ein Punkt ans Ende braucht sie nicht",
                },
                "confirmClosed": {"type": "boolean"},
            },
        },
        "AgendaItemChange": {
            "type": "object",
            "required": ["agendaVersion"],
            "properties": {
                "name": {"type": "string", "maxLength": 300},
                "timeBox": {"type": "integer", "minimum": 1, "maximum": 240},
                "presenter": {"type": ["integer", "null"], "description": "Personen-ID einer oder eines Teilnehmenden"},
                "agendaVersion": {"type": "integer"},
            },
        },
        "Order": {
            "type": "object",
            "required": ["items", "agendaVersion"],
            "properties": {
                "items": {"type": "array", "items": {"type": "integer"}},
                "agendaVersion": {"type": "integer"},
            },
        },
    }
)
