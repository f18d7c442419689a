"""The minutes tests reuse the conference scene, and the socket tests share one live server per module."""

import pytest

from tests.agenda.conftest import clients, planned, scene  # noqa: F401  (fixtures)
from tests.minutes.live import SESSIONS, server  # noqa: F401  (server: fixture)


@pytest.fixture(autouse=True)
def close_http_sessions():
    """Close the logged-in HTTP sessions of a test, so no socket is left to the garbage collector."""
    yield
    while SESSIONS:
        SESSIONS.pop().close()
