"""Shared setup for backlog tests: five agencies with a case worker and a steering member each, two cases with
different consents on one case conference, a second conference with a third case, and a steering meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from agenda import items as agenda_items
from agenda import service as agenda_service
from backlog import service as backlog_service
from fallkonferenz.extensions import db
from fallkonferenz.models import User, utcnow
from tests.factories import CODES, PASSWORD, all_categories, make_case, make_consent, make_user

# A de-identified escalation text the guard lets through.
CLEAN_INPUT = backlog_service.EscalationInput(
    title="Integrationskurs mit Duldung nicht erreichbar",
    description="Junge Menschen mit Duldung erhalten keinen Platz im Integrationskurs; es fehlt eine Zulassung.",
    category="rechtslage",
    rechtskreise=["AufenthG", "SGB II"],
    agencies=["JC", "ABH"],
    proposed_solution="Zulassung nach § 44 Abs. 4 AufenthG regelmäßig beantragen.",
)


@dataclass
class BacklogScene:
    users: dict[str, str]  # agency code -> case worker's username (KI: moderator)
    steering: dict[str, str]  # agency code -> steering member's username
    ids: dict[str, int]  # username -> user id
    cases: dict[str, int]  # "open" (JC+AA consent), "closed" (AA only), "other" (JC+AA, second conference)
    numbers: dict[str, str]  # same keys -> case number
    items: dict[str, int]  # same keys -> agenda item id of the case item
    general_item: int  # a general item of the first conference
    conference: int
    other_conference: int
    steering_meeting: int


def user(username: str) -> User:
    return db.session.query(User).filter_by(username=username).one()


def _conference(moderator: User, title: str, kind: str, participants) -> int:
    start = (utcnow() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    data = agenda_service.ConferenceInput(title=title, kind=kind, start=start, end=start + timedelta(hours=2))
    return agenda_service.create_conference(moderator, data, [u.id for u in participants]).id


def _case_item(moderator: User, conference_id: int, number: str) -> int:
    data = agenda_items.ItemInput(title="", kind="fallbesprechung", time_box=20, case_ref=number)
    return agenda_items.add_item(moderator, conference_id, data, confirmed=True).id


@pytest.fixture
def bscene(world, query) -> BacklogScene:
    def build():
        steering = {code: make_user(code, "steering").username for code in CODES}
        ki = user(world["KI"])
        cases = {
            "open": make_case(ki, given="Amal", family="Haddad"),
            "closed": make_case(
                ki, given="Senait", family="Tesfay", address="Hafenstraße 7, 12345 Musterstadt", phone="0231 998877"
            ),
            "other": make_case(ki, given="Ahmad", family="Rahimi", address="Am Markt 3, 12345 Musterstadt"),
        }
        make_consent(cases["open"], ki, all_categories("JC", "AA"))
        make_consent(cases["closed"], ki, all_categories("AA"))
        make_consent(cases["other"], ki, all_categories("JC", "AA"))
        workers = [user(world[c]) for c in ("JC", "AA", "ABH")]
        first = _conference(ki, "Fallkonferenz Nord", "fallkonferenz", workers)
        second = _conference(ki, "Fallkonferenz Süd", "fallkonferenz", workers)
        items = {
            "open": _case_item(ki, first, cases["open"].number),
            "closed": _case_item(ki, first, cases["closed"].number),
            "other": _case_item(ki, second, cases["other"].number),
        }
        general = agenda_items.add_item(
            ki, first, agenda_items.ItemInput(title="Verschiedenes", kind="verschiedenes", time_box=10)
        ).id
        chair = user(steering["KI"])
        meeting = _conference(
            chair, "Lenkungsgruppe", "lenkungsgruppe", [user(steering[c]) for c in CODES if c != "KI"]
        )
        ids = {u.username: u.id for u in db.session.query(User)}
        return BacklogScene(
            users=dict(world),
            steering=steering,
            ids=ids,
            cases={k: c.id for k, c in cases.items()},
            numbers={k: c.number for k, c in cases.items()},
            items=items,
            general_item=general,
            conference=first,
            other_conference=second,
            steering_meeting=meeting,
        )

    return query(build)


@pytest.fixture
def bclients(bscene, client_for):
    """Logged-in clients: agency code -> case worker, and "LG-<code>" -> that agency's steering member."""
    out = {code: client_for(name, PASSWORD) for code, name in bscene.users.items()}
    out.update({f"LG-{code}": client_for(name, PASSWORD) for code, name in bscene.steering.items()})
    return out
