"""Shared setup for conference tests: five agencies, two cases with different consents, a planned conference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest

from fallkonferenz.extensions import db
from fallkonferenz.models import User, utcnow
from tests.factories import PASSWORD, all_categories, make_case, make_consent


@dataclass
class Scene:
    users: dict[str, str]  # agency code -> username
    ids: dict[str, int]  # agency code -> user id
    open_case: str  # consent for JC and AA
    closed_case: str  # consent for AA only
    names: dict[str, str]  # case number -> client family name


def user(username: str) -> User:
    return db.session.query(User).filter_by(username=username).one()


def german_day(typed: str) -> str:
    """The day of a form's date or datetime-local value ("2026-03-10T10:00") as pages and e-mails write it."""
    return ".".join(reversed(typed.split("T")[0].split("-")))


def slot(days: int, hour: int = 10, hours: int = 2) -> tuple[str, str]:
    start = (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M"), (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def scene(world, query) -> Scene:
    def build():
        ki = user(world["KI"])
        a = make_case(ki, given="Amal", family="Haddad")
        make_consent(a, ki, all_categories("JC", "AA"))
        b = make_case(ki, given="Senait", family="Tesfay")
        make_consent(b, ki, all_categories("AA"))
        ids = {code: user(name).id for code, name in world.items()}
        return Scene(world, ids, a.number, b.number, {a.number: "Haddad", b.number: "Tesfay"})

    return query(build)


@pytest.fixture
def clients(scene, client_for):
    return {code: client_for(name, PASSWORD) for code, name in scene.users.items()}


def conference_form(scene: Scene, *, days: int = 3, participants=("JC", "AA", "ABH"), **over) -> dict:
    start, end = slot(days)
    data = {
        "title": "Fallkonferenz Musterstadt",
        "kind": "fallkonferenz",
        "start": start,
        "end": end,
        "location": "Kreishaus, Raum 2.14",
        "video_link": "",
        "participants": [str(scene.ids[c]) for c in participants],
    }
    data.update(over)
    return data


@pytest.fixture
def planned(scene, clients) -> int:
    """A conference planned by the KI moderator with JC, AA and ABH; returns its id."""
    resp = clients["KI"].post("/konferenzen/neu", data=conference_form(scene))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    return int(resp.headers["Location"].rsplit("/", 1)[-1])


def as_local(value) -> str:
    """A stored (naive UTC) time as the local datetime-local text a form shows and takes (Europe/Berlin)."""
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")
