"""Case operations: every read and write asks the policy and writes an audit event."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, exists, func, select, union
from sqlalchemy.orm import lazyload

from consent.models import Consent, ConsentGrant
from consent.policy import (
    NO_ACCESS,
    Access,
    Viewer,
    access_from_grants,
    active_consent_clause,
    active_grants,
    active_grants_by_agency,
    bound,
    bound_params,
    for_viewer,
    listable_cases_clause,
    may_create_case,
    viewer_of,
)

from .. import audit, localtime
from ..auth.service import agency_codes, user_names
from ..casecrypto import CaseCipher, ciphers_for, create_case_key, keyring
from ..crypto import normalize_name
from ..errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, db_id
from ..extensions import db, escape_like
from ..models import Agency, AuditEvent, Case, CaseNameToken, Goal, Note, User, utcnow
from ..vocab import CATEGORIES, FIELD_CATEGORY, NOTE_WITHDRAW_REASONS

NUMBER_RE = re.compile(r"^FK-(\d{4})-(\d{4})$")
ENCRYPTED_MASTER_FIELDS = ("given_name", "family_name", "birth_date", "address", "phone")


@dataclass
class NoteView:
    id: int
    category: str
    text: str
    agency_code: str
    author_name: str
    created_at: datetime
    withdrawn_at: datetime | None = None
    withdraw_reason: str | None = None
    mine: bool = False  # written by the viewer's agency: it may withdraw the note


@dataclass
class CaseView:
    """A case as one viewer may see it; hidden fields are None."""

    id: int
    number: str
    lead_agency: Agency
    access: Access
    case_worker: str | None = None
    master: dict = field(default_factory=dict)
    residence: dict = field(default_factory=dict)
    rechtskreise: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    closed_on: date | None = None  # closed by the lead agency: the retention period runs (cases/retention.py)
    # the viewer's notes by category (all she may see), and whether a page of them leaves older ones out
    note_counts: dict[str, int] = field(default_factory=dict)
    notes_more: bool = False

    @property
    def display_name(self) -> str | None:
        if not self.master:
            return None
        return f"{self.master.get('given_name') or ''} {self.master.get('family_name') or ''}".strip()


def now() -> datetime:
    return utcnow()


# Statements of the case page, built once: building one costs more than running it.
# A withdrawn note is a trace for those who read it, no longer a note of its agency: it keeps no case in its view.
_WROTE = select(Note.id).where(
    Note.case_id == bindparam("case_id"), Note.author_agency_id == bindparam("agency_id"), Note.withdrawn_at.is_(None)
)
_SET_GOAL = select(Goal.id).where(Goal.case_id == bindparam("case_id"), Goal.author_agency_id == bindparam("agency_id"))
_AUTHORED = select(exists(_WROTE) | exists(_SET_GOAL))
_CASE_BY_NUMBER = select(Case).where(Case.number == bindparam("number"))
_NOTES = (
    select(
        Note.id,
        Note.category,
        Note.author_agency_id,
        Note.author_id,
        Note.text_enc,
        Note.created_at,
        Note.withdrawn_at,
        Note.withdraw_reason,
    )
    .where(Note.case_id == bindparam("case_id"))
    .order_by(Note.created_at.desc(), Note.id.desc())
)
_GOALS = select(Goal).where(Goal.case_id == bindparam("case_id")).order_by(Goal.due_date, Goal.id)


class CaseErased(DomainError):
    """The lead agency asks for a case that was erased (see cases/retention.py): it is told so, and when; nobody
    else learns that the case existed."""

    status = 410

    def __init__(self, case: Case):
        super().__init__(
            f"Der Fall {case.number} wurde am {localtime.datum(case.erased_at)} gelöscht (Ende der Aufbewahrungsfrist "
            "oder Löschantrag); seine Daten sind nicht mehr lesbar."
        )


def _authored(viewer: Viewer, case_id: int) -> bool:
    """Whether the viewer's agency wrote a note or goal in the case (one query)."""
    return bool(db.session.scalar(_AUTHORED, {"case_id": case_id, "agency_id": viewer.agency_id}))


def load_case_for(actor: User, case_ref, *, at: datetime | None = None) -> tuple[Case, Access]:
    """Load a case by id or number and the viewer's access; 404 if the case does not exist for them."""
    case = None
    if isinstance(case_ref, int) or (isinstance(case_ref, str) and case_ref.isascii() and case_ref.isdigit()):
        case_id = db_id(case_ref)
        case = db.session.get(Case, case_id) if case_id else None
    elif isinstance(case_ref, str) and NUMBER_RE.match(number := case_ref.upper()):
        # anything else is no case number, so no case: not asked of the database, whose driver may refuse it
        # (PostgreSQL takes no NUL byte in a text)
        case = db.session.scalar(_CASE_BY_NUMBER, {"number": number})
    if case is None:
        raise NotFound("Fall nicht gefunden.")
    viewer = viewer_of(actor)
    granted = {category for _, _, category in db.session.execute(*active_grants(viewer, [case.id], at or now()))}
    access = access_from_grants(viewer, case.lead_agency_id, granted, authored=_authored(viewer, case.id))
    if not access.visible:
        raise NotFound("Fall nicht gefunden.")
    if case.erased_at is not None:
        if access.is_lead:
            raise CaseErased(case)
        raise NotFound("Fall nicht gefunden.")
    return case, access


def _master_view(case: Case, access: Access, cipher: CaseCipher | None, actor) -> tuple[dict, dict]:
    master, residence = {}, {}
    if access.sees_record_field("stammdaten") and cipher is not None:
        for name in ENCRYPTED_MASTER_FIELDS:
            master[name] = cipher.read("cases", case.id, name, getattr(case, f"{name}_enc"), actor)
        master["nationality"] = case.nationality
        master["languages"] = case.languages
        master["interpreter_needed"] = case.interpreter_needed
    if access.sees_record_field("aufenthalt"):
        residence = {"status": case.residence_status, "valid_until": case.residence_valid_until}
    return master, residence


def _view(case: Case, access: Access, cipher: CaseCipher | None, actor) -> CaseView:
    master, residence = _master_view(case, access, cipher, actor)
    view = CaseView(id=case.id, number=case.number, lead_agency=case.lead_agency, access=access)
    view.master, view.residence, view.closed_on = master, residence, case.closed_on
    if access.sees_record_field("stammdaten"):
        view.rechtskreise = case.rechtskreis_list
        view.fields = case.field_list
    return view


NOTES_PAGE = 50  # notes on the case page, the newest first; older ones on further pages


@dataclass(frozen=True)
class NoteChoice:
    """Which notes the case page shows: a page of them (from 1), of one category or all."""

    page: int = 1
    category: str | None = None


def get_case(actor: User, case_ref, purpose: str = "Fallbearbeitung", notes: NoteChoice | None = None) -> CaseView:
    """Return the case with the notes and goals the viewer may see; audited. With `notes`, only that page of notes
    is read and opened (a case of years holds hundreds); without, all."""
    case, access = load_case_for(actor, case_ref)
    cipher = ciphers_for([case.id]).get(case.id)
    view = _view(case, access, cipher, actor)
    rows = db.session.execute(_NOTES, {"case_id": case.id})
    visible = [n for n in rows if access.sees(n.category, n.author_agency_id)]
    for n in visible:
        view.note_counts[n.category] = view.note_counts.get(n.category, 0) + 1
    if notes is None:
        notes = visible
    else:
        chosen = [n for n in visible if notes.category in (None, n.category)]
        start = (notes.page - 1) * NOTES_PAGE
        notes, view.notes_more = chosen[start : start + NOTES_PAGE], len(chosen) > start + NOTES_PAGE
    lead_worker = case.case_worker_id if access.is_lead else None
    names = user_names({n.author_id for n in notes} | {lead_worker})
    view.case_worker = names.get(lead_worker)
    codes = agency_codes()
    for n in notes:
        text = cipher.read("notes", n.id, "text", n.text_enc, actor) if cipher and n.withdrawn_at is None else ""
        view.notes.append(
            NoteView(
                n.id,
                n.category,
                text,
                codes.get(n.author_agency_id, "?"),
                names.get(n.author_id, ""),
                n.created_at,
                n.withdrawn_at,
                n.withdraw_reason,
                n.author_agency_id == actor.agency_id,
            )
        )
    goals = db.session.scalars(_GOALS, {"case_id": case.id}).all()
    view.goals = [g for g in goals if _goal_visible(g, access)]
    seen = sorted(access.categories | {n.category for n in view.notes})
    audit.record("case.read", actor=actor, case_id=case.id, categories=seen, purpose=purpose)
    return view


@dataclass(frozen=True)
class AgencyConsent:
    """Where the consent of a case stands for one agency, to say why categories are hidden: "none" (no consent
    ever named it), or the status of the newest version that did (active, revoked, expired, pending; "replaced"
    when a later version no longer names the agency), with the day that status began."""

    status: str
    since: date | None = None


def why_hidden(actor: User, view: CaseView) -> AgencyConsent | None:
    """Why the viewer's agency sees categories of the case hidden, where the consent says it (one query); None
    when nothing is hidden. For the lead agency, whose hidden categories are those of other agencies' notes: where
    the case's consent stands as a whole (whether the case is shared with anyone at all)."""
    if not view.access.hidden():
        return None
    return agency_consent(view.id, None if view.access.is_lead else actor.agency_id)


def agency_consent(case_id: int, agency_id: int | None) -> AgencyConsent:
    """One query: the newest consent version of the case with a grant for the agency (any agency: None)."""
    granting = Consent.case_id == case_id
    if agency_id is not None:
        granting &= Consent.id.in_(select(ConsentGrant.consent_id).where(ConsentGrant.agency_id == agency_id))
    newest = select(Consent).where(granting).order_by(Consent.version.desc(), Consent.id.desc()).limit(1)
    # its status is all that is asked: not its grants, which the model would load with it in a query of their own
    consent = db.session.scalar(newest.options(lazyload(Consent.grants)))
    if consent is None:
        return AgencyConsent("none")
    status = consent.status_at(utcnow())
    if status == "revoked" and db.session.scalar(select(exists().where(Consent.supersedes_id == consent.id))):
        status = "replaced"  # ended by a later version, not by the client's revocation
    since = {
        "revoked": localtime.to_local(consent.revoked_at).date() if consent.revoked_at else None,
        "replaced": localtime.to_local(consent.revoked_at).date() if consent.revoked_at else None,
        "expired": consent.valid_until + timedelta(days=1),
        "pending": consent.valid_from,
    }.get(status)
    return AgencyConsent(status, since)


# How long before its consent ends a case page says so (the lead agency's dashboard lists such consents as long).
EXPIRY_NOTICE_DAYS = 30
# The last day an active consent of the case shares it (with anyone, or with one agency): built once (see `bound`).
_ACTIVE_UNTIL = select(func.max(Consent.valid_until)).where(
    Consent.case_id == bindparam("case_id"), active_consent_clause(bindparam("now"), today=bindparam("today"))
)
_ACTIVE_UNTIL_FOR_AGENCY = _ACTIVE_UNTIL.where(
    Consent.id.in_(select(ConsentGrant.consent_id).where(ConsentGrant.agency_id == bindparam("agency_id")))
)


def expiry_notice_until() -> date:
    """The last day a consent may end on and still be announced today (EXPIRY_NOTICE_DAYS ahead)."""
    return localtime.today() + timedelta(days=EXPIRY_NOTICE_DAYS)


def sharing_ends(actor: User, view: CaseView) -> date | None:
    """The last day the case's consent shares it – with the viewer's agency, or, for the lead agency, with anyone –
    when that is at most EXPIRY_NOTICE_DAYS away; None otherwise. One query, and only where a consent shares the
    case with the viewer's agency at all."""
    access = view.access
    if not access.shared:
        return None
    at = now()
    params = {"case_id": view.id, "now": at, "today": localtime.local_date(at), "agency_id": actor.agency_id}
    until = db.session.scalar(_ACTIVE_UNTIL if access.is_lead else _ACTIVE_UNTIL_FOR_AGENCY, params)
    return until if until is not None and until <= expiry_notice_until() else None


def _goal_visible(goal: Goal, access: Access) -> bool:
    """A goal is an entry like a note: its writer sees it, everyone else by consent for its Handlungsfeld's
    category. Being named responsible opens nothing (`add_goal` names only an agency that sees the goal)."""
    return access.sees(FIELD_CATEGORY[goal.field], goal.author_agency_id)


@dataclass
class CaseRow:
    """One line of the case list as the viewer may see it."""

    id: int
    number: str
    lead_code: str
    access: Access
    display_name: str | None
    residence_status: str | None
    fields: list[str]
    closed_on: date | None = None  # closed by its lead agency; erased when the retention period ends


@dataclass
class CasePage:
    rows: list[CaseRow]
    page: int
    has_next: bool
    total: int | None = None


# The case list's stand: open cases (the everyday list), closed ones (the retention period runs), or both.
CASE_STANDS = ("offen", "abgeschlossen", "alle")


@functools.cache
def _list_statements(
    role: str, search: str | None, lead: bool, field_code: bool, rechtskreis: bool, stand: str
) -> tuple:
    """The case list's page and count statements for one shape of request, built once (see `bound`)."""
    viewer, at, today = bound(role)
    # Names, Handlungsfelder and Rechtskreise are Stammdaten: searching or filtering by them over cases whose
    # Stammdaten the viewer may not see would tell her what they are. Those cases are a subset of the ones she
    # may list, so that condition alone (without the wider one, which costs a look at her notes and goals for
    # every case found) decides.
    master_data = search == "name" or field_code or rechtskreis
    stmt = select(
        Case.id,
        Case.number,
        Case.lead_agency_id,
        Case.given_name_enc,
        Case.family_name_enc,
        Case.residence_status,
        Case.fields,
        Case.closed_on,
    ).where(listable_cases_clause(viewer, at, "stammdaten" if master_data else None, today=today))
    if search == "number":
        stmt = stmt.where(Case.number.like(bindparam("number"), escape="\\"))
    elif search == "name":
        matching = (
            select(CaseNameToken.case_id)
            .where(CaseNameToken.token.in_(bindparam("tokens", expanding=True)))
            .group_by(CaseNameToken.case_id)
            .having(func.count() == bindparam("token_count"))
        )
        stmt = stmt.where(Case.id.in_(matching))
    if lead:
        stmt = stmt.where(Case.lead_agency_id.in_(select(Agency.id).where(Agency.code == bindparam("lead_code"))))
    if field_code:
        stmt = stmt.where(Case.fields.like(bindparam("field"), escape="\\"))
    if rechtskreis:
        stmt = stmt.where(Case.rechtskreise.like(bindparam("rechtskreis"), escape="\\"))
    if stand == "offen":
        # `+ 0` keeps the planner off the index of closed_on: nearly every case is open, and walked through that
        # index the list read and sorted them all for each page, instead of taking the page from the index of the
        # case numbers (the benchmark's list of 10,000 cases fell from some 160 to 25 requests per second)
        stmt = stmt.where((Case.closed_on + 0).is_(None))
    elif stand == "abgeschlossen":
        stmt = stmt.where(Case.closed_on.is_not(None))
    counting = select(func.count()).select_from(stmt.subquery())
    listing = stmt.order_by(Case.number.desc()).limit(bindparam("limit")).offset(bindparam("offset"))
    return listing, counting


def list_cases(
    actor: User,
    *,
    query: str = "",
    lead_agency: str = "",
    field_code: str = "",
    rechtskreis: str = "",
    stand: str = "alle",
    page: int = 1,
    per_page: int = 25,
    with_total: bool = False,
    purpose: str = "Fallübersicht",
) -> CasePage:
    """List and search the cases the viewer may see; names only where Stammdaten are visible. `stand` narrows
    the list to open ("offen") or closed ("abgeschlossen") cases; "alle" lists both."""
    if stand not in CASE_STANDS:
        raise InvalidInput("Bitte wählen Sie offene, abgeschlossene oder alle Fälle.")
    viewer = viewer_of(actor)
    params = bound_params(viewer, now())
    search_kind = None
    query = (query or "").strip()
    if query:
        if query.upper().startswith("FK-") or query[:1] in "0123456789":
            search_kind = "number"
            params["number"] = f"%{escape_like(query.upper())}%"
        else:
            search_kind = "name"
            tokens = keyring().blind_tokens(query, prefixes=False)
            if not tokens:
                raise InvalidInput("Bitte geben Sie einen Namen oder eine Fallnummer ein.")
            params |= {"tokens": list(tokens), "token_count": len(tokens)}
    if lead_agency:
        params["lead_code"] = lead_agency
    if field_code:
        params["field"] = f"%{escape_like(field_code)}%"
    if rechtskreis:
        params["rechtskreis"] = f"%{escape_like(rechtskreis)}%"
    shape = (viewer.role, search_kind, bool(lead_agency), bool(field_code), bool(rechtskreis), stand)
    listing, counting = _list_statements(*shape)
    total = db.session.scalar(counting, params) if with_total else None
    page = max(1, page)
    params |= {"limit": per_page + 1, "offset": (page - 1) * per_page}
    found = db.session.execute(listing, params).all()
    has_next, found = len(found) > per_page, found[:per_page]
    ids = [r.id for r in found]
    granted: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for case_id, _, category in db.session.execute(*active_grants(viewer, ids, params["now"])):
            granted[case_id].add(category)
    codes = agency_codes() if found else {}
    ciphers = ciphers_for(ids)
    rows = []
    for r in found:
        access = access_from_grants(viewer, r.lead_agency_id, granted[r.id], authored=True)
        name = residence = None
        if access.sees_record_field("stammdaten") and r.id in ciphers:
            cipher = ciphers[r.id]
            given = cipher.read("cases", r.id, "given_name", r.given_name_enc, actor) or ""
            family = cipher.read("cases", r.id, "family_name", r.family_name_enc, actor) or ""
            name = f"{given} {family}".strip()
        if access.sees_record_field("aufenthalt"):
            residence = r.residence_status
        fields = [f for f in r.fields.split(",") if f] if access.sees_record_field("stammdaten") else []
        lead = codes.get(r.lead_agency_id, "?")
        rows.append(CaseRow(r.id, r.number, lead, access, name, residence, fields, r.closed_on))
    shown = [r.id for r in rows if r.display_name is not None]
    categories = ["stammdaten"] if shown else []
    if any(r.residence_status for r in rows):
        categories.append("aufenthalt")
    audit.record(
        "case.list",
        actor=actor,
        categories=categories,
        purpose=purpose,
        detail={"listed": ids, "names_shown": shown, "search": search_kind},
        # in the access reports: the cases whose name or residence status the list showed
        case_ids=[r.id for r in rows if r.display_name is not None or r.residence_status is not None],
    )
    return CasePage(rows, page, has_next, total)


# An erased case is shared with nobody: it is missing here, and so every agency's access to it is NO_ACCESS.
_LEADS = select(Case.id, Case.lead_agency_id).where(
    Case.id.in_(bindparam("case_ids", expanding=True)), Case.erased_at.is_(None)
)
_AUTHORED_BY_AGENCY = union(
    select(Note.case_id, Note.author_agency_id).where(
        Note.case_id.in_(bindparam("case_ids", expanding=True)),
        Note.author_agency_id.in_(bindparam("agency_ids", expanding=True)),
        Note.withdrawn_at.is_(None),
    ),
    select(Goal.case_id, Goal.author_agency_id).where(
        Goal.case_id.in_(bindparam("case_ids", expanding=True)),
        Goal.author_agency_id.in_(bindparam("agency_ids", expanding=True)),
    ),
)


# Words of running German text (as the blind index folds them) that are looked up as no name: the index holds
# every name's prefixes of three letters and more, so "den" would find each "Deniz", "mit" each "Mitra".
_FUNCTION_WORDS = (
    "der die das den dem des ein eine einer eines einem einen und oder aber mit hat hatte haben ist sind "
    "war waren wird werden wurde auf aus bei bis fur uber unter vor nach seit von vom zum zur ins nicht "
    "noch auch schon nur sehr kein keine keinen sich sie ihr ihre ihren ihm ihn wir uns man wie was wer "
    "wann weil wenn dass als ohne gegen durch hier dort jetzt dann denn doch mehr viel alle alles jede "
    "jeder jedes diese dieser dieses beim herr herrn frau kann konnen muss mussen soll sollen gibt geht "
    "seine seiner sein"
)
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


def clients_named_in(text: str, actor: User, *, limit: int) -> list[int]:
    """Cases whose client the text may name (a word of it in the blind index, nothing decrypted), among the cases
    whose master data the actor's agency sees: no others, so that a hit never tells her of a client she may not
    know. The index cannot tell a whole name part from the prefix of a longer one, so the cases come ranked by the
    longest word that found them (a surname before a short word that merely begins a name), at most `limit`."""
    lengths: dict[bytes, int] = {}
    for word in normalize_name(text or "").split():
        if len(word) >= 3 and word not in FUNCTION_WORDS:
            for token in keyring().blind_tokens(word, prefixes=False):
                lengths[token] = max(lengths.get(token, 0), len(word))
    if not lengths:
        return []
    rows = db.session.execute(
        select(CaseNameToken.case_id, CaseNameToken.token)
        .join(Case, Case.id == CaseNameToken.case_id)
        .where(CaseNameToken.token.in_(list(lengths)), listable_cases_clause(viewer_of(actor), now(), "stammdaten"))
    ).all()
    score: dict[int, int] = {}
    for case_id, token in rows:
        score[case_id] = max(score.get(case_id, 0), lengths[bytes(token)])
    return sorted(score, key=lambda case_id: (-score[case_id], case_id))[:limit]


def agency_access(case_ids, agency_ids, at: datetime | None = None) -> dict[tuple[int, int], Access]:
    """What each agency's case workers may see of each case, in three queries (for agendas)."""
    case_ids, agency_ids = list(set(case_ids)), list(set(agency_ids))
    if not case_ids or not agency_ids:
        return {}
    at = at or now()
    params = {"case_ids": case_ids, "agency_ids": agency_ids}
    leads = dict(db.session.execute(_LEADS, params).all())
    granted: dict[tuple[int, int], set[str]] = {}
    for case_id, agency_id, category in db.session.execute(*active_grants_by_agency(case_ids, agency_ids, at)):
        granted.setdefault((case_id, agency_id), set()).add(category)
    authored = set(db.session.execute(_AUTHORED_BY_AGENCY, params).all())
    out = {}
    for case_id in leads:
        for agency_id in agency_ids:
            viewer = Viewer(user_id=0, agency_id=agency_id, role="case_worker")
            key = (case_id, agency_id)
            out[key] = access_from_grants(viewer, leads[case_id], granted.get(key, ()), authored=key in authored)
    return out


def shared_with(user: User, case_id: int, table: dict[tuple[int, int], Access]) -> bool:
    """Whether the case is shared with the user's agency (lead or consent, see `Access.shared`) and the user works
    with cases, from a table of `agency_access` that covers her agency."""
    return for_viewer(viewer_of(user), table.get((case_id, user.agency_id), NO_ACCESS)).shared


def agency_shares(agency_id: int, case_id: int) -> bool:
    """Whether the case is shared with the agency (lead or active consent), whoever of it asks."""
    return agency_access([case_id], [agency_id]).get((case_id, agency_id), NO_ACCESS).shared


def shares_case(user: User, case_id: int) -> bool:
    """`shared_with` for one case (three small queries)."""
    return shared_with(user, case_id, agency_access([case_id], [user.agency_id]))


def case_id_of(number: str) -> int | None:
    """The internal id of a case number, for the data-protection officer's audit filter: an identifier only, no
    content; nobody else is given this lookup."""
    return db.session.scalar(select(Case.id).where(Case.number == (number or "").strip().upper()))


def next_case_number(year: int) -> tuple[int, str]:
    seq = (db.session.scalar(select(func.max(Case.seq)).where(Case.year == year)) or 0) + 1
    if seq > 9999:
        raise InvalidInput("Für dieses Jahr sind keine Fallnummern mehr frei.")
    return seq, f"FK-{year}-{seq:04d}"


def _index_names(case_id: int, *names: str) -> None:
    db.session.query(CaseNameToken).filter(CaseNameToken.case_id == case_id).delete()
    tokens = set()
    for name in names:
        tokens |= keyring().blind_tokens(name or "")
    db.session.add_all(CaseNameToken(case_id=case_id, token=t) for t in tokens)


def may_create(actor: User) -> bool:
    """Only case workers and moderators open cases."""
    return may_create_case(viewer_of(actor))


def ensure_may_create(actor: User) -> None:
    if not may_create(actor):
        raise NotFound()


DUPLICATES_SHOWN = 5
DUPLICATES_SEARCHED = 200  # cases found by the name's parts (the index also finds names they begin) looked at


def _same_name(a: str, b: str) -> bool:
    return normalize_name(a).split() == normalize_name(b).split()


def possible_duplicates(actor: User, given: str, family: str, birth_date: date | None) -> list[CaseRow]:
    """Open cases whose client may be the person of a new case: the same name (found through the blind index,
    then compared in full: "Ali" is no "Alina") and, where both are known, the same birth date. Only cases whose
    master data the actor's agency sees: a case it may not see stays unknown to it, also here."""
    name = f"{given or ''} {family or ''}".strip()
    if not keyring().blind_tokens(name, prefixes=False):
        return []
    found = list_cases(
        actor, query=name, stand="offen", per_page=DUPLICATES_SEARCHED, purpose="Prüfung auf einen doppelten Fall"
    )
    rows = [r for r in found.rows if r.display_name and _same_name(r.display_name, name)]
    if birth_date is None or not rows:
        return rows[:DUPLICATES_SHOWN]
    ciphers = ciphers_for([r.id for r in rows])
    born = dict(db.session.execute(select(Case.id, Case.birth_date_enc).where(Case.id.in_([r.id for r in rows]))).all())
    same = []
    for r in rows:
        known = ciphers[r.id].read("cases", r.id, "birth_date", born[r.id], actor) if r.id in ciphers else None
        if not known or known == birth_date.isoformat():
            same.append(r)
    return same[:DUPLICATES_SHOWN]


class KnownClient(DomainError):
    """The new case's client may be one the agency has a case for already: those cases, to look at first."""

    status = 409

    def __init__(self, cases: list[CaseRow]):
        super().__init__("Für diese Person gibt es vielleicht schon einen Fall.")
        self.cases = cases


def create_case(actor: User, data: dict, *, ask_if_known: bool = False) -> Case:
    """Open a new case led by the actor's agency; the actor becomes the responsible case worker. `ask_if_known`
    (the form, until the worker confirms that it is someone else): the same person twice makes two half records,
    so a client already known is named before a second case is opened."""
    ensure_may_create(actor)
    _check_master(data)
    if ask_if_known and (
        known := possible_duplicates(actor, data.get("given_name"), data.get("family_name"), data.get("birth_date"))
    ):
        raise KnownClient(known)
    year = data.get("year") or localtime.today().year
    seq, number = next_case_number(year)
    case = Case(number=number, year=year, seq=seq, lead_agency_id=actor.agency_id, case_worker_id=actor.id)
    db.session.add(case)
    db.session.flush()
    cipher = create_case_key(case.id)
    _apply_master(case, cipher, data)
    audit.record("case.create", actor=actor, case_id=case.id, categories=["stammdaten", "aufenthalt"])
    return case


def _check_master(data: dict) -> None:
    """What the form checks, checked again for every caller (the API too)."""
    born = data.get("birth_date")
    if isinstance(born, date) and born > localtime.today():
        raise InvalidInput(errors={"birth_date": "Das Geburtsdatum darf nicht in der Zukunft liegen."})
    if isinstance(born, date) and born.year < 1900:
        raise InvalidInput(errors={"birth_date": "Bitte prüfen Sie das Geburtsdatum (vor 1900)."})


def _apply_master(case: Case, cipher: CaseCipher, data: dict) -> None:
    for name in ENCRYPTED_MASTER_FIELDS:
        value = data.get(name)
        if isinstance(value, date):
            value = value.isoformat()
        setattr(case, f"{name}_enc", cipher.encrypt("cases", case.id, name, value or ""))
    case.nationality = data.get("nationality") or ""
    case.languages = (
        ", ".join(data.get("languages") or [])
        if isinstance(data.get("languages"), list)
        else (data.get("languages") or "")
    )
    case.interpreter_needed = bool(data.get("interpreter_needed"))
    case.residence_status = data.get("residence_status") or ""
    case.residence_valid_until = data.get("residence_valid_until")
    case.rechtskreise = ",".join(data.get("rechtskreise") or [])
    case.fields = ",".join(data.get("fields") or [])
    case.updated_at = utcnow()
    _index_names(case.id, data.get("given_name") or "", data.get("family_name") or "")


def master_input(view: CaseView) -> dict:
    """The master data of a case as `update_case` takes it: what a change starts from (the form's fields, or an
    API change that names only some of them)."""
    data = dict(view.master)
    if data.get("birth_date"):
        try:
            data["birth_date"] = date.fromisoformat(data["birth_date"])
        except ValueError:
            data["birth_date"] = None
    data["residence_status"] = view.residence.get("status")
    data["residence_valid_until"] = view.residence.get("valid_until")
    data["rechtskreise"] = view.rechtskreise
    data["fields"] = view.fields
    return data


def update_case(actor: User, case_ref, data: dict) -> Case:
    """Change the case record; only the lead agency edits master data."""
    case, access = load_case_for(actor, case_ref)
    if not access.is_lead:
        raise Forbidden("Nur die federführende Stelle kann die Stammdaten ändern.")
    _check_master(data)
    # An erasure running meanwhile holds this row (PostgreSQL): wait for it, then write nothing into an erased
    # case (no names into its index again). SQLite writes one transaction at a time anyway.
    if db.session.scalar(select(Case.erased_at).where(Case.id == case.id).with_for_update(of=Case)) is not None:
        raise NotFound("Fall nicht gefunden.")
    cipher = ciphers_for([case.id])[case.id]
    _apply_master(case, cipher, data)
    audit.record("case.update", actor=actor, case_id=case.id, categories=["stammdaten", "aufenthalt"])
    return case


def add_note(actor: User, case_ref, category: str, text: str) -> Note:
    """Write a note in a data category; the author's agency always sees it."""
    case, access = load_case_for(actor, case_ref)
    access.sees(category, actor.agency_id)  # validates the category
    return import_note(case, actor, category, text)


def import_note(case: Case, author: User, category: str, text: str) -> Note:
    """Store an encrypted, audited note without an access check: for add_note and data imports only."""
    note = Note(
        case_id=case.id, author_id=author.id, author_agency_id=author.agency_id, category=category, text_enc=b""
    )
    db.session.add(note)
    db.session.flush()
    cipher = ciphers_for([case.id])[case.id]
    note.text_enc = cipher.encrypt("notes", note.id, "text", text)
    audit.record("note.create", actor=author, case_id=case.id, categories=[category], detail={"note": note.id})
    return note


def withdraw_note(actor: User, case_ref, note_id: int, reason: str) -> Note:
    """Withdraw a note of the actor's agency: its text is destroyed at once (the ciphertext is gone), the note
    stays as a trace – who wrote it when, in which category, who withdrew it when and why – for those who saw it.
    For a note filed under the wrong category or case: the agencies that should not have read it read it no more."""
    case, _ = load_case_for(actor, case_ref)
    note = db.session.get(Note, note_id)
    if note is None or note.case_id != case.id or note.author_agency_id != actor.agency_id:
        # another agency's note is not this agency's to withdraw; whether it exists is not its business either
        raise NotFound("Vermerk nicht gefunden.")
    if reason not in NOTE_WITHDRAW_REASONS:
        raise InvalidInput(errors={"reason": "Bitte wählen Sie, warum der Vermerk zurückgezogen wird."})
    if note.withdrawn_at is not None:
        raise Conflict("Dieser Vermerk ist bereits zurückgezogen.")
    note.text_enc, note.withdrawn_at, note.withdrawn_by_id, note.withdraw_reason = b"", utcnow(), actor.id, reason
    audit.record(
        "note.withdraw",
        actor=actor,
        case_id=case.id,
        categories=[note.category],
        detail={"note": note.id, "reason": reason},
    )
    return note


def add_goal(actor: User, case_ref, data: dict) -> Goal:
    """Add a goal of the integration plan, for the writer's agency or one that would see it."""
    case, access = load_case_for(actor, case_ref)
    if data.get("due_date") is not None and data["due_date"] < localtime.today():
        raise InvalidInput(errors={"due_date": "Das Zieldatum darf nicht in der Vergangenheit liegen."})
    _check_goal_agency(case.id, access, data["responsible_agency_id"], data["field"])
    return import_goal(case, actor, data)


def import_goal(case: Case, author: User, data: dict) -> Goal:
    """Store an audited goal without checks: for add_goal and data imports (goals set while a consent was in
    force) only."""
    goal = Goal(
        case_id=case.id,
        title=data["title"],
        field=data["field"],
        responsible_agency_id=data["responsible_agency_id"],
        author_agency_id=author.agency_id,
        due_date=data.get("due_date"),
        status=data.get("status") or "offen",
    )
    db.session.add(goal)
    db.session.flush()
    audit.record(
        "goal.create", actor=author, case_id=case.id, categories=[FIELD_CATEGORY[goal.field]], detail={"goal": goal.id}
    )
    return goal


def _check_goal_agency(case_id: int, access: Access, agency_id: int, field_code: str) -> None:
    """Another agency can be made responsible only if it would see the goal, and only by the case team: the refusal
    says which agency lacks which consent, and that is for the team to know."""
    if agency_id == access.agency_id:
        return
    category = FIELD_CATEGORY[field_code]
    if not access.shared:
        raise InvalidInput(
            errors={
                "responsible_agency_id": "Ziele für andere Stellen legt das Fallteam an (Federführung oder Stellen "
                "mit Einwilligung). Bitte Ihre eigene Stelle wählen."
            }
        )
    if not agency_access([case_id], [agency_id]).get((case_id, agency_id), NO_ACCESS).sees(category):
        code = agency_codes().get(agency_id, "Die Stelle")
        raise InvalidInput(
            errors={
                "responsible_agency_id": f"{code} hat für diesen Fall keine Einwilligung für „{CATEGORIES[category]}“ "
                "und sähe das Ziel nicht. Bitte eine andere Stelle wählen."
            }
        )


GOAL_CONTENT = ("title", "field", "responsible_agency_id", "due_date")
GOAL_EDIT_REFUSED = "Ein Ziel ändert die Stelle, die es angelegt hat; den Status kann jede Stelle ändern, die es sieht."


def _visible_goal(actor: User, case_ref, goal_id: int) -> tuple[Case, Access, Goal]:
    case, access = load_case_for(actor, case_ref)
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.case_id != case.id or not _goal_visible(goal, access):
        raise NotFound("Ziel nicht gefunden.")
    return case, access, goal


def may_edit_goal(actor: User, goal: Goal) -> bool:
    """What a goal says is its writer's agency's to change; its status, every agency's that sees it."""
    return goal.author_agency_id == actor.agency_id


def goal_to_edit(actor: User, case_ref, goal_id: int) -> tuple[Case, Goal]:
    """The goal for its edit form (a read of the goal, on record); only its writer's agency edits it."""
    case, _access, goal = _visible_goal(actor, case_ref, goal_id)
    if not may_edit_goal(actor, goal):
        raise Forbidden(GOAL_EDIT_REFUSED)
    audit.record(
        "case.read",
        actor=actor,
        case_id=case.id,
        categories=[FIELD_CATEGORY[goal.field]],
        purpose="Ziel bearbeiten",
        detail={"goal": goal.id},
    )
    return case, goal


def edit_goal(actor: User, case_ref, goal_id: int, data: dict) -> list[str]:
    """Change what a goal says (title, Handlungsfeld, responsible agency, target date) under the rules for a new
    goal; a target date already passed may stay as it is. Returns the fields that changed (none: nothing is
    recorded)."""
    case, access, goal = _visible_goal(actor, case_ref, goal_id)
    if not may_edit_goal(actor, goal):
        raise Forbidden(GOAL_EDIT_REFUSED)
    changed = [key for key in GOAL_CONTENT if data[key] != getattr(goal, key)]
    if not changed:
        return []
    if "due_date" in changed and data["due_date"] is not None and data["due_date"] < localtime.today():
        raise InvalidInput(errors={"due_date": "Das Zieldatum darf nicht in der Vergangenheit liegen."})
    if {"field", "responsible_agency_id"} & set(changed):
        _check_goal_agency(case.id, access, data["responsible_agency_id"], data["field"])
    categories = {FIELD_CATEGORY[goal.field], FIELD_CATEGORY[data["field"]]}  # what it was and what it is now
    for key in changed:
        setattr(goal, key, data[key])
    goal.updated_at = utcnow()
    audit.record(
        "goal.update", actor=actor, case_id=case.id, categories=categories, detail={"goal": goal.id, "fields": changed}
    )
    return changed


def set_goal_status(actor: User, case_ref, goal_id: int, status: str) -> Goal:
    """Move a goal to a new status; the viewer must see the goal."""
    case, _access, goal = _visible_goal(actor, case_ref, goal_id)
    goal.status = status
    goal.updated_at = utcnow()
    audit.record(
        "goal.update",
        actor=actor,
        case_id=case.id,
        categories=[FIELD_CATEGORY[goal.field]],
        detail={"goal": goal.id, "status": status},
    )
    return goal


def access_report(actor: User, case_ref) -> tuple[Case, list[dict]]:
    """Who accessed the case when and which categories; for the lead agency only. The same access repeated on one
    day (a dashboard opened again and again, say) is one row with its count and the time of the first."""
    case, access = load_case_for(actor, case_ref)
    if not access.is_lead:
        raise Forbidden("Den Zugriffsbericht sieht nur die federführende Stelle.")
    rows = db.session.execute(
        select(AuditEvent, User.display_name, Agency.code)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Agency, Agency.id == AuditEvent.agency_id)
        .where(audit.about_case(case.id))
        .order_by(AuditEvent.id.desc())
        .limit(500)
    ).all()
    audit.record("case.access_report", actor=actor, case_id=case.id, purpose="Zugriffsauskunft")
    out: list[dict] = []
    for ev, name, code in rows:  # newest first
        key = (
            ev.actor_id,
            ev.agency_id,
            ev.action,
            ev.categories,
            ev.purpose,
            localtime.to_local(ev.created_at).date(),
        )
        if out and out[-1]["key"] == key:
            out[-1]["count"] += 1
            out[-1]["first"] = ev.created_at
        else:
            out.append({"key": key, "event": ev, "user": name or "—", "agency": code or "—", "count": 1, "first": None})
    return case, out
