"""Read models of the backlog for the Kennzahlen, the exports and the OParl view.

Aggregates only: a fixed number of GROUP BY queries whatever the size of the backlog, and nothing here follows
`escalation_cases` — every figure about cases is a sum of `Escalation.case_count`.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from flask import current_app
from sqlalchemy import and_, case, func, select, true

from agenda.models import AgendaItem, Conference
from consent.policy import may_read_backlog, viewer_of
from fallkonferenz import epoch
from fallkonferenz.errors import Forbidden, InvalidInput, NotFound
from fallkonferenz.extensions import db
from fallkonferenz.models import Agency, User, utcnow

from . import service
from .models import (
    CATEGORIES,
    CLOSED_STATES,
    IMPLEMENTATION_DONE,
    STATES,
    Consultation,
    Escalation,
    Implementation,
    Membership,
    Recommendation,
    WorkingGroup,
)

# Age of the open items, in days since they were raised: (label, from, to).
AGE_BUCKETS = (
    ("unter 30 Tage", 0, 30),
    ("30 bis 90 Tage", 30, 90),
    ("90 bis 180 Tage", 90, 180),
    ("über 180 Tage", 180, None),
)
# The chart groups the nine states into phases a reader takes in at a glance; the table keeps every state.
PHASES = (
    ("neu", "eingereicht/gesichtet", ("eingereicht", "gesichtet")),
    ("beratung", "Tagesordnung/Arbeitsgruppe", ("tagesordnung", "arbeitsgruppe")),
    ("umsetzung", "Empfehlung/in Umsetzung", ("empfehlung", "umsetzung")),
    ("umgesetzt", "umgesetzt", ("umgesetzt",)),
    ("beendet", "abgelehnt/zusammengeführt", ("abgelehnt", "zusammengefuehrt")),
)
ENDED = ("abgelehnt", "zusammengefuehrt")  # their open implementations no longer count
TRUE_WORDS = frozenset({"1", "ja", "true", "on", "wahr"})


def require_reader(actor: User) -> None:
    """403 unless the actor may read the backlog (every logged-in role may)."""
    if not may_read_backlog(viewer_of(actor)):
        raise Forbidden("Kein Zugriff auf den Themenspeicher.")


# -- the list's filter ---------------------------------------------------------------------------------------


MAX_SEARCH = 100  # characters of the backlog's search field


def _unreadable(ch: str) -> bool:
    """A control or format character (no keyboard types one), or what stands for bytes that were no UTF-8."""
    return unicodedata.category(ch)[0] == "C" or ch == "\ufffd"


def search_words(args, *, strict: bool = False) -> tuple[str, str | None]:
    """The search text `q`: Unicode in one form (NFC, as "Ü" typed is stored), spaces tidied, unreadable characters
    taken out, at most MAX_SEARCH characters; and, where it had to be changed, a German
    note for the list, or with `strict` (the API, which changes nothing) the reason it is refused."""
    raw = unicodedata.normalize("NFC", args.get("q") or "")
    text = " ".join("".join(" " if _unreadable(ch) else ch for ch in raw).split())
    problems = []
    if text != " ".join(raw.split()):
        problems.append(
            "Der Suchbegriff enthält unzulässige Zeichen."
            if strict
            else "Unzulässige Zeichen im Suchbegriff wurden entfernt."
        )
    if len(text) > MAX_SEARCH:
        problems.append(
            f"Höchstens {MAX_SEARCH} Zeichen."
            if strict
            else f"Der Suchbegriff war länger als {MAX_SEARCH} Zeichen und wurde gekürzt."
        )
        text = text[:MAX_SEARCH].rstrip()
    return text, " ".join(problems) or None


UNKNOWN = {
    "kategorie": "Unbekannte Kategorie",
    "status": "Unbekannter Status",
    "behoerde": "Unbekannte Stelle",
    "sortierung": "Unbekannte Sortierung",
}


def read_filter(args, agency_codes=None) -> tuple[service.BacklogFilter, dict[str, str], str | None]:
    """The backlog filter from query parameters (q, kategorie, status, behoerde, offen, sortierung), read the same
    way for the list, its exports and the API: with the values left out as unknown (by parameter) and what had to
    change in the search text. Each caller says that in its own way. `agency_codes`: the known agencies, if the
    caller has them at hand (else they are asked for when the filter names one)."""
    raw = {k: (args.get(k) or "").strip()[:40] for k in UNKNOWN}
    raw["behoerde"] = raw["behoerde"].upper()
    known = {
        "kategorie": CATEGORIES,
        "status": STATES,
        "behoerde": agency_codes if agency_codes is not None else _agency_codes(raw["behoerde"]),
        "sortierung": service.SORTS,
    }
    dropped = {k: v for k, v in raw.items() if v and v not in known[k]}
    value = {k: "" if k in dropped else v for k, v in raw.items()}
    text, problem = search_words(args)
    f = service.BacklogFilter(
        category=value["kategorie"],
        state=value["status"],
        agency=value["behoerde"],
        sort=value["sortierung"] or "prioritaet",
        open_only=(args.get("offen") or "").strip().lower() in TRUE_WORDS,
        text=text,
    )
    return f, dropped, problem


def _agency_codes(asked: str) -> set[str]:
    return set(db.session.scalars(select(Agency.code))) if asked else set()


def parse_filter(args, *, strict: bool = False) -> service.BacklogFilter:
    """The backlog filter of the exports and the API. `strict` (the API) answers an unknown value with a German
    422; the exports drop it, as the list does."""
    f, dropped, _ = read_filter(args)
    if strict:
        allowed = {"kategorie": CATEGORIES, "status": STATES, "sortierung": service.SORTS}
        errors = {k: UNKNOWN[k] + (f". Erlaubt: {', '.join(allowed[k])}." if k in allowed else ".") for k in dropped}
        if problem := search_words(args, strict=True)[1]:
            errors["q"] = problem
        if errors:
            raise InvalidInput(errors=errors)
    return f


# -- Kennzahlen ----------------------------------------------------------------------------------------------


@dataclass
class AgencyImplementations:
    code: str
    name: str
    total: int = 0
    open: int = 0  # offen or in Arbeit
    in_progress: int = 0
    overdue: int = 0
    done: int = 0


@dataclass
class Figures:
    generated_at: datetime
    by_category_state: dict[str, dict[str, int]]  # category -> state -> items
    cases_by_category: dict[str, int]  # category -> sum of case_count, all items
    open_cases_by_category: dict[str, int]  # the same, open items only
    ages: list[tuple[str, int]]  # age bucket label -> open items
    days_to_decision: list[float] = field(default_factory=list)
    days_to_implementation: list[float] = field(default_factory=list)
    implementations: list[AgencyImplementations] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(states.values()) for states in self.by_category_state.values())

    @property
    def open(self) -> int:
        return sum(n for states in self.by_category_state.values() for s, n in states.items() if s not in CLOSED_STATES)

    @property
    def cases(self) -> int:
        return sum(self.cases_by_category.values())

    def category_total(self, category: str) -> int:
        return sum(self.by_category_state[category].values())

    def state_total(self, state: str) -> int:
        return sum(states.get(state, 0) for states in self.by_category_state.values())

    def phase_counts(self, category: str) -> list[int]:
        states = self.by_category_state[category]
        return [sum(states.get(s, 0) for s in members) for _key, _label, members in PHASES]

    @property
    def median_days_to_decision(self) -> float | None:
        return median(self.days_to_decision) if self.days_to_decision else None

    @property
    def median_days_to_implementation(self) -> float | None:
        return median(self.days_to_implementation) if self.days_to_implementation else None

    @property
    def open_implementations(self) -> int:
        return sum(a.open for a in self.implementations)

    @property
    def overdue_implementations(self) -> int:
        return sum(a.overdue for a in self.implementations)


def figures(actor: User, at: datetime | None = None) -> Figures:
    """Every figure of the dashboard, as of `at` or, by default, of the current minute.

    The figures of the current minute are counted once per process and kept until the backlog epoch moves (any
    change of an item, a recommendation, an implementation or an agency, committed by any process) or the minute
    ends (the ages and what is overdue depend on the time). Each view then costs one small read instead of
    aggregates over the whole backlog. The epoch is read before the figures, in the same transaction: a change
    committed after that read moves it again for the next view."""
    require_reader(actor)
    if at is not None:
        return _count(at)
    at = utcnow().replace(second=0, microsecond=0)
    mark = epoch.BACKLOG.current()
    if mark is None:  # the counter cannot be trusted: count every time
        return _count(at)
    return kept("fk_backlog_figures", (mark, at), lambda: _count(at))


def kept(name: str, key, compute):
    """The value kept in this app under `name` while `key` stays the same; computed again when it changes."""
    store = current_app.extensions.setdefault("fk_kept", {})
    entry = store.get(name)  # (key, value), replaced as a whole: threads never see a mix
    if entry is None or entry[0] != key:
        entry = store[name] = (key, compute())
    return entry[1]


def _count(at: datetime) -> Figures:
    """Every figure of the dashboard in four aggregate queries."""
    by_state: dict[str, dict[str, int]] = {c: {} for c in CATEGORIES}
    cases: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
    open_cases: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
    rows = db.session.execute(
        select(
            Escalation.category, Escalation.state, func.count(), func.coalesce(func.sum(Escalation.case_count), 0)
        ).group_by(Escalation.category, Escalation.state)
    ).all()
    for category, state, items, affected in rows:
        by_state.setdefault(category, {})[state] = items
        cases[category] = cases.get(category, 0) + int(affected)
        if state not in CLOSED_STATES:
            open_cases[category] = open_cases.get(category, 0) + int(affected)
    to_decision, to_implementation = _durations()
    return Figures(
        generated_at=at,
        by_category_state=by_state,
        cases_by_category=cases,
        open_cases_by_category=open_cases,
        ages=_ages(at),
        days_to_decision=to_decision,
        days_to_implementation=to_implementation,
        implementations=_implementations(at.date()),
    )


def _ages(at: datetime) -> list[tuple[str, int]]:
    """Open items per age bucket: one row of conditional sums (no GROUP BY over a bound CASE)."""
    sums = []
    for _label, start, end in AGE_BUCKETS:
        # The youngest bucket has no lower age: an item raised within the minute of `at` is in it.
        condition = Escalation.created_at <= at - timedelta(days=start) if start else true()
        if end is not None:
            condition = and_(condition, Escalation.created_at > at - timedelta(days=end))
        sums.append(func.coalesce(func.sum(case((condition, 1), else_=0)), 0))
    row = db.session.execute(select(*sums).where(Escalation.state.not_in(CLOSED_STATES))).one()
    return [(label, int(n)) for (label, _s, _e), n in zip(AGE_BUCKETS, row, strict=True)]


def _durations() -> tuple[list[float], list[float]]:
    """Days from escalation to decision and to implementation, one row per decided item (days computed in SQL)."""
    to_decision = _day_diff(Escalation.decided_at, Escalation.created_at)
    to_implementation = _day_diff(Escalation.implemented_at, Escalation.created_at)
    rows = db.session.execute(
        select(to_decision, to_implementation).where(
            Escalation.decided_at.is_not(None) | Escalation.implemented_at.is_not(None)
        )
    ).all()
    decision = [max(0.0, float(d)) for d, _i in rows if d is not None]
    implementation = [max(0.0, float(i)) for _d, i in rows if i is not None]
    return decision, implementation


def _day_diff(end, start):
    """Days between two timestamp columns, computed by the database instead of parsing every timestamp here."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def _implementations(today: date) -> list[AgencyImplementations]:
    """Implementations per agency: open, in progress, overdue and done, of items still alive."""
    not_done = Implementation.status.not_in(IMPLEMENTATION_DONE)
    overdue = and_(not_done, Recommendation.due_date.is_not(None), Recommendation.due_date < today)
    # Grouped by the implementations' own agency column (its index gives the order), names looked up after.
    rows = db.session.execute(
        select(
            Implementation.agency_id,
            func.count(Implementation.id),
            func.coalesce(func.sum(case((not_done, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Implementation.status == "in_arbeit", 1), else_=0)), 0),
            func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
        )
        .select_from(Recommendation)
        .join(Escalation, Escalation.id == Recommendation.escalation_id)
        .join(Implementation, Implementation.recommendation_id == Recommendation.id)
        .where(Escalation.state.not_in(ENDED))
        .group_by(Implementation.agency_id)
    ).all()
    names = {
        agency_id: (code, name)
        for agency_id, code, name in db.session.execute(
            select(Agency.id, Agency.code, Agency.name).where(Agency.id.in_([r[0] for r in rows]))
        )
    }
    out = [
        AgencyImplementations(*names[agency_id], total, int(open_), int(busy), int(late), total - int(open_))
        for agency_id, total, open_, busy, late in rows
    ]
    return sorted(out, key=lambda a: a.code)


# -- exports -------------------------------------------------------------------------------------------------


@dataclass
class ExportRow:
    item: Escalation
    working_group: str | None
    adopted_on: date | None
    due_date: date | None


def export_rows(actor: User, f: service.BacklogFilter, limit: int | None = None) -> list[ExportRow]:
    """The items matching the list's filter (all, or the first `limit`; not one page), in the list's order, in one
    query."""
    require_reader(actor)
    # The list's own filter, so an export always shows what the list shows.
    query = (
        service.backlog_query(f)
        .outerjoin(WorkingGroup, WorkingGroup.id == Escalation.working_group_id)
        .outerjoin(Recommendation, Recommendation.escalation_id == Escalation.id)
        .add_columns(WorkingGroup.name, Recommendation.adopted_on, Recommendation.due_date)
        .limit(limit)
    )
    return [ExportRow(*row) for row in db.session.execute(query).all()]


# -- OParl read models -----------------------------------------------------------------------------------------


@dataclass
class Page:
    rows: list
    total: int
    page: int
    limit: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def _page(query, count_query, page: int, limit: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(count_query.subquery()))
    rows = db.session.execute(query.offset((page - 1) * limit).limit(limit)).all()
    return Page(rows=rows, total=total, page=page, limit=limit)


def papers(actor: User, page: int, limit: int, since: datetime | None = None) -> Page:
    """Escalations as OParl Papers, oldest first; `since`: modified at or after."""
    require_reader(actor)
    query = select(Escalation)
    if since is not None:
        query = query.where(Escalation.updated_at >= since)
    result = _page(query.order_by(Escalation.id), query, page, limit)
    result.rows = [r[0] for r in result.rows]
    return result


def paper(actor: User, escalation_id: int) -> Escalation:
    return service.load(actor, escalation_id)


@dataclass
class ConsultationRow:
    id: int
    escalation_id: int
    agenda_item_id: int
    conference_id: int
    created_at: datetime
    authoritative: bool  # the recommendation was adopted in this meeting


def _consultations(where) -> list[ConsultationRow]:
    rows = db.session.execute(
        select(Consultation, Recommendation.conference_id)
        .outerjoin(Recommendation, Recommendation.escalation_id == Consultation.escalation_id)
        .where(where)
        .order_by(Consultation.id)
    ).all()
    return [
        ConsultationRow(
            c.id, c.escalation_id, c.agenda_item_id, c.conference_id, c.created_at, adopted_in == c.conference_id
        )
        for c, adopted_in in rows
    ]


def consultations_of(escalation_ids) -> dict[int, list[ConsultationRow]]:
    """The consultations of these papers, in one query."""
    out: dict[int, list[ConsultationRow]] = defaultdict(list)
    ids = list(escalation_ids)
    if ids:
        for row in _consultations(Consultation.escalation_id.in_(ids)):
            out[row.escalation_id].append(row)
    return out


def consultation_list(actor: User, page: int, limit: int) -> Page:
    require_reader(actor)
    query = select(Consultation.id)
    result = _page(query.order_by(Consultation.id), query, page, limit)
    result.rows = _consultations(Consultation.id.in_([r[0] for r in result.rows])) if result.rows else []
    return result


def consultation(actor: User, consultation_id: int) -> ConsultationRow:
    require_reader(actor)
    rows = _consultations(Consultation.id == consultation_id)
    if not rows:
        raise NotFound("Beratung nicht gefunden.")
    return rows[0]


def _steering_meetings():
    # Only the Lenkungsgruppe's own meetings: a case conference never appears in the steering layer.
    return select(Conference).where(Conference.kind == "lenkungsgruppe")


def meetings(actor: User, page: int, limit: int) -> Page:
    require_reader(actor)
    query = _steering_meetings()
    result = _page(query.order_by(Conference.start, Conference.id), query, page, limit)
    result.rows = [r[0] for r in result.rows]
    return result


def meeting(actor: User, conference_id: int) -> Conference:
    require_reader(actor)
    conference = db.session.scalar(_steering_meetings().where(Conference.id == conference_id))
    if conference is None:
        raise NotFound("Sitzung nicht gefunden.")
    return conference


@dataclass
class AgendaRow:
    id: int
    conference_id: int
    number: str
    order: int
    name: str
    consultation_id: int
    created_at: datetime


def agenda_of(conference_ids) -> dict[int, list[AgendaRow]]:
    """The backlog items on these steering meetings, numbered like the agenda ("TOP 3"), in one query.

    Other items of a steering meeting carry free text nobody checked for personal data; they stay out.
    """
    out: dict[int, list[AgendaRow]] = defaultdict(list)
    ids = list(conference_ids)
    if not ids:
        return out
    rows = db.session.execute(
        select(
            AgendaItem.id,
            AgendaItem.conference_id,
            AgendaItem.created_at,
            Consultation.id,
            Escalation.reference,
            Escalation.title,
        )
        .join(Conference, Conference.id == AgendaItem.conference_id)
        .outerjoin(Consultation, Consultation.agenda_item_id == AgendaItem.id)
        .outerjoin(Escalation, Escalation.id == Consultation.escalation_id)
        .where(AgendaItem.conference_id.in_(ids), Conference.kind == "lenkungsgruppe")
        .order_by(AgendaItem.conference_id, AgendaItem.position, AgendaItem.id)
    ).all()
    counters: dict[int, int] = defaultdict(int)
    for item_id, conference_id, created_at, consultation_id, reference, title in rows:
        counters[conference_id] += 1
        if consultation_id is None:
            continue
        n = counters[conference_id]
        out[conference_id].append(
            AgendaRow(item_id, conference_id, f"TOP {n}", n, f"{reference}: {title}", consultation_id, created_at)
        )
    return out


def agenda_item(actor: User, agenda_item_id: int) -> AgendaRow:
    require_reader(actor)
    conference_id = db.session.scalar(
        select(AgendaItem.conference_id)
        .join(Consultation, Consultation.agenda_item_id == AgendaItem.id)
        .where(AgendaItem.id == agenda_item_id)
    )
    rows = agenda_of([conference_id]).get(conference_id, []) if conference_id else []
    row = next((r for r in rows if r.id == agenda_item_id), None)
    if row is None:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    return row


def working_groups(actor: User) -> list[WorkingGroup]:
    require_reader(actor)
    return db.session.scalars(select(WorkingGroup).order_by(WorkingGroup.id)).all()


def working_group(actor: User, group_id: int) -> WorkingGroup:
    return service.load_group(actor, group_id)


def memberships_of(group_ids) -> dict[int, list[Membership]]:
    out: dict[int, list[Membership]] = defaultdict(list)
    ids = list(group_ids)
    if ids:
        for m in db.session.scalars(select(Membership).where(Membership.group_id.in_(ids)).order_by(Membership.id)):
            out[m.group_id].append(m)
    return out


def membership_list(actor: User, page: int, limit: int) -> Page:
    require_reader(actor)
    query = select(Membership)
    result = _page(query.order_by(Membership.id), query, page, limit)
    result.rows = [r[0] for r in result.rows]
    return result


def membership(actor: User, membership_id: int) -> Membership:
    require_reader(actor)
    found = db.session.get(Membership, membership_id)
    if found is None:
        raise NotFound("Mitgliedschaft nicht gefunden.")
    return found


def agencies(actor: User) -> list[Agency]:
    require_reader(actor)
    return db.session.scalars(select(Agency).order_by(Agency.code)).all()


def agency(actor: User, code: str) -> Agency:
    require_reader(actor)
    found = db.session.scalar(select(Agency).where(Agency.code == code))
    if found is None:
        raise NotFound("Stelle nicht gefunden.")
    return found
