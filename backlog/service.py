"""Backlog operations: guarded escalation, "betrifft uns auch", triage, transitions, merging, steering agendas,
working groups, recommendations and implementations.

Nothing here hands out which cases an item affects, except `linked_cases`, which returns only the cases the
viewer's agency may list anyway (the cases' teams). Everyone else sees `Escalation.case_count`.
"""

from __future__ import annotations

import functools
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Row, func, literal, or_, select, update
from sqlalchemy import case as case_when
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from agenda import items as agenda_items
from agenda.models import OPEN_STATES, AgendaItem, Conference
from agenda.service import load_conference, load_moderated, seats_of
from consent.policy import (
    listable_cases_clause,
    may_edit_backlog,
    may_escalate,
    may_read_backlog,
    may_update_implementation,
    viewer_of,
)
from fallkonferenz import audit, mail
from fallkonferenz.casecrypto import ciphers_for
from fallkonferenz.cases.service import ENCRYPTED_MASTER_FIELDS, agency_access, clients_named_in, load_case_for
from fallkonferenz.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, db_id
from fallkonferenz.extensions import contains_words, db
from fallkonferenz.localtime import datum, local_date
from fallkonferenz.models import Agency, Case, User, utcnow
from fallkonferenz.vocab import RECHTSKREISE
from fallkonferenz.web import atomic

from . import guard
from .models import (
    CATEGORIES,
    CLOSED_STATES,
    DECIDED_STATES,
    IMPLEMENTATION_DONE,
    IMPLEMENTATION_STATUS,
    PRIORITIES,
    STATES,
    Consultation,
    Escalation,
    EscalationCase,
    Implementation,
    Membership,
    Recommendation,
    StatusReport,
    Supporter,
    Transition,
    WorkingGroup,
    transitions_from,
)

PAGE_SIZE = 50
MAX_REASON = 5000
READY_FOR_AGENDA = ("gesichtet", "arbeitsgruppe")  # triaged, or back from a working group
TEXT_FIELDS = ("title", "description", "proposed_solution")
FIELD_LABELS = {
    "title": "Titel",
    "description": "Beschreibung",
    "proposed_solution": "Lösungsvorschlag",
    "reason": "Begründung",
    "text": "Text",
}


class InvalidTransition(DomainError):
    status = 409
    message = "Dieser Statuswechsel ist nicht möglich."


class IdentifyingText(InvalidInput):
    """The text names a person or carries other personal data; the form highlights the hits."""

    message = "Der Text enthält personenbezogene Daten. Bitte entfernen Sie die markierten Stellen."
    keeps_audit = True  # raised before anything is written but the audited look-up of the cases' data

    def __init__(self, hits: list[guard.Hit], message: str | None = None):
        found: dict[str, list[str]] = {}
        for hit in hits:  # every hit of a field, once each, in the order of the text
            words = f"{hit.label} „{hit.text}“"
            if words not in found.setdefault(hit.field, []):
                found[hit.field].append(words)
        # The form puts its field's label in front; a page without that form names the field (`FIELD_LABELS`).
        errors = {field: f"{', '.join(words)} entfernen." for field, words in found.items()}
        super().__init__(message, errors=errors)
        self.hits = hits


def now() -> datetime:
    return utcnow()


def today() -> date:
    """The agencies' calendar day at `now()` (due dates and deadlines are such days)."""
    return local_date(now())


@dataclass
class EscalationInput:
    title: str
    description: str
    category: str
    rechtskreise: list[str] = field(default_factory=list)
    agencies: list[str] = field(default_factory=list)
    proposed_solution: str = ""

    def texts(self) -> dict[str, str]:
        return {name: getattr(self, name) or "" for name in TEXT_FIELDS}


def texts_of(escalation: Escalation) -> dict[str, str]:
    return {name: getattr(escalation, name) or "" for name in TEXT_FIELDS}


# -- checks ------------------------------------------------------------------------------------------------


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


def is_steering(actor: User) -> bool:
    """Whether the actor triages, moves and decides backlog items (for showing the forms)."""
    return may_edit_backlog(viewer_of(actor))


def require_reader(actor: User) -> None:
    """403 unless the actor may read the backlog (the policy decides who: today everyone logged in)."""
    _require(may_read_backlog(viewer_of(actor)), "Kein Zugriff auf den Themenspeicher.")


def require_steering(actor: User) -> None:
    """403 unless the actor is a steering member."""
    _require(may_edit_backlog(viewer_of(actor)), "Den Themenspeicher bearbeitet die Lenkungsgruppe.")


def _atomic(operation):
    """A change of the backlog is all or nothing: a refusal half-way leaves no trace, whatever the caller commits."""

    @functools.wraps(operation)
    def run(*args, **kwargs):
        with atomic():
            return operation(*args, **kwargs)

    return run


def _check_input(data: EscalationInput) -> None:
    errors = {}
    title = (data.title or "").strip()
    if not title:
        errors["title"] = "Bitte geben Sie einen Titel an."
    elif len(title) > 200:
        errors["title"] = "Höchstens 200 Zeichen."
    if not (data.description or "").strip():
        errors["description"] = "Bitte beschreiben Sie das Problem."
    elif len(data.description) > 10000:
        errors["description"] = "Höchstens 10.000 Zeichen."
    if len(data.proposed_solution or "") > 5000:
        errors["proposed_solution"] = "Höchstens 5.000 Zeichen."
    if data.category not in CATEGORIES:
        errors["category"] = "Bitte wählen Sie eine Kategorie."
    if any(r not in RECHTSKREISE for r in data.rechtskreise):
        errors["rechtskreise"] = "Unbekannter Rechtskreis."
    codes = set(db.session.scalars(select(Agency.code).where(Agency.active.is_(True))))
    if any(a not in codes for a in data.agencies):
        errors["agencies"] = "Unbekannte Stelle."
    if errors:
        raise InvalidInput(errors=errors)


def identifiers_for(actor: User, case_ids) -> guard.Identifiers:
    """Personal data of these cases as far as the actor's agency may see it (decryption is audited)."""
    ids = guard.Identifiers()
    case_ids = {c for c in case_ids if c}
    if not case_ids:
        return ids
    viewer = viewer_of(actor)
    at = now()
    listable = db.session.scalars(select(Case).where(Case.id.in_(case_ids), listable_cases_clause(viewer, at))).all()
    ids.case_numbers.update(c.number for c in listable)
    master = set(
        db.session.scalars(
            select(Case.id).where(Case.id.in_(case_ids), listable_cases_clause(viewer, at, "stammdaten"))
        )
    )
    ciphers = ciphers_for(master)
    for case in listable:
        cipher = ciphers.get(case.id)
        if case.id not in master or cipher is None:
            continue
        plain = {
            name: cipher.read("cases", case.id, name, getattr(case, f"{name}_enc"), actor)
            for name in ENCRYPTED_MASTER_FIELDS
        }
        ids.names.update(n for n in (plain["given_name"], plain["family_name"]) if n)
        if plain["given_name"] and plain["family_name"]:
            ids.names.add(f"{plain['given_name']} {plain['family_name']}")
        if plain["birth_date"]:
            with suppress(ValueError):
                ids.birth_dates.add(date.fromisoformat(plain["birth_date"]))
        if plain["address"]:
            ids.addresses.add(plain["address"])
        if plain["phone"]:
            ids.phones.add(plain["phone"])
        audit.record(
            "backlog.guard",
            actor=actor,
            case_id=case.id,
            categories=["stammdaten"],
            purpose="Prüfung auf personenbezogene Daten",
        )
    return ids


NAMED_CASES_CHECKED = 20  # clients named in one text beyond the linked cases whose data the guard reads


def check_text(actor: User, texts: dict[str, str], case_ids=()) -> list[guard.Hit]:
    """The guard's hits in these texts, against the given cases, the clients of any other case the author's agency
    sees whom the texts name (found through the blind index: a name part written out in full), and the generic
    patterns. The linked cases' names are also found in other spellings."""
    named = clients_named_in(" ".join(t or "" for t in texts.values()), actor, limit=NAMED_CASES_CHECKED)
    return guard.check(texts, identifiers_for(actor, {*case_ids, *named}), now().date())


def _checked(actor: User, data: EscalationInput, case_ids=()) -> None:
    """The input's checks and the guard in one round: a refusal names every problem, so the text is corrected
    once."""
    try:
        _check_input(data)
        problems: dict = {}
    except InvalidInput as exc:
        problems = exc.errors
    hits = check_text(actor, data.texts(), case_ids)
    if hits:
        refused = IdentifyingText(hits)
        refused.errors = refused.errors | problems
        raise refused
    if problems:
        refused = InvalidInput(errors=problems)
        refused.keeps_audit = True  # the guard has read the cases' data: that stays on record
        raise refused


def agenda_cases(conference: Conference) -> list[int]:
    """The cases on a conference's agenda: an escalation from it is checked against their clients."""
    return [i.case_id for i in conference.items if i.case_id]


def _guarded(actor: User, texts: dict[str, str], case_ids=()) -> None:
    hits = check_text(actor, texts, case_ids)
    if hits:
        raise IdentifyingText(hits)


# -- loading -----------------------------------------------------------------------------------------------


def load(actor: User, escalation_id: int) -> Escalation:
    require_reader(actor)
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound("Eintrag nicht gefunden.")
    return escalation


def _load_current(actor: User, escalation_id: int, version: int | None) -> Escalation:
    """For a change: the item if the actor's form saw its current version; otherwise a conflict, nothing lost."""
    escalation = load(actor, escalation_id)
    if version is not None and not 0 <= version <= escalation.version:  # no form saw it: no one changed it since
        raise InvalidInput(
            errors={"version": f"Diese Version gab es nie; der Eintrag steht bei Version {escalation.version}."}
        )
    if version is not None and version != escalation.version:
        who = _last_changer(escalation)
        raise Conflict(
            f"Der Eintrag wurde inzwischen{who} geändert. Ihre Eingabe wurde nicht gespeichert; "
            "bitte prüfen Sie den neuen Stand und versuchen Sie es erneut."
        )
    return escalation


def _last_changer(escalation: Escalation) -> str:
    """Who made the change a stale form missed, if a recorded state change is that change."""
    last = db.session.execute(
        select(User.display_name, Transition.at)
        .join(Transition, Transition.actor_id == User.id)
        .where(Transition.escalation_id == escalation.id)
        .order_by(Transition.at.desc(), Transition.id.desc())
        .limit(1)
    ).first()
    return f" von {last.display_name}" if last and last.at >= escalation.updated_at else ""


def _bump(escalation: Escalation, expected: int | None) -> None:
    """Optimistic lock in SQL: the version moves only from the one the form saw (two parallel writers)."""
    current = escalation.version
    if expected is not None and expected != current:
        raise Conflict()
    done = db.session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id, Escalation.version == current)
        .values(version=current + 1, updated_at=now())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(
            "Der Eintrag wurde gerade von jemand anderem geändert. Ihre Eingabe wurde nicht gespeichert; "
            "bitte laden Sie die Seite neu."
        )
    db.session.refresh(escalation, ["version", "updated_at"])


def _item_of(actor: User, agenda_item_id: int) -> tuple[AgendaItem, Conference]:
    item = db.session.get(AgendaItem, agenda_item_id) if db_id(agenda_item_id) else None
    try:
        conference = load_conference(actor, item.conference_id) if item is not None else None
    except NotFound:  # an item of someone else's conference answers as one that does not exist
        conference = None
    if conference is None:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    return item, conference


def escalation_source(
    actor: User, agenda_item_id: int, conference_id: int | None = None
) -> tuple[Conference, AgendaItem, Case | None]:
    """The conference, agenda item and (visible) case an escalation is raised from; 404 for anything else."""
    _require(may_escalate(viewer_of(actor)), "Strukturprobleme melden die Fallbeteiligten.")
    item, conference = _item_of(actor, agenda_item_id)
    if conference_id is not None and conference.id != conference_id:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    if conference.kind == "lenkungsgruppe":
        raise InvalidInput("Aus einer Lenkungsgruppe-Sitzung wird nicht eskaliert.")
    return conference, item, _team_case(actor, item) if item.case_id else None


def _team_case(actor: User, item: AgendaItem) -> Case:
    """The case of a case item, for a member of its team (the lead agency, or one a consent shares it with).
    For any other agency the item is "vertraulicher Fall": 404, even where its own old notes make the case
    visible to it, so it neither links the case nor learns what is linked to it."""
    try:
        case, access = load_case_for(actor, item.case_id)
    except NotFound:
        access = None  # the same answer as for a case it sees only through its own notes
    if access is None or not access.shared:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    return case


def linked_cases(actor: User, escalation_id: int) -> list[tuple[int, str]]:
    """(case id, number) of the linked cases shared with the actor's agency (the cases' teams); nobody else learns
    which they are. Showing them is audited, with the cases."""
    rows = db.session.execute(
        select(Case.id, Case.number)
        .join(EscalationCase, EscalationCase.case_id == Case.id)
        .where(
            EscalationCase.escalation_id == escalation_id,
            listable_cases_clause(viewer_of(actor), now(), own_entries=False),
        )
        .order_by(Case.number)
    ).all()
    if rows:  # which of its cases an item affects is case data of their teams: on record, like a case list
        audit.record(
            "backlog.cases",
            actor=actor,
            purpose="Fälle eines Themas",
            detail={"escalation": escalation_id},
            case_ids=[r.id for r in rows],
        )
    return [(r.id, r.number) for r in rows]


def escalations_of_case(actor: User, case_id: int, access) -> list[Escalation]:
    """The backlog items a case is linked to (raised from it, or "betrifft uns auch"), newest first: for its team
    (`access.shared`, from loading the case), who may follow the link; nobody else learns it."""
    if not access.shared or not may_read_backlog(viewer_of(actor)):
        return []
    return db.session.scalars(
        select(Escalation)
        .join(EscalationCase, EscalationCase.escalation_id == Escalation.id)
        .where(EscalationCase.case_id == case_id)
        .order_by(Escalation.created_at.desc())
    ).all()


# -- escalation ----------------------------------------------------------------------------------------------


def escalate(actor: User, data: EscalationInput, agenda_item_id: int) -> Escalation:
    """Raise a structural problem from an agenda item (or its minutes); saved only if the guard finds nothing."""
    conference, item, case = escalation_source(actor, agenda_item_id)
    _checked(actor, data, agenda_cases(conference))
    escalation = _numbered(
        lambda year, seq: Escalation(
            reference=f"LG-{year}-{seq:03d}",
            year=year,
            seq=seq,
            title=data.title.strip(),
            description=data.description.strip(),
            category=data.category,
            rechtskreise=",".join(data.rechtskreise),
            agencies=",".join(data.agencies),
            proposed_solution=(data.proposed_solution or "").strip(),
            created_by_id=actor.id,
            created_agency_id=actor.agency_id,
        )
    )
    db.session.add(Supporter(escalation_id=escalation.id, user_id=actor.id))
    if case is not None:
        _link(escalation, case.id, item.id, actor)
    db.session.add(Transition(escalation_id=escalation.id, from_state=None, to_state="eingereicht", actor_id=actor.id))
    db.session.flush()
    audit.record(
        "backlog.escalate",
        actor=actor,
        case_id=case.id if case else None,
        detail={"escalation": escalation.id, "item": item.id},
    )
    _tell_steering_group(escalation)
    return escalation


def _flag_text(escalation: Escalation, actor: User) -> None:
    """A published item turns out to name a client (the guard of its author's agency could not know that case):
    the steering members, who edit the text, hear of it at once, without the words found, which would spread
    them further. Once per version of the text."""
    subject = f"Lenkungsgruppe: {escalation.reference} bitte überarbeiten"
    body = (
        f"Guten Tag,\n\nder Text des Eintrags {escalation.reference} im Themenspeicher enthält nach einer Prüfung "
        "beim Verknüpfen eines Falls möglicherweise personenbezogene Daten. Alle Angemeldeten können ihn "
        f"lesen: bitte überarbeiten Sie ihn bald.\n\nZum Eintrag: {item_url(escalation)}\n"
    )
    for member in _steering_members():
        mail.enqueue(
            member,
            subject,
            body,
            topic=f"escalation:{escalation.id}",
            dedupe_key=f"flagged:{escalation.id}:{escalation.version}:{member.id}",
        )
    audit.record("backlog.flagged", actor=actor, detail={"escalation": escalation.id, "version": escalation.version})


def _steering_members(agency_ids=None) -> list[User]:
    """The active steering members (of these agencies)."""
    query = select(User).where(User.role == "steering", User.active.is_(True))
    if agency_ids is not None:
        query = query.where(User.agency_id.in_(agency_ids))
    return db.session.scalars(query).all()


def _tell_steering_group(escalation: Escalation) -> None:
    """The steering members learn of a new item by e-mail: its reference, title and category (what the guard
    let through), never which case it came from."""
    url = item_url(escalation)
    subject = f"Lenkungsgruppe: neues Strukturproblem {escalation.reference}"
    body = (
        f"Guten Tag,\n\nim Themenspeicher der Lenkungsgruppe ist ein neues Strukturproblem eingegangen:\n\n"
        f"  {escalation.reference} „{escalation.title}“ ({CATEGORIES.get(escalation.category, escalation.category)})"
        f"\n\nZum Sichten: {url}\n"
    )
    for member in _steering_members():
        mail.enqueue(member, subject, body, topic=f"escalation:{escalation.id}")


def _numbered(build, attempts: int = 5) -> Escalation:
    """Insert with the next number of the year; two escalations saved at the same moment both get one."""
    year = now().year
    for _ in range(attempts):
        seq = (db.session.scalar(select(func.max(Escalation.seq)).where(Escalation.year == year)) or 0) + 1
        escalation = build(year, seq)
        try:
            with db.session.begin_nested():
                db.session.add(escalation)
        except IntegrityError:
            continue  # another escalation took this number: take the next
        return escalation
    raise Conflict("Die Meldung konnte gerade nicht nummeriert werden. Bitte speichern Sie erneut.")


def _link(escalation: Escalation, case_id: int, item_id: int | None, actor: User) -> None:
    db.session.add(
        EscalationCase(
            escalation_id=escalation.id,
            case_id=case_id,
            agenda_item_id=item_id,
            added_by_id=actor.id,
            added_agency_id=actor.agency_id,
        )
    )
    escalation.case_count += 1


def join(actor: User, escalation_id: int, agenda_item_id: int) -> Escalation:
    """ "Betrifft uns auch": link this agenda item's case; the item's text must not name that case's client."""
    _require(may_escalate(viewer_of(actor)), "Fälle verknüpfen die Fallbeteiligten.")
    escalation = load(actor, escalation_id)
    if not escalation.is_open:
        raise InvalidInput("Dieser Eintrag ist abgeschlossen; bitte melden Sie das Problem neu.")
    item, _conference = _item_of(actor, agenda_item_id)
    if item.case_id is None:
        raise InvalidInput("Nur eine Fallbesprechung kann einen Fall verknüpfen.")
    case = _team_case(actor, item)
    known = db.session.scalar(
        select(EscalationCase.id).where(
            EscalationCase.escalation_id == escalation.id, EscalationCase.case_id == case.id
        )
    )
    if known:
        raise InvalidInput("Dieser Fall ist mit dem Eintrag schon verknüpft.")
    hits = check_text(actor, texts_of(escalation), [case.id])
    if hits:
        _flag_text(escalation, actor)
        raise IdentifyingText(
            hits,
            "Der Text dieses Eintrags enthält Angaben zu diesem Fall. Der Fall wurde nicht verknüpft. Die "
            "Lenkungsgruppe ist benachrichtigt und überarbeitet den Text.",
        )
    _link(escalation, case.id, item.id, actor)
    if db.session.get(Supporter, (escalation.id, actor.id)) is None:
        db.session.add(Supporter(escalation_id=escalation.id, user_id=actor.id))
    db.session.flush()
    audit.record("backlog.join", actor=actor, case_id=case.id, detail={"escalation": escalation.id})
    return escalation


LINKABLE_DAYS = 365  # case items of conferences up to a year back can still be linked from an item's page


@dataclass(frozen=True)
class LinkableItem:
    item_id: int
    label: str


def linkable_items(
    actor: User, escalation: Escalation, limit: int = 200, first: int | None = None
) -> list[LinkableItem]:
    """ "Betrifft uns auch" from the backlog item's own page: the case items of the actor's conferences (the last
    year's and the coming ones) whose case her agency's team shares and that are not linked yet, newest first,
    one per case. Other cases never appear: for the actor's agency they are "vertraulicher Fall".

    `first`: the conference whose page the actor searched the backlog from; its items come first, whatever its
    date (she has a seat in it, or it is not offered at all)."""
    if not may_escalate(viewer_of(actor)) or not escalation.is_open:
        return []
    offered = Conference.start >= now() - timedelta(days=LINKABLE_DAYS)
    order = [Conference.start.desc(), AgendaItem.position]
    if first is not None:
        offered = or_(offered, Conference.id == first)
        order.insert(0, case_when((Conference.id == first, 0), else_=1))
    rows = db.session.execute(
        select(AgendaItem.id, AgendaItem.position, AgendaItem.case_id, Case.number, Conference.title, Conference.start)
        .join(Conference, Conference.id == AgendaItem.conference_id)
        .join(Case, Case.id == AgendaItem.case_id)
        .where(AgendaItem.conference_id.in_(seats_of(actor.id)), Conference.state != "abgesagt", offered)
        .order_by(*order)
        .limit(limit)
    ).all()
    if not rows:
        return []
    case_ids = {r.case_id for r in rows}
    access = agency_access(case_ids, [actor.agency_id])
    linked = set(
        db.session.scalars(
            select(EscalationCase.case_id).where(
                EscalationCase.escalation_id == escalation.id, EscalationCase.case_id.in_(case_ids)
            )
        )
    )
    out, seen = [], set()
    for r in rows:
        team = access.get((r.case_id, actor.agency_id))
        if r.case_id in seen or r.case_id in linked or team is None or not team.shared:
            continue
        seen.add(r.case_id)
        out.append(LinkableItem(r.id, f"{r.number} – TOP {r.position} in „{r.title}“ ({datum(r.start)})"))
    return out


def joinable(actor: User, limit: int = 200) -> list[Row]:
    """Open items a steering member can merge another into: id, reference and title, for a list to choose from;
    whole items would cost more to load than the page's other queries together."""
    return db.session.execute(
        select(Escalation.id, Escalation.reference, Escalation.title, Escalation.category)
        .where(Escalation.state.not_in(CLOSED_STATES))
        .order_by(Escalation.created_at.desc())
        .limit(limit)
    ).all()


# -- backlog list ----------------------------------------------------------------------------------------------

SORTS = {
    "prioritaet": "Priorität (Ungesichtetes zuerst)",
    "faelle": "betroffene Fälle",
    "alter": "Alter",
    "geaendert": "zuletzt geändert",
}


@dataclass
class BacklogFilter:
    category: str = ""
    state: str = ""
    agency: str = ""
    sort: str = "prioritaet"
    page: int = 1
    open_only: bool = False
    text: str = ""  # words that must all stand in the number, title, description or proposed solution


ORDERS = {
    # What needs the steering group: open items before closed ones, among them the ones nobody has triaged yet
    # (they have no priority), then by priority and cases affected.
    "prioritaet": (
        Escalation.state.in_(sorted(CLOSED_STATES)),
        Escalation.priority.is_not(None),
        Escalation.priority,
        Escalation.case_count.desc(),
    ),
    "faelle": (Escalation.case_count.desc(),),
    "alter": (Escalation.created_at,),
    "geaendert": (Escalation.updated_at.desc(),),
}


def backlog_query(f: BacklogFilter):
    """The items matching the list's filter, in its order: the list pages it, the exports take all of it."""
    query = select(Escalation)
    if f.text.strip():
        columns = (Escalation.reference, Escalation.title, Escalation.description, Escalation.proposed_solution)
        query = query.where(contains_words(columns, f.text))
    if f.category in CATEGORIES:
        query = query.where(Escalation.category == f.category)
    if f.state in STATES:
        query = query.where(Escalation.state == f.state)
    elif f.open_only:
        query = query.where(Escalation.state.not_in(CLOSED_STATES))
    if f.agency:
        # `||` (not concat(), which SQLite gained only in 3.44) on both SQLite and PostgreSQL
        padded = literal(",") + Escalation.agencies + literal(",")
        query = query.where(padded.like(f"%,{f.agency.replace('%', '').replace('_', '')},%"))
    return query.order_by(*ORDERS.get(f.sort, ORDERS["prioritaet"]), Escalation.id)


# What the list page shows of an item: loading whole items cost more than the page's other queries together.
LIST_COLUMNS = (
    Escalation.id,
    Escalation.reference,
    Escalation.title,
    Escalation.category,
    Escalation.state,
    Escalation.priority,
    Escalation.case_count,
    Escalation.created_at,
)


def list_items(actor: User, f: BacklogFilter, *, columns=None) -> tuple[list, int]:
    """One page of the backlog and the total: two queries whatever the size of the backlog. The items, or with
    `columns` (such as LIST_COLUMNS) rows of just those."""
    require_reader(actor)
    query = backlog_query(f)
    page = max(1, f.page)
    paged = query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    rows = db.session.execute(paged.with_only_columns(*columns)).all() if columns else db.session.scalars(paged).all()
    return rows, _count(query)


def count_items(f: BacklogFilter) -> int:
    """How many items match the list's filter (one query)."""
    return _count(backlog_query(f))


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


@dataclass
class SteeringWork:
    """A steering member's start page: items waiting for triage, and her agency's open implementations."""

    untriaged: int
    implementations: list[tuple[Escalation, Recommendation, Implementation, bool]]  # … and whether overdue


def steering_work(actor: User) -> SteeringWork:
    """Two queries, whatever the size of the backlog."""
    untriaged = db.session.scalar(select(func.count()).where(Escalation.state == "eingereicht")) or 0
    rows = db.session.execute(
        select(Escalation, Recommendation, Implementation)
        .join(Recommendation, Recommendation.escalation_id == Escalation.id)
        .join(Implementation, Implementation.recommendation_id == Recommendation.id)
        .where(Implementation.agency_id == actor.agency_id, Implementation.status.not_in(IMPLEMENTATION_DONE))
        .order_by(Recommendation.due_date.is_(None), Recommendation.due_date, Escalation.id)
        .limit(20)
    ).all()
    day = today()
    return SteeringWork(untriaged, [(e, r, i, is_overdue(r, i, day)) for e, r, i in rows])


def my_escalations(actor: User, limit: int = 20) -> list[Escalation]:
    """The items the actor raised or joined: the case workers follow their progress."""
    return db.session.scalars(
        select(Escalation)
        .join(Supporter, Supporter.escalation_id == Escalation.id)
        .where(Supporter.user_id == actor.id)
        .order_by(Escalation.updated_at.desc())
        .limit(limit)
    ).all()


def history(escalation_id: int) -> list[Transition]:
    return db.session.scalars(
        select(Transition).where(Transition.escalation_id == escalation_id).order_by(Transition.at, Transition.id)
    ).all()


def supporter_count(escalation_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Supporter).where(Supporter.escalation_id == escalation_id)
    )


# -- triage and transitions ------------------------------------------------------------------------------------


@_atomic
def triage(actor: User, escalation_id: int, version: int | None, priority: int, category: str | None = None):
    """Set priority (and category); an item still "eingereicht" is thereby "gesichtet"."""
    require_steering(actor)
    escalation = _load_current(actor, escalation_id, version)
    errors = {}
    if priority not in PRIORITIES:
        errors["priority"] = "Bitte eine Priorität wählen."
    if category is not None and category not in CATEGORIES:
        errors["category"] = "Bitte eine Kategorie wählen."
    if errors:
        raise InvalidInput(errors=errors)
    if not escalation.is_open:
        raise InvalidTransition("Ein abgeschlossener Eintrag wird nicht mehr gesichtet.")
    _bump(escalation, version)
    escalation.priority = priority
    if category:
        escalation.category = category
    if escalation.state == "eingereicht":
        _move(escalation, "gesichtet", actor)
    audit.record("backlog.triage", actor=actor, detail={"escalation": escalation.id, "priority": priority})
    return escalation


def _reported_from(escalation_id: int) -> set[int]:
    """The cases an item affects, and every case on the agendas they were raised or joined from: what the guard
    checked its words against when they were first written (`identifiers_for` reads of them only what the
    author's agency may see, and puts that on record)."""
    links = select(EscalationCase.case_id).where(EscalationCase.escalation_id == escalation_id)
    conferences = select(AgendaItem.conference_id).where(
        AgendaItem.id.in_(select(EscalationCase.agenda_item_id).where(EscalationCase.escalation_id == escalation_id))
    )
    on_agendas = select(AgendaItem.case_id).where(
        AgendaItem.conference_id.in_(conferences), AgendaItem.case_id.is_not(None)
    )
    return set(db.session.scalars(links.union(on_agendas)))


def may_reword(actor: User, escalation: Escalation) -> bool:
    """Who changes an item's words: the steering group while it is open, and whoever reported it until the group
    has looked at it (a typo, a clearer sentence); from then on the group's wording is what it discusses."""
    if not escalation.is_open:
        return False
    return is_steering(actor) or (escalation.state == "eingereicht" and escalation.created_by_id == actor.id)


def require_reword(actor: User, escalation: Escalation) -> None:
    _require(
        may_reword(actor, escalation),
        "Den Text ändert die Lenkungsgruppe; wer ein Problem gemeldet hat, kann es berichtigen, bis die "
        "Lenkungsgruppe es gesichtet hat.",
    )


@_atomic
def edit_text(actor: User, escalation_id: int, version: int | None, data: EscalationInput) -> Escalation:
    """Reword an item (see `may_reword`). The guard checks the new words as it checked the first ones: against
    the linked cases the author's team may follow, the clients the text names and the generic patterns."""
    escalation = load(actor, escalation_id)
    if escalation.created_by_id == actor.id and not may_reword(actor, escalation):
        # the group looked at it while the reporter was correcting it: say so, and keep what she typed
        raise Conflict(
            f"Die Meldung ist inzwischen „{STATES[escalation.state]}“; ihren Text ändert jetzt die Lenkungsgruppe. "
            "Ihre Änderung wurde nicht gespeichert – Sie können sie der Lenkungsgruppe mitteilen."
        )
    require_reword(actor, escalation)
    escalation = _load_current(actor, escalation_id, version)
    _checked(actor, data, _reported_from(escalation.id))
    _bump(escalation, version)
    escalation.title = data.title.strip()
    escalation.description = data.description.strip()
    escalation.category = data.category
    escalation.rechtskreise = ",".join(data.rechtskreise)
    escalation.agencies = ",".join(data.agencies)
    escalation.proposed_solution = (data.proposed_solution or "").strip()
    # a trace in the item's history, in its state: who changed the words when (the words before are not kept)
    reworded = "Text berichtigt (Meldung)" if escalation.created_by_id == actor.id else "Text überarbeitet"
    _note(escalation, actor, reworded, at=escalation.updated_at)
    audit.record("backlog.edit", actor=actor, detail={"escalation": escalation.id})
    return escalation


@_atomic
def transition(
    actor: User,
    escalation_id: int,
    to_state: str,
    version: int | None,
    *,
    reason: str = "",
    working_group_id: int | None = None,
) -> Escalation:
    """Move an item one step; the steps that need more (merge, recommendation) have their own operations."""
    require_steering(actor)
    if not to_state:
        raise InvalidInput(errors={"to_state": "Bitte wählen Sie den neuen Status."})
    escalation = _load_current(actor, escalation_id, version)
    if to_state == "zusammengefuehrt":
        raise InvalidInput("Zum Zusammenführen wählen Sie den Eintrag, in den dieser aufgeht.")
    if to_state == "empfehlung":
        raise InvalidInput("Eine Empfehlung wird mit ihrem Text beschlossen (Formular „Empfehlung beschließen“).")
    if to_state == "gesichtet" and escalation.priority is None:
        raise InvalidInput(
            errors={"priority": "Gesichtet wird ein Eintrag mit seiner Priorität: bitte „Sichten“ verwenden."}
        )
    group = None
    if to_state == "arbeitsgruppe":
        group = db.session.get(WorkingGroup, working_group_id or 0)
        if group is None or group.status != "aktiv":
            raise InvalidInput(errors={"working_group": "Bitte eine aktive Arbeitsgruppe wählen."})
    if to_state == "umgesetzt" and not _all_implemented(escalation.id):
        raise InvalidTransition("Umgesetzt ist ein Eintrag, wenn jede Stelle ihre Umsetzung gemeldet hat.")
    reason = _check_move(escalation, to_state, actor, reason)  # refused steps write nothing
    _bump(escalation, version)
    if group is not None:
        escalation.working_group_id = group.id
    _record_move(escalation, to_state, actor, reason)
    if group is not None:
        _tell_group(group, escalation, reason)
    return escalation


def _tell_group(group: WorkingGroup, escalation: Escalation, reason: str) -> None:
    """The members of a working group learn of an item handed to it, and what the steering group asks (title,
    state, reason: what the guard let through; never cases)."""
    asked = f"\nAuftrag der Lenkungsgruppe: {reason}\n" if reason else ""
    body = (
        f"Guten Tag,\n\ndie Lenkungsgruppe hat Ihrer Arbeitsgruppe „{group.name}“ ein Thema übergeben:\n\n"
        f"  {escalation.reference} „{escalation.title}“\n{asked}\nZum Thema: {item_url(escalation)}\n"
        f"Zur Arbeitsgruppe: {group_url(group)}\n"
    )
    for m in group.members:
        if m.user.may_log_in:
            mail.enqueue(
                m.user, f"Lenkungsgruppe: {escalation.reference} an „{group.name}“", body, topic=f"group:{group.id}"
            )


def plain_moves(escalation: Escalation) -> list[str]:
    """The states a plain status change (`transition`) takes the item to, in the flow's order: merging, adopting
    a recommendation and triage (which gives the item the priority "gesichtet" has) are operations of their own."""
    allowed = transitions_from(escalation.state) - {"zusammengefuehrt", "empfehlung"}
    if escalation.priority is None:
        allowed.discard("gesichtet")
    if "umgesetzt" in allowed and not _all_implemented(escalation.id):
        allowed.discard("umgesetzt")  # it would be refused: done once every agency has reported its implementation
    return [s for s in STATES if s in allowed]


def _check_move(escalation: Escalation, to_state: str, actor: User | None, reason: str = "") -> str:
    """Refuse a step before anything is written; returns the cleaned reason."""
    if to_state not in STATES:
        raise InvalidInput("Unbekannter Status.")
    if to_state == "zusammengefuehrt" and escalation.state in ("empfehlung", "umsetzung"):
        raise InvalidTransition(
            "Nach einer beschlossenen Empfehlung geht ein Eintrag in keinen anderen mehr auf: ihre Umsetzung wird "
            "hier je Stelle verfolgt. Führen Sie stattdessen das Duplikat in diesen Eintrag zusammen."
        )
    if to_state not in transitions_from(escalation.state):
        raise InvalidTransition(
            f"Von „{STATES[escalation.state]}“ geht es nicht direkt zu „{STATES[to_state]}“."
            if escalation.state not in CLOSED_STATES
            else f"Der Eintrag ist {STATES[escalation.state]}; er wird nicht mehr verändert."
        )
    reason = (reason or "").strip()
    if to_state in ("abgelehnt", "zusammengefuehrt") and not reason:
        raise InvalidInput(errors={"reason": "Bitte geben Sie eine Begründung an."})
    if len(reason) > MAX_REASON:
        raise InvalidInput(errors={"reason": "Höchstens 5.000 Zeichen."})
    if reason:
        _guarded(actor, {"reason": reason})  # reasons are mailed to the submitters
    return reason


def _move(escalation: Escalation, to_state: str, actor: User | None, reason: str = "") -> None:
    """Check and record one step."""
    _record_move(escalation, to_state, actor, _check_move(escalation, to_state, actor, reason))


def _record_move(escalation: Escalation, to_state: str, actor: User | None, reason: str) -> None:
    """Record a checked step: who, when, why; notify the submitters (title and state only, never cases)."""
    at = now()
    previous = escalation.state
    escalation.state = to_state
    escalation.updated_at = at
    if reason:
        escalation.state_reason = reason
    if to_state in DECIDED_STATES and escalation.decided_at is None:
        escalation.decided_at = at
    if to_state == "umgesetzt":
        escalation.implemented_at = at
    db.session.add(
        Transition(
            escalation_id=escalation.id,
            from_state=previous,
            to_state=to_state,
            reason=reason,
            actor_id=actor.id if actor else None,
            at=at,
        )
    )
    db.session.flush()
    _notify(escalation, previous)
    audit.record(
        "backlog.transition",
        actor=actor,
        detail={"escalation": escalation.id, "from": previous, "to": to_state},
    )


def group_url(group: WorkingGroup) -> str:
    """The working group's page, for e-mails."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/lenkungsgruppe/arbeitsgruppen/{group.id}"


def item_url(escalation: Escalation) -> str:
    """The backlog item's page, for e-mails."""
    return f"{current_app.config['BASE_URL'].rstrip('/')}/lenkungsgruppe/themen/{escalation.id}"


def _note(escalation: Escalation, actor: User, reason: str, at: datetime | None = None) -> None:
    """An event in the item's history that leaves its state as it is (reworded, merged into it, deferred, put on a
    later agenda): who, when, what."""
    db.session.add(
        Transition(
            escalation_id=escalation.id,
            from_state=escalation.state,
            to_state=escalation.state,
            reason=reason,
            actor_id=actor.id,
            at=at or now(),
        )
    )


def _notify(escalation: Escalation, previous: str, news: str = "") -> None:
    """Tell the submitters and supporters of a new state, or of `news` in the same state (title and state only,
    never cases)."""
    url = item_url(escalation)
    subject = f"Lenkungsgruppe: {escalation.reference} – {STATES[escalation.state]}"
    body = (
        f"Guten Tag,\n\nder Eintrag {escalation.reference} „{escalation.title}“ im Themenspeicher der "
        f"Lenkungsgruppe hat einen neuen Stand:\n\n  {news or f'{STATES[previous]} → {STATES[escalation.state]}'}\n"
    )
    if escalation.state_reason and escalation.state in ("abgelehnt", "zusammengefuehrt"):
        body += f"\nBegründung: {escalation.state_reason}\n"
    body += f"\nDen Verlauf sehen Sie hier: {url}\n"
    users = db.session.scalars(
        select(User)
        .join(Supporter, Supporter.user_id == User.id)
        .where(Supporter.escalation_id == escalation.id, User.active.is_(True))
    ).all()
    for user in users:
        mail.enqueue(user, subject, body, topic=f"escalation:{escalation.id}")


@_atomic
def merge(actor: User, escalation_id: int, into_id: int | None, version: int | None, reason: str) -> Escalation:
    """Fold a duplicate into the surviving item; case links and supporters carry over."""
    require_steering(actor)
    if into_id is None:
        raise InvalidInput(errors={"merge_into": "Bitte den Eintrag wählen, in den dieser aufgeht."})
    if into_id == escalation_id:
        raise InvalidInput(errors={"merge_into": "Ein Eintrag kann nicht mit sich selbst zusammengeführt werden."})
    source = _load_current(actor, escalation_id, version)
    target = load(actor, into_id)
    if not target.is_open:
        raise InvalidInput(errors={"merge_into": f"{target.reference} ist abgeschlossen und nimmt nichts mehr auf."})
    if target.merged_into_id is not None:
        raise InvalidInput(errors={"merge_into": "Dieser Eintrag ist selbst schon zusammengeführt."})
    # The submitters are told where their item went, whatever else the reason says: what she typed is checked as
    # any reason is, the reference goes in front of it.
    named = f"zusammengeführt mit {target.reference}"
    typed = (reason or "").strip()
    checked = _check_move(source, "zusammengefuehrt", actor, typed or named)
    reason = f"{named}: {checked}" if typed else named
    _bump(source, version)
    target_cases = set(
        db.session.scalars(select(EscalationCase.case_id).where(EscalationCase.escalation_id == target.id))
    )
    for link in db.session.scalars(select(EscalationCase).where(EscalationCase.escalation_id == source.id)):
        if link.case_id in target_cases:
            db.session.delete(link)
        else:
            link.escalation_id = target.id
    target_users = set(db.session.scalars(select(Supporter.user_id).where(Supporter.escalation_id == target.id)))
    for supporter in db.session.scalars(select(Supporter).where(Supporter.escalation_id == source.id)):
        if supporter.user_id not in target_users:
            db.session.add(Supporter(escalation_id=target.id, user_id=supporter.user_id, joined_at=supporter.joined_at))
    db.session.flush()
    source.merged_into_id = target.id
    _record_move(source, "zusammengefuehrt", actor, reason)
    # The surviving item takes the duplicate's agencies and Rechtskreise along, and says so in its history.
    _bump(target, None)
    target.agencies = ",".join(dict.fromkeys([*target.agency_list, *source.agency_list]))
    target.rechtskreise = ",".join(dict.fromkeys([*target.rechtskreis_list, *source.rechtskreis_list]))
    _note(target, actor, f"{source.reference} aufgenommen: betroffene Fälle und Unterstützende übernommen")
    for item in (source, target):
        item.case_count = db.session.scalar(
            select(func.count()).select_from(EscalationCase).where(EscalationCase.escalation_id == item.id)
        )
    return source


# -- steering meetings ------------------------------------------------------------------------------------------


def _on_open_agenda(escalation_id=Escalation.id):
    """The item's consultations on meetings not yet over (by default, correlated with the query's item)."""
    return (
        select(Consultation.id)
        .join(Conference, Conference.id == Consultation.conference_id)
        .where(Consultation.escalation_id == escalation_id, Conference.state.in_(OPEN_STATES))
    )


def proposed_agenda(actor: User, conference_id: int, limit: int = 12) -> list[Escalation]:
    """Items ready for the meeting: triaged, or with a working group that has reported since it got them, or "auf
    der Tagesordnung" of no meeting still to come (deferred at a meeting now over, its item removed, the meeting
    cancelled); by priority, cases affected, age. (One just handed to a group has nothing to report yet.)"""
    require_steering(actor)
    load_conference(actor, conference_id)
    already = select(Consultation.escalation_id).where(Consultation.conference_id == conference_id)
    handed_over = (
        select(func.max(Transition.at))
        .where(Transition.escalation_id == Escalation.id, Transition.to_state == "arbeitsgruppe")
        .scalar_subquery()
    )
    reported = (
        select(StatusReport.id)
        .where(
            StatusReport.group_id == Escalation.working_group_id,
            # an item with no recorded hand-over (older data): any report of its group counts
            StatusReport.created_at >= func.coalesce(handed_over, datetime(1970, 1, 1)),
        )
        .exists()
    )
    ready = (
        (Escalation.state == "gesichtet")
        | ((Escalation.state == "arbeitsgruppe") & reported)
        | ((Escalation.state == "tagesordnung") & ~_on_open_agenda().exists())
    )
    return db.session.scalars(
        select(Escalation)
        .where(ready, Escalation.id.not_in(already))
        .order_by(
            Escalation.priority.is_(None),
            Escalation.priority,
            Escalation.case_count.desc(),
            Escalation.created_at,
        )
        .limit(limit)
    ).all()


@_atomic
def put_on_agenda(actor: User, conference_id: int, escalation_ids, time_box: int = 15) -> list[Escalation]:
    """Put backlog items on a Lenkungsgruppe-Sitzung as agenda items (OParl Consultation), without case data."""
    require_steering(actor)
    conference = load_moderated(actor, conference_id)
    if conference.kind != "lenkungsgruppe":
        raise InvalidInput("Themen der Lenkungsgruppe kommen nur auf eine Lenkungsgruppe-Sitzung.")
    moved = []
    for escalation_id in dict.fromkeys(escalation_ids):
        escalation = load(actor, escalation_id)
        if db.session.scalar(
            select(Consultation.id).where(
                Consultation.conference_id == conference_id, Consultation.escalation_id == escalation.id
            )
        ):
            raise InvalidInput(f"{escalation.reference} steht schon auf dieser Tagesordnung.")
        again = escalation.state == "tagesordnung"
        if again and db.session.scalar(_on_open_agenda(escalation.id).limit(1)):
            raise InvalidTransition(
                f"{escalation.reference} steht schon auf der Tagesordnung einer anderen Sitzung, die noch nicht "
                "beendet ist. Entfernen Sie den Punkt dort, oder setzen Sie ihn nach jener Sitzung hier auf."
            )
        if escalation.state not in READY_FOR_AGENDA and not again:
            raise InvalidTransition(
                f"{escalation.reference} ist {STATES[escalation.state]}; auf die Tagesordnung kommen "
                "gesichtete Einträge, Berichte aus den Arbeitsgruppen und vertagte Themen."
            )
        item = agenda_items.add_item(
            actor,
            conference_id,
            agenda_items.ItemInput(
                title=f"{escalation.reference}: {escalation.title}"[:300], kind="beratung", time_box=time_box
            ),
            consultation=True,
        )
        db.session.add(Consultation(escalation_id=escalation.id, agenda_item_id=item.id, conference_id=conference_id))
        _bump(escalation, None)
        if again:
            _note(escalation, actor, f"erneut auf die Tagesordnung gesetzt: {conference.title}")
        else:
            _move(escalation, "tagesordnung", actor)
        moved.append(escalation)
    return moved


def consultations_of(conference_id: int) -> dict[int, Escalation]:
    """Agenda item id → backlog item, for a steering meeting."""
    rows = db.session.execute(
        select(Consultation.agenda_item_id, Escalation)
        .join(Escalation, Escalation.id == Consultation.escalation_id)
        .where(Consultation.conference_id == conference_id)
    ).all()
    return dict(rows)


def consultations_for(escalation_id: int) -> list[tuple[Conference, int]]:
    """The steering meetings that discussed an item: (conference, agenda item id)."""
    rows = db.session.execute(
        select(Conference, Consultation.agenda_item_id)
        .join(Consultation, Consultation.conference_id == Conference.id)
        .where(Consultation.escalation_id == escalation_id)
        .options(selectinload(Conference.poll))  # a date still being polled is shown as such
        .order_by(Conference.start)
    ).all()
    return [(c, i) for c, i in rows]


OUTCOMES = {
    "empfehlung": "Empfehlung beschließen",
    "arbeitsgruppe": "an eine Arbeitsgruppe geben",
    "abgelehnt": "ablehnen",
    "vertagt": "vertagen (bleibt auf der Tagesordnung)",
}
# The outcomes that cannot be taken back, and the question the form asks before it records one ({ref}: the item).
OUTCOMES_FINAL = {
    "empfehlung": "Für {ref} eine Empfehlung beschließen? Der Beschluss lässt sich nicht zurücknehmen; danach meldet "
    "jede Stelle ihren Stand der Umsetzung.",
    "abgelehnt": "{ref} ablehnen? Damit ist das Thema abgeschlossen; sein Status lässt sich danach nicht mehr ändern.",
}


@dataclass
class DecisionInput:
    outcome: str
    text: str
    version: int | None = None
    working_group_id: int | None = None
    due_date: date | None = None
    agency_ids: list[int] | None = None  # who implements a recommendation; None: every member agency


def load_consultation(actor: User, conference_id: int, agenda_item_id: int) -> Consultation:
    """A backlog item's place on a steering meeting's agenda, for a steering member; 404 for anything else."""
    require_steering(actor)
    consultation = db.session.scalar(
        select(Consultation).where(
            Consultation.agenda_item_id == agenda_item_id, Consultation.conference_id == conference_id
        )
    )
    if consultation is None:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    return consultation


@_atomic
def decide(actor: User, conference_id: int, agenda_item_id: int, data: DecisionInput) -> Escalation:
    """A decision in the steering meeting's minutes that moves the item forward (all or nothing)."""
    from minutes import records  # the minutes build on the agenda, the backlog on both

    consultation = load_consultation(actor, conference_id, agenda_item_id)
    meeting = db.session.get(Conference, consultation.conference_id)
    if not meeting.held:
        raise InvalidTransition(
            "Beschlüsse fasst die Lenkungsgruppe in ihrer Sitzung: festhalten lassen sie sich, sobald die Sitzung "
            "läuft."
        )
    if data.outcome not in OUTCOMES:
        raise InvalidInput(errors={"outcome": "Bitte wählen Sie, was beschlossen wurde."})
    escalation = _load_current(actor, consultation.escalation_id, data.version)
    if data.outcome == "vertagt" and escalation.state != "tagesordnung":
        raise InvalidTransition(
            f"{escalation.reference} ist {STATES[escalation.state]}; vertagt wird ein Thema, das auf der "
            "Tagesordnung steht."
        )
    if data.outcome in ("arbeitsgruppe", "vertagt"):
        _guarded(actor, {"text": data.text})  # it goes into the item's history and the supporters' mail
    records.add_decision(actor, agenda_item_id, data.text)
    if data.outcome == "empfehlung":
        adopt(actor, escalation.id, data.version, data.text, data.due_date, data.agency_ids, consultation.conference_id)
    elif data.outcome in ("arbeitsgruppe", "abgelehnt"):
        transition(
            actor,
            escalation.id,
            data.outcome,
            data.version,
            reason=data.text,
            working_group_id=data.working_group_id,
        )
    else:  # vertagt: it stays on the agenda, and comes back to the next meeting's proposal
        _bump(escalation, None)
        news = f"vertagt: {data.text.strip()}"
        _note(escalation, actor, news)
        _notify(escalation, escalation.state, news)
    return escalation


# -- working groups -------------------------------------------------------------------------------------------


@dataclass
class GroupInput:
    name: str
    mandate: str = ""
    lead_id: int | None = None
    due_date: date | None = None
    member_ids: list[int] = field(default_factory=list)


def groups(status: str | None = None) -> list[WorkingGroup]:
    query = select(WorkingGroup).order_by(WorkingGroup.status, WorkingGroup.name)
    if status:
        query = query.where(WorkingGroup.status == status)
    return db.session.scalars(query).all()


def load_group(actor: User, group_id: int) -> WorkingGroup:
    require_reader(actor)
    group = db.session.get(WorkingGroup, group_id)
    if group is None:
        raise NotFound("Arbeitsgruppe nicht gefunden.")
    return group


def _group_fields(actor: User, data: GroupInput, current_due: date | None = None) -> tuple[str, str, int | None, list]:
    """A group's name, mandate, lead and members, checked; the name and the mandate are read by everyone logged in,
    so the guard reads them too. A report date already passed may stay (`current_due`), a new one lies ahead."""
    errors = {}
    name, mandate = (data.name or "").strip(), (data.mandate or "").strip()
    if not name or len(name) > 200:
        errors["name"] = "Bitte einen Namen angeben (höchstens 200 Zeichen)."
    if len(mandate) > 5000:
        errors["mandate"] = "Höchstens 5.000 Zeichen."
    if data.due_date is not None and data.due_date != current_due and data.due_date < today():
        errors["due_date"] = "Das Datum liegt in der Vergangenheit."
    lead_id = data.lead_id or None  # 0 (the form's "—") is no lead, not an account
    ids = set(data.member_ids) | ({lead_id} if lead_id else set())
    users = db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))).all() if ids else []
    if len(users) != len(ids):
        errors["members"] = "Nur aktive Konten können Mitglied sein."
    if errors:
        raise InvalidInput(errors=errors)
    _guarded(actor, {"name": name, "mandate": mandate})
    return name, mandate, lead_id, users


def _seat(group: WorkingGroup, users, lead_id: int | None) -> list[User]:
    """Make these people the group's members (the lead among them), keeping the memberships that stay (their start
    date with them); returns those who are new."""
    ids, kept = {u.id for u in users}, {m.user_id for m in group.members}
    joined = [u for u in users if u.id not in kept]
    group.members = [m for m in group.members if m.user_id in ids] + [
        Membership(user_id=u.id, on_behalf_of_id=u.agency_id) for u in joined
    ]
    for m in group.members:
        m.role = "leitung" if m.user_id == lead_id else "mitglied"
    return joined


def _welcome(group: WorkingGroup, users) -> None:
    """New members learn of the group, its mandate and its report date by e-mail."""
    due = f"\nBericht an die Lenkungsgruppe bis: {datum(group.due_date)}\n" if group.due_date else ""
    body = (
        f"Guten Tag,\n\nSie wirken in der Arbeitsgruppe „{group.name}“ der Lenkungsgruppe mit.\n\n"
        f"Auftrag: {group.mandate or '—'}\n{due}\nZur Arbeitsgruppe: {group_url(group)}\n"
    )
    for user in users:
        mail.enqueue(user, f"Lenkungsgruppe: Arbeitsgruppe „{group.name}“", body, topic=f"group:{group.id}")


def create_group(actor: User, data: GroupInput) -> WorkingGroup:
    require_steering(actor)
    name, mandate, lead_id, users = _group_fields(actor, data)
    group = WorkingGroup(name=name, mandate=mandate, lead_id=lead_id, due_date=data.due_date)
    new = _seat(group, users, lead_id)
    db.session.add(group)
    db.session.flush()
    audit.record("backlog.group_create", actor=actor, detail={"group": group.id})
    _welcome(group, new)
    return group


def update_group(actor: User, group_id: int, data: GroupInput) -> list[str]:
    """Change a group's name, mandate, lead, report date or members (a date extended, a member who left): the
    steering group. Returns the fields that changed (none: nothing is recorded)."""
    require_steering(actor)
    group = load_group(actor, group_id)
    name, mandate, lead_id, users = _group_fields(actor, data, group.due_date)
    before = {m.user_id for m in group.members}
    new = {"name": name, "mandate": mandate, "lead_id": lead_id, "due_date": data.due_date}
    changed = [key for key, value in new.items() if getattr(group, key) != value]
    if {u.id for u in users} != before:
        changed.append("members")
    if not changed:
        return changed
    for key, value in new.items():
        setattr(group, key, value)
    joined = _seat(group, users, lead_id)
    db.session.flush()
    audit.record(
        "backlog.group_edit",
        actor=actor,
        detail={
            "group": group.id,
            "fields": changed,
            "added": sorted(u.id for u in joined),
            "removed": sorted(before - {u.id for u in users}),
        },
    )
    _welcome(group, joined)
    return changed


def add_report(actor: User, group_id: int, text: str) -> StatusReport:
    """A status report, by a member of the group or a steering member."""
    group = load_group(actor, group_id)
    member = any(m.user_id == actor.id for m in group.members)
    _require(member or may_edit_backlog(viewer_of(actor)), "Berichte schreiben die Mitglieder der Arbeitsgruppe.")
    text = (text or "").strip()
    if not text or len(text) > 10000:
        raise InvalidInput(errors={"text": "Bitte den Bericht eingeben (höchstens 10.000 Zeichen)."})
    _guarded(actor, {"text": text})
    report = StatusReport(group_id=group.id, text=text, author_id=actor.id)
    db.session.add(report)
    db.session.flush()
    return report


def set_group_status(actor: User, group_id: int, status: str) -> WorkingGroup:
    require_steering(actor)
    group = load_group(actor, group_id)
    if status not in ("aktiv", "abgeschlossen"):
        raise InvalidInput("Unbekannter Status.")
    group.status = status
    return group


def groups_overview() -> list[WorkingGroup]:
    """All working groups with their lead and members, in three queries."""
    return db.session.scalars(
        select(WorkingGroup)
        .options(selectinload(WorkingGroup.lead), selectinload(WorkingGroup.members))
        .order_by(WorkingGroup.status, WorkingGroup.name)
    ).all()


def group_candidates() -> list[User]:
    """Active accounts that can sit in a working group: case workers, moderators, steering members."""
    return db.session.scalars(
        select(User)
        .join(Agency, Agency.id == User.agency_id)
        .where(User.active.is_(True), User.role.in_(("case_worker", "moderator", "steering")))
        .order_by(Agency.code, User.display_name)
    ).all()


def group_items(group_id: int) -> list[Escalation]:
    return db.session.scalars(
        select(Escalation).where(Escalation.working_group_id == group_id).order_by(Escalation.reference)
    ).all()


# -- recommendations and implementation ---------------------------------------------------------------------


def member_agencies() -> list[Agency]:
    """Agencies with an active steering member: they implement the recommendations."""
    return db.session.scalars(
        select(Agency)
        .where(
            Agency.active.is_(True),
            Agency.id.in_(select(User.agency_id).where(User.role == "steering", User.active.is_(True))),
        )
        .order_by(Agency.code)
    ).all()


@_atomic
def adopt(
    actor: User,
    escalation_id: int,
    version: int | None,
    text: str,
    due_date: date | None,
    agency_ids=None,
    conference_id: int | None = None,
    agency_codes=None,
) -> Recommendation:
    """Adopt a recommendation; each agency chosen (None: every member agency) gets an implementation status
    "offen". A form that leaves every agency unticked chose none: that is refused, not taken for all. The agencies
    come by id (the form) or by code (`agency_codes`, the API); either way only members of the group."""
    require_steering(actor)
    escalation = _load_current(actor, escalation_id, version)
    text = (text or "").strip()
    errors = {}
    if not text or len(text) > 10000:
        errors["text"] = "Bitte den Text der Empfehlung eingeben (höchstens 10.000 Zeichen)."
    if due_date is not None and due_date < today():
        errors["due_date"] = "Die Umsetzungsfrist liegt in der Vergangenheit."
    members = {a.id: a for a in member_agencies()}
    if agency_codes is not None:
        by_code = {a.code: a.id for a in members.values()}
        chosen = [by_code.get(code) for code in agency_codes]  # an unknown code: None, no member
    else:
        chosen = list(members) if agency_ids is None else [int(a) for a in agency_ids]
    if any(a not in members for a in chosen):
        errors["agencies"] = "Umsetzen können nur Stellen der Lenkungsgruppe."
    elif not chosen:
        errors["agencies"] = "Bitte wählen Sie mindestens eine Stelle, die die Empfehlung umsetzt."
    if errors:
        raise InvalidInput(errors=errors)
    if "empfehlung" not in transitions_from(escalation.state):
        raise InvalidTransition(
            f"Der Eintrag ist {STATES[escalation.state]}; beschlossen wird auf der Tagesordnung "
            "oder nach dem Bericht der Arbeitsgruppe."
        )
    _guarded(actor, {"text": text})
    _bump(escalation, version)
    recommendation = Recommendation(
        escalation_id=escalation.id,
        text=text,
        adopted_on=today(),
        due_date=due_date,
        conference_id=conference_id,
        created_by_id=actor.id,
    )
    recommendation.implementations = [Implementation(agency_id=a) for a in sorted(set(chosen))]
    db.session.add(recommendation)
    _move(escalation, "empfehlung", actor)
    _tell_implementers(escalation, recommendation, sorted(set(chosen)))
    return recommendation


def _tell_implementers(escalation: Escalation, recommendation: Recommendation, agency_ids: list[int]) -> None:
    """Each implementing agency's steering members learn what they are to report on, and by when."""
    subject = f"Lenkungsgruppe: Empfehlung zu {escalation.reference} umsetzen"
    due = f" bis zum {datum(recommendation.due_date)}" if recommendation.due_date else ""
    body = (
        f"Guten Tag,\n\ndie Lenkungsgruppe hat zu {escalation.reference} „{escalation.title}“ eine Empfehlung "
        f"beschlossen, die Ihre Stelle umsetzt. Bitte melden Sie den Stand der Umsetzung{due} beim Eintrag:\n\n"
        f"  {item_url(escalation)}\n\nEmpfehlung:\n{recommendation.text}\n"
    )
    for member in _steering_members(agency_ids):
        mail.enqueue(member, subject, body, topic=f"escalation:{escalation.id}")


def recommendation_of(escalation_id: int) -> Recommendation | None:
    return db.session.scalar(select(Recommendation).where(Recommendation.escalation_id == escalation_id))


def _all_implemented(escalation_id: int) -> bool:
    statuses = db.session.scalars(
        select(Implementation.status)
        .join(Recommendation, Recommendation.id == Implementation.recommendation_id)
        .where(Recommendation.escalation_id == escalation_id)
    ).all()
    return bool(statuses) and all(s in IMPLEMENTATION_DONE for s in statuses)


def closing_reports(escalation: Escalation, implementations, reportable: set[int]) -> set[int]:
    """Of the implementations the actor may report, those whose report as done would close the item: every other
    agency has reported its own as done."""
    if escalation.state not in ("empfehlung", "umsetzung"):
        return set()
    return {
        i.id
        for i in implementations
        if i.id in reportable and all(o.status in IMPLEMENTATION_DONE for o in implementations if o.id != i.id)
    }


@_atomic
def reportable_implementations(actor: User, escalation: Escalation, implementations) -> set[int]:
    """Of these implementations, those whose status the actor may report now: her agency's, while the item is open
    (a closed one keeps its implementations as they were reported)."""
    if not escalation.is_open:
        return set()
    viewer = viewer_of(actor)
    return {i.id for i in implementations if may_update_implementation(viewer, i.agency_id)}


def update_implementation(
    actor: User, implementation_id: int, status: str, reason: str, version: int | None
) -> Implementation:
    """An agency's steering member reports its status; the item moves to "in Umsetzung" and "umgesetzt"."""
    implementation = db.session.get(Implementation, implementation_id)
    if implementation is None:
        raise NotFound("Umsetzung nicht gefunden.")
    _require(
        may_update_implementation(viewer_of(actor), implementation.agency_id),
        "Den Stand meldet das Mitglied der Lenkungsgruppe dieser Stelle.",
    )
    if status not in IMPLEMENTATION_STATUS:
        raise InvalidInput(errors={"status": "Bitte einen Stand wählen."})
    escalation = db.session.get(Escalation, implementation.recommendation.escalation_id)
    if not escalation.is_open:
        # "umgesetzt" means every agency has reported: a later "offen" would leave it done with work open
        raise InvalidTransition(
            f"Der Eintrag ist {STATES[escalation.state]}; der Stand der Umsetzung wird nicht mehr geändert."
        )
    reason = (reason or "").strip()
    if status == "nicht_umsetzbar" and not reason:
        raise InvalidInput(errors={"reason": "Bitte begründen Sie, warum die Empfehlung nicht umsetzbar ist."})
    if len(reason) > 5000:
        raise InvalidInput(errors={"reason": "Höchstens 5.000 Zeichen."})
    if reason:
        _guarded(actor, {"reason": reason})
    if version is not None and version != implementation.version:
        raise Conflict("Der Stand wurde inzwischen geändert. Bitte prüfen Sie ihn und versuchen Sie es erneut.")
    done = db.session.execute(
        update(Implementation)
        .where(Implementation.id == implementation.id, Implementation.version == implementation.version)
        .values(
            version=implementation.version + 1, status=status, reason=reason, updated_by_id=actor.id, updated_at=now()
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict("Der Stand wurde gerade von jemand anderem geändert. Bitte laden Sie die Seite neu.")
    db.session.refresh(implementation)
    if escalation.state == "empfehlung" and status != "offen":
        _bump(escalation, None)  # forms showing the old state are stale now
        _move(escalation, "umsetzung", actor)
    if escalation.state == "umsetzung" and _all_implemented(escalation.id):
        _bump(escalation, None)
        _move(escalation, "umgesetzt", actor)
    audit.record(
        "backlog.implementation",
        actor=actor,
        detail={"escalation": escalation.id, "agency": implementation.agency_id, "status": status},
    )
    return implementation


def implementation_escalation_id(implementation_id: int) -> int:
    """The backlog item an implementation belongs to (for returning to its page)."""
    escalation_id = db.session.scalar(
        select(Recommendation.escalation_id)
        .join(Implementation, Implementation.recommendation_id == Recommendation.id)
        .where(Implementation.id == implementation_id)
    )
    if escalation_id is None:
        raise NotFound("Umsetzung nicht gefunden.")
    return escalation_id


def is_overdue(recommendation: Recommendation, implementation: Implementation, day: date | None = None) -> bool:
    return (
        recommendation.due_date is not None
        and recommendation.due_date < (day or today())
        and implementation.status not in IMPLEMENTATION_DONE
    )
