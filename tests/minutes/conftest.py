"""The minutes tests reuse the conference scene, and the socket tests share one live server per module."""

import pytest
from pycrdt import Doc, Text

from agenda import items
from agenda import service as agenda_service
from minutes import service
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


@pytest.fixture
def running(scene, planned, query):  # noqa: F811  (the fixtures imported above)
    """The planned conference running, with the closed case item, the open one and a general item, some text in each."""

    def build():
        ki = user(scene.users["KI"])
        ids = {
            "closed": items.add_item(
                ki, planned, items.ItemInput("", "fallbesprechung", 20, scene.closed_case), confirmed=True
            ).id,
            "open": items.add_item(
                ki, planned, items.ItemInput("", "fallbesprechung", 20, scene.open_case), confirmed=True
            ).id,
            "general": items.add_item(ki, planned, items.ItemInput("Verschiedenes", "verschiedenes", 10)).id,
        }
        for name, text in (
            ("closed", "**Therapieplatz** gefunden"),
            ("open", "- B1 erreicht\n- Kita offen"),
            ("general", "Nächster Termin <script>x</script>"),
        ):
            doc = Doc()
            doc.get("text", type=Text).insert(0, text)
            service.apply_update(ki, ids[name], f"seed-{name}", doc.get_update())
        agenda_service.set_state(ki, planned, "eingeladen")
        agenda_service.set_state(ki, planned, "laeuft")
        return ids

    return query(build)
