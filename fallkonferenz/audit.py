"""The tamper-evident audit log: hash-chained events of ids and metadata only."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import bindparam, or_, select

from .extensions import db, escape_like
from .models import Agency, AuditEvent, AuditEventCase, AuditHead, Case, User, utcnow

GENESIS = "0" * 64


def _digest(ev) -> str:
    payload = [
        ev.id,
        ev.created_at.isoformat(timespec="microseconds"),
        ev.actor_id,
        ev.agency_id,
        ev.action,
        ev.case_id,
        ev.categories,
        ev.purpose,
        ev.detail,
        ev.prev_hash,
    ]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


# Built once: a statement costs more to build than these take to run.
_HEAD = AuditHead.__table__
_READ_HEAD = select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_APPEND = AuditEvent.__table__.insert()
_MOVE_HEAD = _HEAD.update().where(_HEAD.c.id == 1).values(last_id=bindparam("new_id"), last_hash=bindparam("new_hash"))
_LINK = AuditEventCase.__table__.insert()


def record(
    action: str,
    *,
    actor=None,
    case_id: int | None = None,
    categories=(),
    purpose: str = "",
    detail: dict | None = None,
    case_ids=(),
) -> SimpleNamespace:
    """Append an event to the chain in the caller's transaction (never commits).

    `case_ids`: the cases whose data the event showed or changed beside others (a list, an agenda, minutes). They
    stand in the chained detail ("cases") and in an index that the case's access report and the data-protection
    officer's filter read, as they read `case_id`.
    """
    linked = sorted(set(case_ids))
    if linked:
        detail = (detail or {}) | {"cases": linked}
    # Locking the head row serialises chain writers (PostgreSQL); SQLite holds its write lock from BEGIN.
    row = db.session.execute(_READ_HEAD).first()
    if row is None:
        db.session.execute(_HEAD.insert().values(id=1, last_id=0, last_hash=GENESIS))
        last_id, last_hash = 0, GENESIS
    else:
        last_id, last_hash = row
    ev = SimpleNamespace(
        id=last_id + 1,
        created_at=utcnow(),
        actor_id=getattr(actor, "id", getattr(actor, "user_id", None)),  # a user, or a viewer (policy.Viewer)
        agency_id=getattr(actor, "agency_id", None),
        action=action,
        case_id=case_id,
        categories=",".join(sorted(categories)),
        purpose=purpose,
        detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        prev_hash=last_hash,
    )
    ev.hash = _digest(ev)
    db.session.execute(_APPEND, vars(ev))
    db.session.execute(_MOVE_HEAD, {"new_id": ev.id, "new_hash": ev.hash})
    if linked:
        db.session.execute(_LINK, [{"event_id": ev.id, "case_id": case_id} for case_id in linked])
    return ev


def about_case(case_id):
    """Events about this case: its own (`case_id`), and those that showed it beside others."""
    return or_(
        AuditEvent.case_id == case_id,
        AuditEvent.id.in_(select(AuditEventCase.event_id).where(AuditEventCase.case_id == case_id)),
    )


# What each action means, in German, for the pages that show the log (the code stays the filter's value).
ACTION_GROUPS = {
    "auth": "Anmeldung und Zugang",
    "case": "Fallakte",
    "note": "Vermerke",
    "goal": "Ziele",
    "consent": "Einwilligungen",
    "conference": "Konferenzen",
    "agenda": "Tagesordnung",
    "poll": "Terminumfragen",
    "minutes": "Protokoll",
    "task": "Aufgaben",
    "backlog": "Lenkungsgruppe",
    "calendar": "Kalender",
    "user": "Benutzerkonten",
    "agency": "Stellen",
    "audit": "Protokollierung",
    "mail": "E-Mail",
    "keys": "Schlüssel",
    "crypto": "Verschlüsselung",
}
ACTIONS = {
    "auth.login": "Anmeldung",
    "auth.login_failed": "Anmeldung fehlgeschlagen",
    "auth.throttled": "Anmeldung gesperrt (zu viele Versuche)",
    "auth.logout": "Abmeldung",
    "auth.token_create": "Zugangstoken erstellt",
    "auth.token_revoke": "Zugangstoken widerrufen",
    "auth.password_change": "Eigenes Passwort geändert",
    "auth.password_change_failed": "Passwortänderung abgelehnt (bisheriges Passwort falsch)",
    "case.create": "Fall angelegt",
    "case.read": "Fall gelesen",
    "case.list": "Fallliste oder Suche",
    "case.update": "Stammdaten geändert",
    "case.access_report": "Zugriffsbericht gelesen",
    "case.conferences": "Konferenzen zum Fall gelesen",
    "case.close": "Fall abgeschlossen",
    "case.reopen": "Fall wieder geöffnet",
    "case.erase": "Fall gelöscht (Schlüssel vernichtet)",
    "note.create": "Vermerk geschrieben",
    "note.withdraw": "Vermerk zurückgezogen (Text gelöscht)",
    "goal.create": "Ziel angelegt",
    "goal.update": "Ziel geändert",
    "consent.grant": "Einwilligung erfasst",
    "consent.revoke": "Einwilligung widerrufen",
    "consent.read": "Einwilligungen gelesen",
    "consent.expiring": "Ablaufende Einwilligungen gelesen",
    "consent.document_read": "Einwilligungsformular geladen",
    "conference.create": "Konferenz angelegt",
    "conference.update": "Konferenz geändert",
    "conference.state": "Status der Konferenz geändert",
    "conference.participants": "Teilnehmende geändert",
    "conference.agenda_notice": "Über geänderte Tagesordnung benachrichtigt",
    "conference.response": "Zu- oder Absage",
    "conference.handover": "Moderation übergeben",
    "agenda.read": "Tagesordnung gelesen",
    "agenda.item_add": "Tagesordnungspunkt hinzugefügt",
    "agenda.item_remove": "Tagesordnungspunkt entfernt",
    "agenda.item_edit": "Tagesordnungspunkt geändert",
    "agenda.reorder": "Tagesordnung umgestellt",
    "poll.create": "Terminumfrage gestartet",
    "poll.answer": "Terminumfrage beantwortet",
    "poll.fix": "Termin festgelegt",
    "poll.end": "Terminumfrage ohne Termin beendet",
    "minutes.read": "Protokoll gelesen",
    "minutes.join": "Protokollpunkt geöffnet",
    "minutes.edit": "Protokoll eines Falls bearbeitet",
    "minutes.refused": "Protokollpunkt verweigert",
    "minutes.evicted": "Aus dem Protokollpunkt entfernt",
    "minutes.attendance": "Anwesenheit erfasst",
    "minutes.decision": "Beschluss festgehalten",
    "minutes.task": "Aufgabe festgehalten",
    "minutes.withdraw": "Beschluss oder Aufgabe zurückgezogen",
    "minutes.close": "Protokoll abgeschlossen",
    "minutes.reopen": "Protokoll wieder geöffnet",
    "minutes.approval": "Genehmigung oder Einspruch",
    "minutes.addendum": "Nachtrag",
    "minutes.export": "Protokoll exportiert",
    "task.done": "Aufgabe erledigt",
    "task.reopen": "Aufgabe wieder geöffnet",
    "task.update": "Aufgabe umverteilt oder Frist geändert",
    "task.list": "Meine Aufgaben gelesen",
    "backlog.guard": "Personenbezug geprüft",
    "backlog.escalate": "Strukturproblem gemeldet",
    "backlog.join": "Fall verknüpft (betrifft uns auch)",
    "backlog.flagged": "Personenbezug in einem Eintrag gemeldet",
    "backlog.cases": "Verknüpfte Fälle eines Themas gelesen",
    "backlog.triage": "Eintrag gesichtet",
    "backlog.edit": "Eintrag überarbeitet",
    "backlog.transition": "Stand eines Eintrags geändert",
    "backlog.implementation": "Umsetzung gemeldet",
    "backlog.group_create": "Arbeitsgruppe gegründet",
    "backlog.group_edit": "Arbeitsgruppe geändert",
    "backlog.export": "Themenspeicher oder Kennzahlen exportiert",
    "calendar.feed": "Kalender abgerufen",
    "calendar.token": "Kalenderadresse erstellt",
    "calendar.token_revoke": "Kalenderadresse widerrufen",
    "user.create": "Konto angelegt",
    "user.update": "Konto geändert",
    "user.deactivate": "Konto deaktiviert",
    "user.activate": "Konto aktiviert",
    "user.password_reset": "Passwort von der Verwaltung neu vergeben",
    "user.unlock": "Anmeldesperre aufgehoben",
    "agency.create": "Stelle angelegt",
    "agency.update": "Stelle geändert",
    "mail.resend": "E-Mail erneut gesendet",
    "audit.read": "Protokollierung gelesen",
    "audit.verify": "Kette und Protokolle geprüft",
    "audit.export": "Protokollierung exportiert",
    "keys.rotate": "Hauptschlüssel gewechselt",
    "crypto.failure": "Entschlüsselung fehlgeschlagen",
}


def listed_cases(detail: str) -> int:
    """How many cases an event showed beside others (see `record`'s `case_ids`); 0 for one about a single case."""
    try:
        cases = json.loads(detail or "{}").get("cases")
    except (ValueError, AttributeError):
        return 0
    return len(cases) if isinstance(cases, list) else 0


# The keys of the events' detail in German, for the column that says what an event did.
DETAIL_LABELS = {
    "active": "aktiv",
    "added": "hinzugefügt",
    "address": "Adresse",
    "agencies": "Stellen",
    "agency": "Stelle Nr.",
    "agenda_version": "Stand der Tagesordnung",
    "case_keys": "Fallschlüssel",
    "conference": "Konferenz Nr.",
    "consent": "Einwilligung Nr.",
    "decision": "Beschluss Nr.",
    "escalation": "Thema Nr.",
    "failures": "Fehler",
    "field": "Feld",
    "fields": "Felder",
    "file": "Datei",
    "filtered": "gefiltert",
    "findings": "Befunde",
    "format": "Format",
    "from": "von",
    "goal": "Ziel Nr.",
    "group": "Arbeitsgruppe Nr.",
    "item": "TOP Nr.",
    "kind": "Art",
    "items": "Punkte",
    "listed": "gelistet",
    "message": "E-Mail Nr.",
    "names_shown": "Namen gezeigt",
    "note": "Vermerk Nr.",
    "priority": "Priorität",
    "reason": "Grund",
    "record": "Eintrag Nr.",
    "removed": "entfernt",
    "response": "Antwort",
    "role": "Rolle",
    "search": "Suche",
    "sessions_ended": "beendete Sitzungen",
    "slot": "Termin Nr.",
    "slots": "Termine",
    "state": "Status",
    "status": "Status",
    "table": "Tabelle",
    "task": "Aufgabe Nr.",
    "to": "an",
    "user": "Konto Nr.",
    "verified": "Kette geprüft",
    "version": "Version",
}


def detail_text(detail: str) -> str:
    """An event's detail in words ("aktiv: nein; Adresse: 10.0.0.7"): ids and metadata, as stored. The cases an
    event listed are counted in the case column; a long list is counted, not spelled out."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return str(data)
    parts = []
    for key, value in data.items():
        if key == "cases":
            continue
        if isinstance(value, bool):
            value = "ja" if value else "nein"
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) if len(value) <= 3 else f"{len(value)} Einträge"
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        elif value is None or value == "":
            value = "—"
        parts.append(f"{DETAIL_LABELS.get(key, key)}: {value}")
    return "; ".join(parts)


def last_verification() -> SimpleNamespace | None:
    """The newest check of the chain: when, by whom, how many findings; None before the first."""
    row = db.session.execute(
        select(AuditEvent.created_at, AuditEvent.detail, User.username)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.action == "audit.verify")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return SimpleNamespace(at=row.created_at, by=row.username, findings=json.loads(row.detail).get("findings", 0))


def action_label(code: str) -> str:
    """The German words for an action code; the code itself for one not (yet) named."""
    return ACTIONS.get(code, code)


@dataclass(frozen=True)
class EventFilter:
    """What the data-protection officer looks for: an account, an agency, an action (or all actions of a kind,
    such as "case."), a case (by id), and a period (naive UTC bounds, `until` exclusive)."""

    username: str = ""
    agency: str = ""
    action: str = ""
    case_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def recent(before: int | None = None, limit: int = 100, f: EventFilter = EventFilter()) -> list:
    """Events newest first, with the actor's username and agency code (for the data-protection officer)."""
    stmt = (
        select(AuditEvent, User.username, Agency.code, Case.number)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Agency, Agency.id == AuditEvent.agency_id)
        .outerjoin(Case, Case.id == AuditEvent.case_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if before:
        stmt = stmt.where(AuditEvent.id < before)
    if f.username:  # one account exactly; with a "*" at the end (or "jc.") every account whose name begins so
        name = f.username.strip().lower()
        if name.endswith(("*", ".")):
            stmt = stmt.where(User.username.like(escape_like(name.rstrip("*")) + "%", escape="\\"))
        else:
            stmt = stmt.where(User.username == name)
    if f.agency:
        stmt = stmt.where(Agency.code == f.agency.strip().upper())
    if f.action:  # one action exactly, or an area ("auth": every auth.… action)
        action = f.action.strip()
        if action in ACTIONS:
            stmt = stmt.where(AuditEvent.action == action)
        else:
            stmt = stmt.where(AuditEvent.action.like(escape_like(action) + ".%", escape="\\"))
    if f.case_id is not None:
        stmt = stmt.where(about_case(f.case_id))
    if f.since is not None:
        stmt = stmt.where(AuditEvent.created_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEvent.created_at < f.until)
    return db.session.execute(stmt).all()


@dataclass
class Finding:
    event_id: int
    problem: str
    subject: str = ""  # what else was checked, e.g. the frozen minutes of a conference

    @property
    def label(self) -> str:
        return self.subject or f"Eintrag {self.event_id}"


def verify_all() -> list[Finding]:
    """The chain, then every other seal the app's packages registered (the keyed hash of closed minutes)."""
    findings = verify()
    for check in current_app.extensions.get("fk_integrity_checks", ()):
        findings += check()
    return findings


def verify(batch: int = 5000) -> list[Finding]:
    """Walk the chain; report changed, deleted or inserted rows by id."""
    findings: list[Finding] = []
    expected_id, prev = 1, GENESIS
    last_id = 0
    offset_id = 0
    while True:
        table = AuditEvent.__table__
        rows = db.session.execute(select(table).where(table.c.id > offset_id).order_by(table.c.id).limit(batch)).all()
        if not rows:
            break
        for ev in rows:
            if ev.id != expected_id:
                findings.append(Finding(ev.id, f"Lücke: Einträge {expected_id}–{ev.id - 1} fehlen (gelöscht)"))
            if ev.prev_hash != prev:
                findings.append(Finding(ev.id, "Verkettung gebrochen (Eintrag eingefügt oder Vorgänger geändert)"))
            if _digest(ev) != ev.hash:
                findings.append(Finding(ev.id, "Inhalt geändert (Prüfsumme stimmt nicht)"))
            prev, expected_id, last_id = ev.hash, ev.id + 1, ev.id
        offset_id = rows[-1].id
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.last_id != last_id or head.last_hash != prev):
        findings.append(Finding(head.last_id, "Ende der Kette fehlt (letzte Einträge gelöscht)"))
    return findings


def subjects(events) -> dict[int, str]:
    """What each event that is not about a case was about, in words for the data-protection officer: the backlog
    item by its reference, the conference by its title, the account by its name. The packages name their own
    records (`fk_audit_subjects`: a key of the events' detail, the model and a label for a row); each kind is
    looked up once for all events shown."""
    kinds = [*current_app.extensions.get("fk_audit_subjects", ()), ("user", User, lambda u: f"Konto {u.username}")]
    wanted: dict[int, tuple[str, int]] = {}
    for ev in events:
        try:
            detail = json.loads(ev.detail or "{}")
        except ValueError:
            continue
        if not isinstance(detail, dict):
            continue
        key = next((k for k, _, _ in kinds if isinstance(detail.get(k), int) and not isinstance(detail[k], bool)), None)
        if key is not None:
            wanted[ev.id] = (key, detail[key])
    labels: dict[str, dict[int, str]] = {}
    for key, model, label in kinds:
        ids = {ref for k, ref in wanted.values() if k == key}
        rows = db.session.scalars(select(model).where(model.id.in_(ids))) if ids else ()
        labels[key] = {row.id: label(row) for row in rows}
    return {ev_id: labels[key].get(ref, "gelöscht") for ev_id, (key, ref) in wanted.items()}
