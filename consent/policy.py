"""THE access policy: the one place that decides which case data an agency's user may see.

Pure functions over explicit states, deny by default; an unknown role raises instead of guessing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, exists, func, or_, select

from fallkonferenz.localtime import local_date
from fallkonferenz.models import Case, Goal, Note
from fallkonferenz.vocab import CASE_ROLES, CATEGORIES, ROLES

from .models import Consent, ConsentGrant


class UnknownState(ValueError):
    """The policy was asked about a role or category it does not know."""


@dataclass(frozen=True)
class Viewer:
    user_id: int
    agency_id: int
    role: str


@dataclass(frozen=True)
class Access:
    """What one viewer may see of one case."""

    agency_id: int
    is_lead: bool
    categories: frozenset[str]
    authored: bool = False

    @property
    def visible(self) -> bool:
        """Whether the case exists for this viewer at all (its own entries are enough for that)."""
        return self.is_lead or bool(self.categories) or self.authored

    @property
    def shared(self) -> bool:
        """Whether the case is shared with this agency: it leads the case, or an active consent grants it a
        category. Only then is it on the case's team and sees what the team wrote together: the case's items in
        conferences, their minutes, decisions and tasks. Entries the agency wrote itself keep the case in its own
        lists, but open nothing that others wrote; a revoked consent closes all of that."""
        return self.is_lead or bool(self.categories)

    def sees(self, category: str, author_agency_id: int | None = None) -> bool:
        """Whether an entry of this category (written by that agency) is visible."""
        if category not in CATEGORIES:
            raise UnknownState(f"unknown category {category!r}")
        return author_agency_id == self.agency_id or category in self.categories

    def sees_record_field(self, category: str) -> bool:
        """Fields of the case record itself are written by the lead agency."""
        return self.is_lead or self.sees(category)

    def hidden(self) -> list[str]:
        return [c for c in CATEGORIES if c not in self.categories]


NO_ACCESS = Access(agency_id=0, is_lead=False, categories=frozenset())


def viewer_of(user) -> Viewer:
    """The policy's view of a user (a `Viewer` is returned as it is: who a socket connected as, say)."""
    if isinstance(user, Viewer):
        return user
    return Viewer(user_id=user.id, agency_id=user.agency_id, role=user.role)


def _works_with_cases(viewer: Viewer) -> bool:
    if viewer.role not in ROLES:
        raise UnknownState(f"unknown role {viewer.role!r}")
    return viewer.role in CASE_ROLES


def consented_categories(agency_id: int, consents: Iterable[Consent], now: datetime) -> frozenset[str]:
    """Categories that active consents grant this agency."""
    granted: set[str] = set()
    for consent in consents:
        if consent.is_active_at(now):
            granted.update(g.category for g in consent.grants if g.agency_id == agency_id)
    return frozenset(granted)


def case_access(
    viewer: Viewer,
    lead_agency_id: int,
    consents: Iterable[Consent],
    now: datetime,
    authored: bool = False,
) -> Access:
    """Decide what the viewer may see of a case with this lead agency and these consents."""
    if not _works_with_cases(viewer):
        return NO_ACCESS
    return access_from_grants(viewer, lead_agency_id, consented_categories(viewer.agency_id, consents, now), authored)


def access_from_grants(viewer: Viewer, lead_agency_id: int, granted: Iterable[str], authored: bool = False) -> Access:
    """Decide from the categories that active consents grant the viewer's agency (see active_grants)."""
    if not _works_with_cases(viewer):
        return NO_ACCESS
    categories = set(granted)
    is_lead = viewer.agency_id == lead_agency_id
    if is_lead:
        categories.add("stammdaten")
    return Access(viewer.agency_id, is_lead, frozenset(categories), authored)


def active_grants(viewer: Viewer, case_ids, now: datetime) -> tuple:
    """SQL and its parameters: (case_id, agency_id, category) rows that active consents grant the viewer's agency
    for these cases. Run as `db.session.execute(*active_grants(...))`."""
    return active_grants_by_agency(case_ids, [viewer.agency_id], now)


def bound(role: str) -> tuple[Viewer, object, object]:
    """A viewer of `role` whose ids are the bound parameters user_id and agency_id, with `now` and `today`.

    For statements built once per role and run with each request's values: building a statement such as the case
    list's costs several times what running it does (SQLAlchemy also keys its compiled cache on each new one).
    """
    viewer = Viewer(user_id=bindparam("user_id"), agency_id=bindparam("agency_id"), role=role)
    return viewer, bindparam("now"), bindparam("today")


def bound_params(viewer: Viewer, now: datetime) -> dict:
    """The values of `bound`'s parameters for one viewer at one time."""
    return {"user_id": viewer.user_id, "agency_id": viewer.agency_id, "now": now, "today": local_date(now)}


def _unindexed(column):
    """`column + 0`: keeps the planner from starting at the (agency, category) index, which would walk every
    grant of the agency; starting from the few consents of the cases asked about is what is fast."""
    return column + 0


def active_consent_clause(now: datetime, today=None):
    """SQL condition: the consent row is active at `now` (`today` may be given as a bound parameter, with `now`)."""
    today = local_date(now) if today is None else today
    return and_(
        or_(Consent.revoked_at.is_(None), Consent.revoked_at > now),
        Consent.valid_from <= today,
        Consent.valid_until >= today,
    )


def next_revocation(now: datetime):
    """SQL: the earliest revocation that takes effect after `now`, or NULL. Revocations take effect when made, but
    the clock of the process that made one may run ahead of this one's, or a time may be set by hand."""
    return select(func.min(Consent.revoked_at)).where(Consent.revoked_at > now)


def _per_case(query):
    """EXISTS, answered for each case the outer query looks at (`OFFSET 0` keeps PostgreSQL from answering it for
    all cases at once, by hashing every grant, note or goal of the agency: the case list stops after 26 cases, and
    the hash of all 8,605 notes of one agency cost 6 ms a page). SQLite plans it as before."""
    return exists(query.offset(0))


def listable_cases_clause(
    viewer: Viewer, now: datetime, category: str | None = None, *, today=None, own_entries: bool = True
):
    """SQL condition on Case: the cases this viewer may list and count (or see `category` of). Without
    `own_entries`, the cases shared with the viewer's agency (see `Access.shared`): its own notes and goals in a
    case do not count.

    The viewer's ids, `now` and `today` may be bound parameters, so that a statement built on this clause can be
    built once and run for any viewer of a case-working role.
    """
    if not _works_with_cases(viewer):
        return Case.id.is_(None)
    agency = viewer.agency_id
    grant_filter = [
        Consent.case_id == Case.id,
        _unindexed(ConsentGrant.agency_id) == agency,
        active_consent_clause(now, today),
    ]
    if category is not None:
        if category not in CATEGORIES:
            raise UnknownState(f"unknown category {category!r}")
        grant_filter.append(ConsentGrant.category == category)
    granted = _per_case(
        select(ConsentGrant.consent_id).join(Consent, Consent.id == ConsentGrant.consent_id).where(*grant_filter)
    )
    shared = or_(Case.lead_agency_id == agency, granted)
    kept = Case.erased_at.is_(None)  # an erased case is gone for everyone (see cases/retention.py)
    if category == "stammdaten" or (category is None and not own_entries):
        return and_(kept, shared)
    if category is not None:
        return and_(kept, granted)
    wrote_note = _per_case(  # a withdrawn note keeps no case in its agency's view
        select(Note.id).where(Note.case_id == Case.id, Note.author_agency_id == agency, Note.withdrawn_at.is_(None))
    )
    wrote_goal = _per_case(select(Goal.id).where(Goal.case_id == Case.id, Goal.author_agency_id == agency))
    return and_(kept, or_(shared, wrote_note, wrote_goal))


def active_grants_by_agency(case_ids, agency_ids, now: datetime) -> tuple:
    """SQL and its parameters: (case_id, agency_id, category) that active consents grant these agencies for these
    cases. Run as `db.session.execute(*active_grants_by_agency(...))`; the statement is built once (see `bound`)."""
    params = {"case_ids": list(case_ids), "agency_ids": list(agency_ids), "now": now, "today": local_date(now)}
    return _grants_statement(), params


@functools.cache
def _grants_statement():
    return (
        select(Consent.case_id, ConsentGrant.agency_id, ConsentGrant.category)
        .join(ConsentGrant, ConsentGrant.consent_id == Consent.id)
        .where(
            Consent.case_id.in_(bindparam("case_ids", expanding=True)),
            _unindexed(ConsentGrant.agency_id).in_(bindparam("agency_ids", expanding=True)),
            active_consent_clause(bindparam("now"), today=bindparam("today")),
        )
    )


def for_viewer(viewer: Viewer, access: Access) -> Access:
    """Narrow an agency's access to one user: roles without case work see nothing."""
    if not _works_with_cases(viewer) or access.agency_id != viewer.agency_id:
        return NO_ACCESS
    return access


def may_plan_conferences(viewer: Viewer, kind: str | None = None) -> bool:
    """Moderators (the KI coordination) plan conferences; steering members plan Lenkungsgruppe-Sitzungen."""
    if viewer.role == "steering":
        return kind in (None, "lenkungsgruppe")
    return viewer.role == "moderator"


def may_see_conference(viewer: Viewer, moderator_id: int, participant_ids) -> bool:
    """A conference exists for its moderator and its participants only."""
    return viewer.user_id == moderator_id or viewer.user_id in set(participant_ids)


def may_create_case(viewer: Viewer) -> bool:
    return _works_with_cases(viewer)


def may_read_audit(viewer: Viewer) -> bool:
    """Only the data-protection officer reads the whole audit log."""
    return viewer.role == "dpo"


def may_manage_users(viewer: Viewer) -> bool:
    return viewer.role == "admin"


def may_read_access_report(viewer: Viewer, access: Access) -> bool:
    """The lead agency sees who accessed its case."""
    return access.is_lead


# -- the Lenkungsgruppe backlog (de-identified; no case data) ----------------------------------------------


def may_read_backlog(viewer: Viewer) -> bool:
    """Every logged-in user reads the de-identified backlog."""
    if viewer.role not in ROLES:
        raise UnknownState(f"unknown role {viewer.role!r}")
    return True


def may_escalate(viewer: Viewer) -> bool:
    """Those who discuss cases raise structural problems from them."""
    return _works_with_cases(viewer)


def may_edit_backlog(viewer: Viewer) -> bool:
    """Steering-group members triage, move and merge items, run working groups and adopt recommendations."""
    return viewer.role == "steering"


def may_update_implementation(viewer: Viewer, agency_id: int) -> bool:
    """An agency's implementation status is reported by that agency's steering member."""
    return viewer.role == "steering" and viewer.agency_id == agency_id
