"""The minutes tests reuse the conference scene, and the socket tests share one live server per module."""

import pytest

from agenda import items
from agenda import service as agenda_service
from tests.agenda.conftest import clients, planned, scene, user  # noqa: F401  (fixtures)
from tests.minutes.live import SESSIONS, server  # noqa: F401  (server: fixture)


@pytest.fixture(autouse=True)
def close_http_sessions():
    """Close the logged-in HTTP sessions of a test, so no socket is left to the garbage collector."""
    yield
    while SESSIONS:
        SESSIONS.pop().close()


@pytest.fixture
def items_(scene, planned, query):  # noqa: F811  (the fixtures imported above)
    """A case item closed to JC (consent for AA only) and an open one; returns their ids."""

    def build():
        ki = user(scene.users["KI"])
        closed = items.add_item(
            ki, planned, items.ItemInput("", "fallbesprechung", 20, scene.closed_case), confirmed=True
        )
        open_ = items.add_item(ki, planned, items.ItemInput("", "fallbesprechung", 20, scene.open_case), confirmed=True)
        general = items.add_item(ki, planned, items.ItemInput("Verschiedenes", "verschiedenes", 10))
        agenda_service.set_state(ki, planned, "eingeladen")
        return {"closed": closed.id, "open": open_.id, "general": general.id}

    return query(build)
