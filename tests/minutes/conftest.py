"""The minutes tests reuse the conference scene, and the socket tests share one live server per module."""

from tests.agenda.conftest import clients, planned, scene  # noqa: F401  (fixtures)
from tests.minutes.live import server  # noqa: F401  (fixture)
