"""The minutes tests reuse the conference scene: five agencies, two cases, a planned conference."""

from tests.agenda.conftest import clients, planned, scene  # noqa: F401  (fixtures)
