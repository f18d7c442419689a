"""A second reference: the least work any page with case data must do here, without the app around it.

The baseline page does nothing but render. A page that shows case data must also, by the project's rules:
read the signed session cookie and look the session up in the database (server-side sessions, revocable at
logout), append an event to the hash-chained audit log in the same transaction (every read of case data is
logged), and commit that transaction to SQLite in WAL mode with `synchronous=FULL` (an fsync per commit).

This app does exactly that and nothing more: one `sqlite3` connection per thread, no ORM, no policy, no case
query, no decryption, and the baseline's template. Its requests per second are the ceiling for any page with
case data on this machine; the ratio of the measured pages to it says how much of the rest is the app's own
work. It keeps its own database file beside the benchmark's, with the app's own connection settings.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace

from flask import Flask, abort, render_template, session
from jinja2 import DictLoader

from fallkonferenz import _sqlite_pragmas
from fallkonferenz.audit import GENESIS, _digest
from fallkonferenz.auth.service import token_hash
from fallkonferenz.models import utcnow

from .baseline import PAGE, ROWS
from .load import COOKIE

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, agency_id INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_events (id INTEGER PRIMARY KEY, created_at TEXT, actor_id INTEGER, "
    "agency_id INTEGER, action TEXT, case_id INTEGER, categories TEXT, purpose TEXT, detail TEXT, "
    "prev_hash TEXT, hash TEXT)",
    "CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY, last_id INTEGER, last_hash TEXT)",
)
# 25 case ids, as the case list's event names them.
DETAIL = '{"cases":[' + ",".join(str(n) for n in range(1, 26)) + '],"names_shown":[],"search":null}'

app = Flask(__name__)
app.secret_key = os.environ.get("BENCH_MANDATED_SECRET", secrets.token_hex(32))
app.config["SESSION_COOKIE_NAME"] = COOKIE
app.jinja_loader = DictLoader({"page.html": PAGE})
_local = threading.local()
_writer = threading.Lock()  # the app, too, queues its SQLite writers on a process lock


def database() -> Path:
    return Path(os.environ["BENCH_INSTANCE"]) / "mandated.db"


def _connection() -> sqlite3.Connection:
    """This thread's connection (call with `_writer` held: the first one creates the tables)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(database(), check_same_thread=False)
        _sqlite_pragmas(conn, None)
        for statement in SCHEMA:
            conn.execute(statement)
        conn.execute("INSERT OR IGNORE INTO audit_head VALUES (1, 0, ?)", (GENESIS,))
    return conn


@app.get("/login")
def login():
    """A session for the load generator (user 1 of agency 1)."""
    token = secrets.token_urlsafe(32)
    with _writer:
        conn = _connection()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO sessions VALUES (?, 1, 1)", (token_hash(token),))
        conn.execute("COMMIT")
    session["sid"] = token
    return "ok"


@app.get("/")
def index():
    """Look the session up, log the read in the audit chain, commit, render."""
    token = session.get("sid")
    with _writer:
        conn = _connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            user = conn.execute(
                "SELECT user_id, agency_id FROM sessions WHERE id = ?", (token_hash(token or ""),)
            ).fetchone()
            if user is None:
                abort(401)
            last_id, last_hash = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE id = 1").fetchone()
            ev = SimpleNamespace(
                id=last_id + 1,
                created_at=utcnow(),
                actor_id=user[0],
                agency_id=user[1],
                action="case.list",
                case_id=None,
                categories="stammdaten",
                purpose="Fallübersicht",
                detail=DETAIL,
                prev_hash=last_hash,
            )
            ev.hash = _digest(ev)
            row = vars(ev) | {"created_at": ev.created_at.isoformat()}
            conn.execute(
                "INSERT INTO audit_events VALUES (:id, :created_at, :actor_id, :agency_id, :action, :case_id, "
                ":categories, :purpose, :detail, :prev_hash, :hash)",
                row,
            )
            conn.execute("UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1", (ev.id, ev.hash))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return render_template("page.html", title="Fälle", rows=ROWS)
