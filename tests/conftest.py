"""Test fixtures: one schema per run, a clean database per test, factory helpers, a browser-like client."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from fallkonferenz import create_app
from fallkonferenz.extensions import db
from tests import contract
from tests.contract import ContractClient

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def page_text(resp) -> str:
    """A page's HTML without its CSRF tokens, to compare two answers: a token carries a timestamp, so it differs
    when the two requests straddle a second."""
    return CSRF_RE.sub("", resp.get_data(as_text=True))


def said(resp) -> str:
    """What a page says: its text without tags, runs of white space as one space (as a reader meets it)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", resp.get_data(as_text=True)))


def instance_config(instance, database: str = "test.db", *, testing: bool = True, shared_db: bool = True) -> dict:
    """Config of a throwaway instance (tests, browser tests, benchmarks): cheap Argon2, its own keyring.

    `shared_db`: use DATABASE_URL when set (the production-like leg), else a SQLite file in the instance.
    `testing=False` lets errors reach the app's own German pages, as on a deployed server.
    """
    url = (shared_db and os.environ.get("DATABASE_URL")) or f"sqlite:///{instance}/{database}"
    return {
        "ENV_NAME": "testing",
        "TESTING": testing,
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(instance),
        "FK_KEYRING_FILE": str(instance / "keyring.json"),
        "FK_MASTER_KEY": None,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 1024,
        "BASE_URL": "http://127.0.0.1:5000",  # links in e-mails, feeds and OParl ids; not the environment's
    }


def pytest_terminal_summary(terminalreporter) -> None:
    """After a run that used the API: which documented answers (operation and status code) no request met, so a
    gap in the API tests shows as a list, not only as a missing line in a review."""
    if not contract.MET:
        return
    unmet = contract.unmet()
    total = len(unmet) + len(contract.MET)
    terminalreporter.section("API answers met")
    terminalreporter.write_line(f"{len(contract.MET)} of {total} documented answers were met by a request of this run.")
    for line in unmet:
        terminalreporter.write_line(f"  never met: {line}")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(instance_config(instance))
    app.test_client_class = ContractClient  # every API answer is checked against the OpenAPI document
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wipe(app) -> None:
    """Empty every table (keeps the schema) and forget the per-process minutes documents."""
    from minutes.service import CACHE, UNFOLDABLE

    CACHE.docs.clear()
    UNFOLDABLE.clear()
    with app.app_context():
        tables = db.metadata.sorted_tables
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # Polls and their slots point at each other: check foreign keys at commit, not per row.
            db.session.execute(text("PRAGMA defer_foreign_keys=ON"))
            for table in reversed(tables):
                db.session.execute(table.delete())
        db.session.commit()


@pytest.fixture(autouse=True)
def clean(request, app):
    if request.node.get_closest_marker("shared_demo") is None:
        wipe(app)
    yield


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


class Client:
    """A test client that logs in like a person and sends the CSRF token like the forms do."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()
        self.csrf = None

    def login(self, username: str, password: str = "demo-fallkonferenz"):
        page = self.http.get("/anmelden")
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        resp = self.http.post("/anmelden", data={"username": username, "password": password, "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        self.refresh_csrf()
        return resp

    def refresh_csrf(self):
        page = self.http.get("/zugangstoken", follow_redirects=True)  # or "Mein Konto", where it must go first
        match = CSRF_RE.search(page.get_data(as_text=True))
        self.csrf = match.group(1) if match else None

    def get(self, url, **kw):
        return self.http.get(url, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf)
        return self.http.post(url, data=data, **kw)

    def api(self, method, url, json=None, **kw):
        headers = kw.pop("headers", {})
        headers.setdefault("X-CSRFToken", self.csrf or "")
        return self.http.open(url, method=method, json=json, headers=headers, **kw)


@pytest.fixture
def client_for(app):
    def make(username: str | None = None, password: str = "demo-fallkonferenz") -> Client:
        c = Client(app)
        if username:
            c.login(username, password)
        return c

    return make


@pytest.fixture
def world(app):
    """Five agencies with one case worker each (KI: moderator); returns usernames by agency code."""
    from tests.factories import make_world

    with app.app_context():
        users = make_world()
        return {code: u.username for code, u in users.items()}


@pytest.fixture
def query(app):
    """Run a function inside a fresh app context (never while a request is running)."""

    def run(fn, *args, commit: bool = True, **kwargs):
        with app.app_context():
            result = fn(*args, **kwargs)
            if commit:
                db.session.commit()
            return result

    return run


@contextmanager
def counting(app):
    """Collect the SQL statements the app sends while the block runs."""
    with app.app_context():
        engine = db.engine
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
