"""The app as the browser tests serve it: a temporary instance directory with its own SQLite file.

The browser tests always use this SQLite file, also when DATABASE_URL points the rest of the suite at
PostgreSQL: those tests empty every table before each test, so a shared database would change under the
running server. The browser tests are about what people see and do in the browser; both database engines
are covered by the other tests.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from fallkonferenz import create_app
from tests.conftest import instance_config

INSTANCE_VARIABLE = "FK_E2E_INSTANCE"


def e2e_config(instance: Path) -> dict:
    """Config of the browser-test server: its own SQLite file, errors answered by the app's own handlers."""
    # Always its own file: the other tests empty the shared database under a running server otherwise.
    return instance_config(instance, "e2e.db", testing=False, shared_db=False) | {"SESSION_COOKIE_SECURE": False}


def create_e2e_app() -> Flask:
    """App factory for `waitress --call`; the instance directory comes from FK_E2E_INSTANCE."""
    return create_app(e2e_config(Path(os.environ[INSTANCE_VARIABLE])))
