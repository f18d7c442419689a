"""The OpenAPI 3.1 document of /api/v1."""

from __future__ import annotations

from .cases.service import NOTES_PAGE
from .vocab import CATEGORIES, FIELDS, RECHTSKREISE


def ref(name: str) -> dict:
    """A reference to the schema `name` of this document."""
    return {"$ref": f"#/components/schemas/{name}"}


def array_of(name: str, **more) -> dict:
    return {"type": "array", "items": ref(name), **more}


ERROR = {"$ref": "#/components/responses/Error"}  # every error answer: a German message, `errors` per field


def op(
    summary: str,
    *,
    body: str | None = None,
    ok: str = "200",
    params: tuple = (),
    also: tuple = (),
    returns: str = "Ok",
) -> dict:
    """One operation: its answer `returns` (a schema's name) with status `ok`, the standard German error
    responses, and `also` these status codes with an error. Every route of one case answers its lead agency 410
    once the case was erased (everyone else 404). A request with the session cookie but without the CSRF token
    is a 400; 403 answers an account that must first choose its own password (and, where an operation says so, a
    role or agency that may not do it). `add_paths` fits 400, 404 and 422 to the operation's address."""
    also = (*also, "410") if "number" in params else also
    op = {
        "summary": summary,
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
        "responses": {ok: {"description": "OK", "content": {"application/json": {"schema": ref(returns)}}}}
        | dict.fromkeys(("400", "401", "403", "422", *also), ERROR),
    }
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return op


def obj(required: dict, optional: dict | None = None, description: str | None = None) -> dict:
    """A response object's schema: these properties always, `optional` ones only where they apply; nothing else
    (the tests check every answer of the API against it, so a field added without its description fails)."""
    out = {
        "type": "object",
        "required": list(required),
        "properties": required | (optional or {}),
        "additionalProperties": False,
    }
    return out | ({"description": description} if description else {})


def nullable(kind: str, **more) -> dict:
    return {"type": [kind, "null"], **more}


def listing(item: str, **more: dict) -> dict:
    """A list answer: `items` of the schema `item`, and `more` properties beside it (paging)."""
    return obj({"items": array_of(item)} | more)


TEXT, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
TEXTS = {"type": "array", "items": TEXT}
DAY, STAMP = nullable("string", format="date"), nullable("string", format="date-time")
UNKNOWN_FIELDS = "Nicht entschlüsselbar (manipuliert oder gelöscht): null."

_CASE_PROPERTIES = {
    "given_name": {"type": "string", "maxLength": 200},
    "family_name": {"type": "string", "maxLength": 200},
    "birth_date": {"type": "string", "format": "date"},
    "nationality": {"type": "string"},
    "languages": {"type": "string"},
    "interpreter_needed": {"type": "boolean"},
    "address": {"type": "string"},
    "phone": {"type": "string"},
    "residence_status": {"type": "string"},
    "residence_valid_until": {"type": "string", "format": "date"},
    "rechtskreise": {"type": "array", "items": {"type": "string"}},
    "fields": {"type": "array", "items": {"type": "string"}},
    "differentPerson": {
        "type": "boolean",
        "description": "true: die in `possibleDuplicates` genannten Fälle sind eine andere Person",
    },
}
CASE_FIELDS = {
    "id": INT,
    "number": TEXT,
    "leadAgency": TEXT,
    "access": ref("Access"),
    "closedOn": DAY,
    "erasureOn": {**DAY, "description": "Löschung nach Ablauf der Aufbewahrungsfrist"},
}
CASE_OPTIONAL = {
    "client": obj(
        {
            "given_name": nullable("string"),
            "family_name": nullable("string"),
            "birth_date": DAY,
            "address": nullable("string"),
            "phone": nullable("string"),
            "nationality": nullable("string"),
            "languages": nullable("string"),
            "interpreter_needed": nullable("boolean"),
        },
        description=f"Stammdaten, nur mit dieser Kategorie. {UNKNOWN_FIELDS}",
    ),
    "residence": obj(
        {"status": nullable("string"), "validUntil": DAY},
        description="nur mit Kategorie Aufenthalt",
    ),
    "rechtskreise": {**TEXTS, "description": "nur mit Stammdaten"},
    "fields": {**TEXTS, "description": "Handlungsfelder, nur mit Stammdaten"},
}

CASE = ("number",)
# not the lead agency; already closed (or not closed); the case was erased (told to its lead agency only)
RETENTION_REFUSALS = ("409", "410")

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Fallkonferenz API",
        "version": "1.0.0",
        "description": "Einwilligungsgebundene Fallakten. Jede Antwort enthält nur, was die Einwilligung "
        "der anfragenden Stelle erlaubt; Fälle ohne Einwilligung antworten mit 404. Zeitangaben sind UTC "
        "(ISO 8601, mit „Z“); eine mitgesendete Zeitzone wird umgerechnet. Datumsangaben nur als JJJJ-MM-TT. "
        "Wer die API mit dem Sitzungs-Cookie des Browsers anspricht, sendet bei jeder ändernden Anfrage den Kopf "
        "`X-CSRFToken` mit dem Token der Seite; ohne ihn antwortet sie mit 400. Ohne Anmeldung: 401.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    "paths": {
        "/cases": {
            "get": op(
                "Fälle auflisten und suchen (Fallnummer oder Name); mit `state` nur offene oder nur abgeschlossene; "
                "`leadAgency`, `field` und `rechtskreis` grenzen wie die Filter der Fallübersicht ein",
                params=("q", "caseState", "leadAgency", "caseField", "rechtskreis", "page"),
                returns="CaseList",
            ),
            "post": op(
                "Fall anlegen (federführend: eigene Stelle). Gibt es für Vor- und Familienname (und Geburtsdatum) "
                "schon Fälle, die die Stelle sehen darf, antwortet 409 mit `possibleDuplicates`; mit "
                "`differentPerson: true` wird der Fall trotzdem angelegt",
                body="CaseInput",
                ok="201",
                also=("409",),
                returns="Case",
            ),
        },
        "/cases/{number}": {
            "get": op("Fall mit sichtbaren Vermerken und Zielen", params=CASE, returns="CaseDetail"),
            "patch": op(
                "Stammdaten ändern (federführende Stelle); was fehlt, bleibt",
                params=CASE,
                body="CaseChange",
                returns="Case",
            ),
        },
        "/cases/{number}/close": {
            "post": op(
                "Fall abschließen (federführende Stelle): die Aufbewahrungsfrist beginnt",
                params=CASE,
                also=RETENTION_REFUSALS,
                returns="Case",
            )
        },
        "/cases/{number}/reopen": {
            "post": op(
                "Abgeschlossenen Fall wieder öffnen (federführende Stelle)",
                params=CASE,
                also=RETENTION_REFUSALS,
                returns="Case",
            )
        },
        "/cases/{number}/notes": {
            "get": op(
                f"Sichtbare Vermerke, die neuesten zuerst, in Seiten zu {NOTES_PAGE} (`page`; `hasNext` sagt, ob "
                "weitere folgen); `category` nur einer Kategorie; `counts`: Vermerke je Kategorie",
                params=(*CASE, "page", "noteCategory"),
                returns="NoteList",
            ),
            "post": op("Vermerk schreiben", params=CASE, body="NoteInput", ok="201", returns="NoteCreated"),
        },
        "/cases/{number}/notes/{noteId}/withdraw": {
            "post": op(
                "Vermerk der eigenen Stelle zurückziehen: der Text wird gelöscht, eine Spur bleibt",
                params=(*CASE, "noteId"),
                body="NoteWithdraw",
                also=("409",),
                returns="NoteWithdrawn",
            )
        },
        "/cases/{number}/goals": {
            "get": op("Ziele des Integrationsplans", params=CASE, returns="GoalList"),
            "post": op("Ziel anlegen", params=CASE, body="GoalInput", ok="201", returns="Goal"),
        },
        "/cases/{number}/goals/{goalId}": {
            "patch": op(
                "Ziel ändern: den Status (jede Stelle, die es sieht) oder Titel, Handlungsfeld, verantwortliche Stelle "
                "und Zieldatum (die Stelle, die es angelegt hat); fehlende Angaben bleiben, wie sie sind",
                params=(*CASE, "goalId"),
                body="GoalChange",
                returns="Goal",
            )
        },
        "/cases/{number}/consents": {
            "get": op("Einwilligungen (alle Versionen, nach FHIR R5 Consent)", params=CASE, returns="ConsentList"),
            "post": op(
                "Einwilligung erfassen (federführende Stelle)",
                params=CASE,
                body="ConsentInput",
                ok="201",
                returns="Created",
            ),
        },
        "/cases/{number}/consents/{consentId}/revoke": {
            "post": op(
                "Einwilligung widerrufen (sofort wirksam; 409, wenn sie schon widerrufen ist)",
                params=(*CASE, "consentId"),
                body="Revoke",
                also=("409",),
                returns="Revoked",
            )
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Persönliches Zugangstoken"},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "fk_session"},
        },
        "parameters": {
            "number": {
                "name": "number",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^FK-\\d{4}-\\d{4}$"},
            },
            "noteId": {"name": "noteId", "in": "path", "required": True, "schema": {"type": "integer"}},
            "goalId": {"name": "goalId", "in": "path", "required": True, "schema": {"type": "integer"}},
            "consentId": {"name": "consentId", "in": "path", "required": True, "schema": {"type": "integer"}},
            "q": {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 200}},
            "caseState": {
                "name": "state",
                "in": "query",
                "description": "`open`: nur offene Fälle, `closed`: nur abgeschlossene; ohne: beide",
                "schema": {"type": "string", "enum": ["open", "closed"]},
            },
            "page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            "noteCategory": {"name": "category", "in": "query", "schema": {"enum": list(CATEGORIES)}},
            "leadAgency": {"name": "leadAgency", "in": "query", "schema": {"type": "string"}},
            "caseField": {"name": "field", "in": "query", "schema": {"enum": list(FIELDS)}},
            "rechtskreis": {"name": "rechtskreis", "in": "query", "schema": {"enum": list(RECHTSKREISE)}},
        },
        "responses": {
            "Error": {
                "description": "Fehler mit deutscher Meldung; `errors` je Feld, wo ein Feld falsch ist",
                "content": {"application/json": {"schema": ref("Error")}},
            }
        },
        "schemas": {
            # -- answers --
            "Error": obj(
                {"error": TEXT},
                {
                    "errors": {"type": "object", "additionalProperties": TEXT, "description": "Meldung je Feld"},
                    "possibleDuplicates": array_of(
                        "CaseRow", description="409 beim Anlegen: Fälle gleichen Namens, die die Stelle sehen darf"
                    ),
                    "closedFor": {
                        **TEXTS,
                        "description": "409 beim Tagesordnungspunkt: Stellen ohne Einwilligung für den Fall",
                    },
                    "hits": {
                        "type": "array",
                        "description": "422 beim Melden: Fundstellen personenbezogener Daten im Text",
                        "items": obj({"field": TEXT, "start": INT, "end": INT, "kind": TEXT, "label": TEXT}),
                    },
                },
            ),
            "Ok": obj({"ok": {"const": True}}),
            "Access": obj(
                {"visibleCategories": TEXTS, "hiddenCategories": TEXTS, "lead": BOOL},
                description="Was die Einwilligung der anfragenden Stelle von diesem Fall zeigt",
            ),
            "CaseRow": obj(
                {
                    "id": INT,
                    "number": TEXT,
                    "leadAgency": TEXT,
                    "access": ref("Access"),
                    "closedOn": DAY,
                },
                {
                    "name": nullable("string", description="nur mit Stammdaten"),
                    "fields": {**TEXTS, "description": "Handlungsfelder, nur mit Stammdaten"},
                    "residence": obj({"status": nullable("string")}, description="nur mit Kategorie Aufenthalt"),
                },
            ),
            "CaseList": listing("CaseRow", total=INT, page=INT, hasNext=BOOL),
            "Case": obj(
                CASE_FIELDS,
                CASE_OPTIONAL,
            ),
            "CaseDetail": obj(
                CASE_FIELDS
                | {
                    "notes": array_of("Note"),
                    "goals": array_of("Goal"),
                },
                CASE_OPTIONAL,
            ),
            "Note": obj(
                {
                    "id": INT,
                    "category": TEXT,
                    "text": nullable("string", description=f"Leer, wenn zurückgezogen. {UNKNOWN_FIELDS}"),
                    "agency": TEXT,
                    "createdAt": STAMP,
                    "withdrawnAt": STAMP,
                    "withdrawReason": nullable("string"),
                }
            ),
            "NoteList": listing(
                "Note",
                page=INT,
                hasNext=BOOL,
                counts={"type": "object", "additionalProperties": INT, "description": "Vermerke je Kategorie"},
            ),
            "NoteCreated": obj({"id": INT, "category": TEXT}),
            "NoteWithdrawn": obj(
                {"id": INT, "category": TEXT, "withdrawnAt": STAMP, "withdrawReason": nullable("string")}
            ),
            "Goal": obj(
                {
                    "id": INT,
                    "title": nullable("string"),
                    "field": TEXT,
                    "responsibleAgency": TEXT,
                    "dueDate": DAY,
                    "status": TEXT,
                }
            ),
            "GoalList": listing("Goal"),
            "Consent": obj(
                {
                    "id": INT,
                    "version": INT,
                    "status": {"enum": ["active", "pending", "expired", "revoked", "replaced"]},
                    "grantor": obj({"kind": {"enum": ["client", "guardian"]}, "name": nullable("string")}),
                    "dateTime": {"type": "string", "format": "date"},
                    "period": obj({"start": {"type": "string", "format": "date"}, "end": DAY}),
                    "decision": {"const": "permit"},
                    "purpose": TEXT,
                    "regulatoryBasis": nullable("string"),
                    "provision": {"type": "array", "items": obj({"actor": TEXT, "class": TEXTS})},
                    "verification": obj({"verified": BOOL, "interpreterUsed": BOOL, "interpreterLanguage": TEXT}),
                    "hasSourceAttachment": BOOL,
                    "revokedAt": STAMP,
                },
                description="nach HL7 FHIR R5 Consent",
            ),
            "ConsentList": listing("Consent"),
            "Created": obj({"id": INT, "version": INT}),
            "Revoked": obj({"id": INT, "revokedAt": STAMP}),
            # -- requests --
            "CaseInput": {
                "type": "object",
                "required": ["given_name", "family_name"],
                "properties": _CASE_PROPERTIES,
            },
            "CaseChange": {
                "type": "object",
                "properties": {k: v for k, v in _CASE_PROPERTIES.items() if k != "differentPerson"},
            },
            "NoteInput": {
                "type": "object",
                "required": ["category", "text"],
                "properties": {"category": {"type": "string"}, "text": {"type": "string", "maxLength": 10000}},
            },
            "NoteWithdraw": {
                "type": "object",
                "required": ["reason"],
                "properties": {"reason": {"enum": ["kategorie", "fall", "inhalt", "doppelt"]}},
            },
            "GoalInput": {
                "type": "object",
                "required": ["title", "field", "responsibleAgency"],
                "properties": {
                    "title": {"type": "string"},
                    "field": {"type": "string"},
                    "responsibleAgency": {"type": "string"},
                    "dueDate": {"type": "string", "format": "date"},
                    "status": {"type": "string"},
                },
            },
            "GoalChange": {
                "type": "object",
                "minProperties": 1,
                "properties": {
                    "status": {"type": "string"},
                    "title": {"type": "string"},
                    "field": {"type": "string"},
                    "responsibleAgency": {"type": "string"},
                    "dueDate": {"type": ["string", "null"], "format": "date"},
                },
            },
            "ConsentInput": {
                "type": "object",
                "required": ["dateTime", "periodStart", "periodEnd", "purpose", "provision", "verified"],
                "properties": {
                    "grantor": {
                        "type": "object",
                        "properties": {"kind": {"enum": ["client", "guardian"]}, "name": {"type": "string"}},
                    },
                    "dateTime": {"type": "string", "format": "date"},
                    "periodStart": {"type": "string", "format": "date"},
                    "periodEnd": {"type": "string", "format": "date"},
                    "purpose": {"type": "string"},
                    "provision": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "actor": {"type": "string"},
                                "class": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                    "interpreterUsed": {"type": "boolean"},
                    "interpreterLanguage": {
                        "type": "string",
                        "maxLength": 100,
                        "description": "Sprache, in der die Erklärung erläutert wurde",
                    },
                    "verified": {
                        "type": "boolean",
                        "description": "true: die unterschriebene Erklärung ist geprüft (sonst 422)",
                    },
                },
            },
            "Revoke": {
                "type": "object",
                "properties": {"reason": {"type": "string", "maxLength": 2000, "description": "freiwillig"}},
            },
        },
    },
}


def parameter(reference: dict) -> dict:
    """The parameter a reference in an operation's `parameters` names (registered before the operation is added)."""
    return OPENAPI["components"]["parameters"][reference["$ref"].rpartition("/")[2]]


def add_paths(paths: dict) -> None:
    """Add operations to the document, each with the error answers it can give. A read sends no CSRF token, so it
    never answers 400; 404 is for an address that names something (a body that names something says so with
    `also`); 422 is for what can be wrong in a request: a body, a query parameter, or a write's form that is no
    UTF-8."""
    for template, methods in paths.items():
        for method, operation in methods.items():
            responses = operation["responses"]
            if "{" in template:
                responses["404"] = ERROR
            if method == "get":
                responses.pop("400", None)
                if not any(parameter(p)["in"] == "query" for p in operation["parameters"]):
                    responses.pop("422", None)
            operation["responses"] = dict(sorted(responses.items()))
    OPENAPI["paths"].update(paths)


add_paths(OPENAPI["paths"])


# -- the Lenkungsgruppe backlog (/api/v1/backlog): de-identified structural problems ------------------------------


_GROUP = {
    "id": INT,
    "name": TEXT,
    "mandate": TEXT,
    "status": {"enum": ["aktiv", "abgeschlossen"]},
    "lead": {**nullable("integer"), "description": "Personen-ID der Leitung"},
    "dueDate": DAY,
    "overdue": BOOL,
    "members": {
        "type": "array",
        "items": obj({"person": INT, "name": TEXT, "agency": TEXT, "role": {"enum": ["leitung", "mitglied"]}}),
    },
}
_GROUP_INPUT = {
    "name": {"type": "string", "maxLength": 200},
    "mandate": {"type": "string", "maxLength": 5000},
    "lead": {"type": ["integer", "null"], "description": "Personen-ID; null: keine Leitung"},
    "dueDate": {"type": ["string", "null"], "format": "date", "description": "Bericht an die Lenkungsgruppe bis"},
    "members": {"type": "array", "items": {"type": "integer"}},
}


def _item_step(summary: str, body: str) -> dict:
    """A change to one backlog item, with optimistic locking (a stale `version` answers 409); the answer is the
    item as it is now."""
    return op(summary, params=("escalationId",), body=body, also=("409",), returns="Escalation")


_BACKLOG_FILTERS = ("backlogText", "kategorie", "status", "behoerde", "offen", "sortierung", "page")

OPENAPI["components"]["parameters"].update(
    {
        "escalationId": {"name": "escalationId", "in": "path", "required": True, "schema": {"type": "integer"}},
        "groupId": {"name": "groupId", "in": "path", "required": True, "schema": {"type": "integer"}},
        "implementationId": {
            "name": "implementationId",
            "in": "path",
            "required": True,
            "schema": {"type": "integer"},
        },
        "backlogText": {
            "name": "q",
            "in": "query",
            "description": "Wörter, die alle in Nummer, Titel, Beschreibung oder Lösungsvorschlag stehen "
            "(Groß- und Kleinschreibung egal)",
            "schema": {"type": "string", "maxLength": 100},
        },
        "kategorie": {"name": "kategorie", "in": "query", "schema": {"type": "string"}},
        "status": {"name": "status", "in": "query", "schema": {"type": "string"}},
        "behoerde": {"name": "behoerde", "in": "query", "schema": {"type": "string"}},
        "offen": {"name": "offen", "in": "query", "schema": {"type": "string", "enum": ["1", "ja"]}},
        "sortierung": {
            "name": "sortierung",
            "in": "query",
            "schema": {"enum": ["prioritaet", "faelle", "alter", "geaendert"]},
        },
    }
)

add_paths(
    {
        "/backlog": {
            "get": op(
                "Themenspeicher der Lenkungsgruppe (gefiltert, 50 je Seite)",
                params=_BACKLOG_FILTERS,
                returns="EscalationList",
            ),
            "post": op(
                "Strukturproblem aus einem Tagesordnungspunkt melden; enthält der Text personenbezogene Daten, "
                "antwortet 422 mit `errors` je Feld und `hits` (field, start, end, kind, label); 404, wenn es den "
                "Tagesordnungspunkt nicht gibt oder er nicht sichtbar ist",
                body="EscalationInput",
                ok="201",
                also=("404",),
                returns="Escalation",
            ),
        },
        "/backlog/{escalationId}": {
            "get": op(
                "Eintrag mit Verlauf, Zahl der betroffenen Fälle, Empfehlung und Umsetzungen; `linkedCases` nur "
                "mit den Fällen, die die eigene Stelle ohnehin sehen darf",
                params=("escalationId",),
                returns="Escalation",
            ),
            "patch": _item_step(
                "Text eines Eintrags ändern (Lenkungsgruppe, solange er offen ist; wer ihn gemeldet hat, bis er "
                "gesichtet ist); was fehlt, bleibt; der Text wird wie beim Melden geprüft (422 mit `hits`)",
                "EscalationChange",
            ),
        },
        "/backlog/{escalationId}/transitions": {
            "post": _item_step("Status ändern (Lenkungsgruppe; zum Zusammenführen: `…/merge`)", "TransitionInput")
        },
        "/backlog/{escalationId}/merge": {
            "post": _item_step(
                "Doppelten Eintrag zusammenführen (Lenkungsgruppe): er geht in `mergeInto` auf, der seine betroffenen "
                "Fälle, Unterstützenden, Stellen und Rechtskreise übernimmt; Antwort: der zusammengeführte Eintrag",
                "MergeInput",
            )
        },
        "/backlog/{escalationId}/triage": {
            "post": _item_step(
                "Sichten (Lenkungsgruppe): Priorität 1 hoch, 2 mittel, 3 niedrig, und wahlweise die Kategorie setzen; "
                "ein eingereichter Eintrag ist damit gesichtet",
                "TriageInput",
            )
        },
        "/backlog/{escalationId}/recommendation": {
            "post": op(
                "Empfehlung beschließen (Lenkungsgruppe; der Eintrag steht auf der Tagesordnung oder in der "
                "Arbeitsgruppe): jede Stelle in `agencies` (ohne das Feld: jede Stelle der Lenkungsgruppe) erhält "
                "einen Stand der Umsetzung „offen“; 409 bei veralteter `version` oder in einem anderen Status",
                params=("escalationId",),
                body="RecommendationInput",
                ok="201",
                also=("409",),
                returns="Escalation",
            )
        },
        "/backlog/{escalationId}/cases": {
            "post": op(
                "„Betrifft uns auch“: den Fall eines Tagesordnungspunkts verknüpfen",
                params=("escalationId",),
                body="JoinInput",
                ok="201",
                returns="Escalation",
            )
        },
        "/backlog/groups": {
            "get": op("Arbeitsgruppen mit Leitung und Mitgliedern", returns="WorkingGroupList"),
            "post": op(
                "Arbeitsgruppe einrichten (Lenkungsgruppe); Name und Auftrag prüft der Personenbezug-Filter (422 mit "
                "`hits`); neue Mitglieder erhalten eine E-Mail",
                body="WorkingGroupInput",
                ok="201",
                returns="WorkingGroup",
            ),
        },
        "/backlog/groups/{groupId}": {
            "get": op("Arbeitsgruppe mit Themen und Statusberichten", params=("groupId",), returns="WorkingGroup"),
            "patch": op(
                "Arbeitsgruppe ändern (Lenkungsgruppe): was fehlt, bleibt; ein vergangenes `dueDate` darf bleiben, "
                "ein neues liegt in der Zukunft",
                params=("groupId",),
                body="WorkingGroupChange",
                returns="WorkingGroupChanged",
            ),
        },
        "/backlog/groups/{groupId}/reports": {
            "post": op(
                "Statusbericht (Mitglieder der Arbeitsgruppe und Lenkungsgruppe; ohne personenbezogene Daten, sonst "
                "422 mit `hits`)",
                params=("groupId",),
                body="ReportInput",
                ok="201",
                returns="WorkingGroup",
            )
        },
        "/backlog/groups/{groupId}/status": {
            "post": op(
                "Arbeitsgruppe abschließen oder wieder aktivieren (Lenkungsgruppe)",
                params=("groupId",),
                body="GroupStatusInput",
                returns="WorkingGroup",
            )
        },
        "/backlog/implementations/{implementationId}": {
            "patch": op(
                "Stand der Umsetzung melden (Mitglied der Lenkungsgruppe der jeweiligen Behörde; 409 bei veralteter "
                "`version` oder wenn der Eintrag abgeschlossen ist)",
                params=("implementationId",),
                body="ImplementationInput",
                also=("409",),
                returns="ImplementationUpdate",
            )
        },
    }
)
_ESCALATION = {
    "id": INT,
    "reference": TEXT,
    "title": TEXT,
    "category": TEXT,
    "categoryLabel": TEXT,
    "state": TEXT,
    "stateLabel": TEXT,
    "priority": nullable("integer", description="1 hoch, 2 mittel, 3 niedrig; null: noch nicht gesichtet"),
    "priorityLabel": nullable("string"),
    "caseCount": {**INT, "description": "betroffene Fälle; welche, sehen nur deren Teams"},
    "rechtskreise": TEXTS,
    "agencies": TEXTS,
    "workingGroup": nullable("integer"),
    "mergedInto": nullable("integer"),
    "createdAt": STAMP,
    "updatedAt": STAMP,
    "decidedAt": STAMP,
    "implementedAt": STAMP,
    "version": {**INT, "description": "für die nächste Änderung mitzusenden (sonst 409)"},
}
_IMPLEMENTATION = {
    "id": INT,
    "agency": TEXT,
    "status": {"enum": ["offen", "in_arbeit", "umgesetzt", "nicht_umsetzbar"]},
    "statusLabel": TEXT,
    "reason": nullable("string"),
    "updatedAt": STAMP,
    "overdue": BOOL,
    "version": INT,
}
OPENAPI["components"]["schemas"].update(
    {
        "EscalationSummary": obj(_ESCALATION, description="nach OParl Paper; ohne personenbezogene Daten"),
        "EscalationList": listing("EscalationSummary", total=INT, page=INT, pageSize=INT, hasNext=BOOL),
        "Escalation": obj(
            _ESCALATION
            | {
                "description": TEXT,
                "proposedSolution": nullable("string"),
                "stateReason": nullable("string"),
                "supporterCount": INT,
                "history": {
                    "type": "array",
                    "items": obj(
                        {
                            "from": nullable("string"),
                            "to": TEXT,
                            "toLabel": TEXT,
                            "reason": nullable("string"),
                            "at": STAMP,
                            "agency": nullable("string"),
                        }
                    ),
                },
                "consultations": {
                    "type": "array",
                    "items": obj({"meeting": INT, "name": TEXT, "start": STAMP, "agendaItem": INT}),
                    "description": "Beratungen in Sitzungen der Lenkungsgruppe (OParl Consultation)",
                },
                "recommendation": {
                    "oneOf": [
                        {"type": "null"},
                        obj(
                            {
                                "text": TEXT,
                                "adoptedOn": DAY,
                                "dueDate": DAY,
                                "implementations": {"type": "array", "items": obj(_IMPLEMENTATION)},
                            }
                        ),
                    ]
                },
                "linkedCases": {
                    "type": "array",
                    "items": obj({"id": INT, "number": TEXT}),
                    "description": "nur Fälle, die die eigene Stelle ohnehin sehen darf",
                },
            }
        ),
        "WorkingGroup": obj(
            _GROUP,
            {
                "items": {
                    "type": "array",
                    "items": obj({"id": INT, "reference": TEXT, "title": TEXT, "state": TEXT}),
                },
                "reports": {
                    "type": "array",
                    "items": obj({"id": INT, "text": TEXT, "author": nullable("string"), "at": STAMP}),
                },
            },
            description="nach OParl 1.1 Organization (Arbeitsgruppe) mit Membership (`agency`: onBehalfOf)",
        ),
        "WorkingGroupList": listing("WorkingGroup"),
        "WorkingGroupChanged": obj(
            {"changed": {**TEXTS, "description": "die geänderten Felder; leer: nichts"}, "group": ref("WorkingGroup")}
        ),
        "WorkingGroupInput": {
            "type": "object",
            "required": ["name"],
            "properties": _GROUP_INPUT,
        },
        "WorkingGroupChange": {"type": "object", "properties": _GROUP_INPUT},
        "ReportInput": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": 10000}},
        },
        "GroupStatusInput": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"enum": ["aktiv", "abgeschlossen"]}},
        },
        "ImplementationUpdate": obj(_IMPLEMENTATION | {"escalation": obj({"id": INT, "state": TEXT, "version": INT})}),
        "EscalationInput": {
            "type": "object",
            "required": ["agendaItem", "title", "description", "category"],
            "properties": {
                "agendaItem": {"type": "integer", "description": "Tagesordnungspunkt, aus dem gemeldet wird"},
                "title": {"type": "string", "maxLength": 200},
                "description": {"type": "string", "maxLength": 10000},
                "category": {"type": "string"},
                "rechtskreise": {"type": "array", "items": {"type": "string"}},
                "agencies": {"type": "array", "items": {"type": "string"}},
                "proposedSolution": {"type": "string", "maxLength": 5000},
            },
        },
        "EscalationChange": {
            "type": "object",
            "required": ["version"],
            "properties": {
                "title": {"type": "string", "maxLength": 200},
                "description": {"type": "string", "maxLength": 10000},
                "category": {"type": "string"},
                "rechtskreise": {"type": "array", "items": {"type": "string"}},
                "agencies": {"type": "array", "items": {"type": "string"}},
                "proposedSolution": {"type": "string", "maxLength": 5000},
                "version": {"type": "integer"},
            },
        },
        "TransitionInput": {
            "type": "object",
            "required": ["to", "version"],
            "properties": {
                "to": {"type": "string"},
                "reason": {"type": "string", "maxLength": 5000},
                "workingGroup": {"type": "integer"},
                "version": {"type": "integer"},
            },
        },
        "MergeInput": {
            "type": "object",
            "required": ["mergeInto", "version"],
            "properties": {
                "mergeInto": {
                    "type": "integer",
                    "description": "der Eintrag, der bleibt (offen, nicht selbst zusammengeführt)",
                },
                "reason": {"type": "string", "maxLength": 5000},
                "version": {"type": "integer"},
            },
        },
        "TriageInput": {
            "type": "object",
            "required": ["priority", "version"],
            "properties": {
                "priority": {"type": "integer", "enum": [1, 2, 3]},
                "category": {"type": "string"},
                "version": {"type": "integer"},
            },
        },
        "RecommendationInput": {
            "type": "object",
            "required": ["text", "version"],
            "properties": {
                "text": {"type": "string", "maxLength": 10000},
                "dueDate": {"type": "string", "format": "date", "description": "Umsetzungsfrist (nicht vergangen)"},
                "agencies": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Kürzel der umsetzenden Stellen (Mitglieder der Lenkungsgruppe)",
                },
                "version": {"type": "integer"},
            },
        },
        "JoinInput": {"type": "object", "required": ["agendaItem"], "properties": {"agendaItem": {"type": "integer"}}},
        "ImplementationInput": {
            "type": "object",
            "required": ["status", "version"],
            "properties": {
                "status": {"enum": ["offen", "in_arbeit", "umgesetzt", "nicht_umsetzbar"]},
                "reason": {"type": "string", "maxLength": 5000},
                "version": {"type": "integer"},
            },
        },
    }
)
