"""The policy matrix: 5 agencies × 6 categories × consent none/active/expired/future/revoked."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from consent.models import Consent, ConsentGrant
from consent.policy import (
    UnknownState,
    Viewer,
    access_from_grants,
    active_grants,
    case_access,
    listable_cases_clause,
    viewer_of,
)
from fallkonferenz.extensions import db
from fallkonferenz.models import Case, utcnow
from fallkonferenz.vocab import CATEGORIES
from tests.factories import CODES, make_case, make_consent, make_world

NOW = datetime(2026, 6, 1, 12, 0)
STATES = ["none", "active", "expired", "future", "revoked"]
AGENCY_IDS = {code: i + 1 for i, code in enumerate(CODES)}
LEAD = "KI"


def granted(code: str, category: str) -> bool:
    """A checkerboard of grants so that both outcomes occur for every agency and category."""
    return (CODES.index(code) + list(CATEGORIES).index(category)) % 2 == 0


def consent_in(state: str) -> list[Consent]:
    if state == "none":
        return []
    today = NOW.date()
    start, end, revoked = today - timedelta(days=30), today + timedelta(days=30), None
    if state == "expired":
        end = today - timedelta(days=1)
    elif state == "future":
        start = today + timedelta(days=1)
    elif state == "revoked":
        revoked = NOW - timedelta(hours=1)
    c = Consent(valid_from=start, valid_until=end, revoked_at=revoked, signed_on=date(2026, 1, 1))
    c.grants = [ConsentGrant(agency_id=AGENCY_IDS[a], category=k) for a in CODES for k in CATEGORIES if granted(a, k)]
    return [c]


def expected(state: str, code: str, category: str) -> bool:
    if code == LEAD and category == "stammdaten":
        return True
    return state == "active" and granted(code, category)


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("category", list(CATEGORIES))
def test_policy_matrix(ctx, state, code, category):
    viewer = Viewer(user_id=1, agency_id=AGENCY_IDS[code], role="case_worker")
    access = case_access(viewer, AGENCY_IDS[LEAD], consent_in(state), NOW)
    assert access.sees(category) is expected(state, code, category)
    # Another agency's entry is visible only by consent; one's own entries always.
    assert access.sees(category, author_agency_id=AGENCY_IDS[code]) is True


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("code", CODES)
def test_case_exists_only_with_something_visible(ctx, state, code):
    viewer = Viewer(user_id=1, agency_id=AGENCY_IDS[code], role="case_worker")
    access = case_access(viewer, AGENCY_IDS[LEAD], consent_in(state), NOW)
    assert access.visible is (code == LEAD or any(expected(state, code, k) for k in CATEGORIES))


def test_revocation_counts_from_its_moment(ctx):
    [consent] = consent_in("active")
    consent.revoked_at = NOW + timedelta(minutes=5)
    viewer = Viewer(user_id=1, agency_id=AGENCY_IDS["JC"], role="case_worker")
    assert case_access(viewer, AGENCY_IDS[LEAD], [consent], NOW).categories
    assert not case_access(viewer, AGENCY_IDS[LEAD], [consent], NOW + timedelta(minutes=6)).categories


@pytest.mark.parametrize("role", ["dpo", "admin", "steering"])
def test_roles_without_case_work_see_nothing_even_as_lead(ctx, role):
    viewer = Viewer(user_id=1, agency_id=AGENCY_IDS[LEAD], role=role)
    access = case_access(viewer, AGENCY_IDS[LEAD], consent_in("active"), NOW)
    assert not access.visible and not access.categories


def test_unknown_role_and_category_raise(ctx):
    with pytest.raises(UnknownState):
        case_access(Viewer(1, 1, "hacker"), 1, [], NOW)
    access = case_access(Viewer(1, 1, "case_worker"), 1, [], NOW)
    with pytest.raises(UnknownState):
        access.sees("geheim")


@pytest.mark.parametrize("state", ["none", "active", "expired", "future", "revoked"])
def test_sql_listing_agrees_with_the_policy(ctx, state):
    """The SQL clause that lists and counts cases decides exactly like the pure policy."""
    users = make_world()
    case = make_case(users["KI"])
    if state != "none":
        make_consent(case, users["KI"], [("JC", "leistungen"), ("AA", "gesundheit")], state=state)
    db.session.flush()
    now = utcnow() + timedelta(seconds=1)
    consents = db.session.scalars(select(Consent).where(Consent.case_id == case.id)).all()
    for code, user in users.items():
        viewer = viewer_of(user)
        listed = db.session.scalar(select(Case.id).where(Case.id == case.id, listable_cases_clause(viewer, now)))
        assert (listed is not None) is case_access(viewer, case.lead_agency_id, consents, now).visible, code
        by_name = db.session.scalar(
            select(Case.id).where(Case.id == case.id, listable_cases_clause(viewer, now, category="stammdaten"))
        )
        assert (by_name is not None) is (code == "KI"), code
        rows = db.session.execute(*active_grants(viewer, [case.id], now)).all()
        assert {(case_id, agency_id) for case_id, agency_id, _ in rows} <= {(case.id, viewer.agency_id)}, code
        granted = [cat for _, _, cat in rows]
        assert access_from_grants(viewer, case.lead_agency_id, granted) == case_access(
            viewer, case.lead_agency_id, consents, now
        ), code


@pytest.mark.parametrize(
    ("utc", "active"),
    [
        (datetime(2026, 11, 30, 22, 30), True),  # 23:30 in Berlin on the last day
        (datetime(2026, 11, 30, 23, 30), False),  # 00:30 in Berlin on the day after
        (datetime(2026, 6, 30, 21, 30), True),  # summer time: 23:30 in Berlin
        (datetime(2026, 6, 30, 22, 30), False),
    ],
)
def test_a_consent_ends_at_midnight_where_the_agencies_are(ctx, utc, active):
    """'Valid until the 30th' is a day of the agencies' calendar, not of UTC."""
    users = make_world()
    case = make_case(users["KI"])
    consent = make_consent(case, users["KI"], [("JC", "leistungen")])
    consent.valid_from, consent.valid_until = date(2026, 1, 1), utc.date()
    db.session.flush()
    viewer = viewer_of(users["JC"])
    assert consent.is_active_at(utc) is active
    assert consent.status_at(utc) == ("active" if active else "expired")
    assert bool(case_access(viewer, case.lead_agency_id, [consent], utc).categories) is active
    listed = db.session.scalar(select(Case.id).where(Case.id == case.id, listable_cases_clause(viewer, utc)))
    assert (listed is not None) is active
    assert bool(db.session.execute(*active_grants(viewer, [case.id], utc)).all()) is active
