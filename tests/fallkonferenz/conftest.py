"""Shared setup for the core's tests."""

from __future__ import annotations

import pytest

from tests.conftest import Client
from tests.factories import PASSWORD, make_user


@pytest.fixture
def admin(app, world, query):
    """An administrator of KI, logged in (beside the world's case workers)."""
    query(lambda: make_user("KI", "admin", username="admin"))
    client = Client(app)
    client.login("admin", PASSWORD)
    return client
