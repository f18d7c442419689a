"""In-process checks with the test client: SQL statements per request, and a profile of slow pages."""

from __future__ import annotations

import cProfile
import pstats
import re
import time
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import event, select

from fallkonferenz.cases import service as case_service
from fallkonferenz.extensions import db
from fallkonferenz.models import User

from .load import CSRF_RE

NOTE_RE = re.compile(r'<article class="note" id="vermerk-')
ITEM_RE = re.compile(r'<li id="top-\d+"')


class PageError(RuntimeError):
    """A page answered with something other than 200."""


def logged_in_client(app: Flask, username: str, password: str):
    """Return a test client logged in through the form, as the load generator does."""
    client = app.test_client()
    page = client.get("/anmelden").get_data(as_text=True)
    resp = client.post(
        "/anmelden", data={"username": username, "password": password, "csrf_token": CSRF_RE.search(page).group(1)}
    )
    if resp.status_code != 302:
        raise PageError(f"login as {username}: {resp.status_code}")
    return client


@contextmanager
def statements(app: Flask):
    """Collect the SQL statements sent while the block runs."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _get(client, path: str) -> str:
    resp = client.get(path)
    if resp.status_code != 200:
        raise PageError(f"GET {path}: {resp.status_code}")
    return resp.get_data(as_text=True)


def _count(app: Flask, client, path: str) -> tuple[int, list[str], str]:
    with statements(app) as seen:
        body = _get(client, path)
    return len(seen), [" ".join(s.split())[:90] for s in seen], body


def count_queries(app: Flask, username: str, password: str, case_number: str, search: str) -> dict:
    """Count statements per page at full size, then with more data on the page; equal counts mean no N+1."""
    client = logged_in_client(app, username, password)
    _get(client, "/faelle/")  # first request of a fresh client: sessions, caches
    out = {}
    list_1, list_1_sql, _ = _count(app, client, "/faelle/")
    list_2, list_2_sql, _ = _count(app, client, "/faelle/?seite=2")
    search_n, search_sql, _ = _count(app, client, f"/faelle/?q={search}")
    before, before_sql, body = _count(app, client, f"/faelle/{case_number}")
    notes_before = len(NOTE_RE.findall(body))
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.username == username))
        for n in range(5):
            case_service.add_note(actor, case_number, "stammdaten", f"Zusätzlicher Vermerk {n + 1} für die Messung.")
        db.session.commit()
    after, after_sql, body = _count(app, client, f"/faelle/{case_number}")
    notes_after = len(NOTE_RE.findall(body))
    out["case_list"] = {"page_1": list_1, "page_2": list_2, "equal": list_1 == list_2, "sql_page_1": list_1_sql}
    out["name_search"] = {"statements": search_n, "sql": search_sql}
    out["case_page"] = {
        "notes_before": notes_before,
        "notes_after": notes_after,
        "before": before,
        "after": after,
        "equal": before == after,
        "sql_before": before_sql,
        "sql_after": after_sql,
    }
    out["diff_case_list"] = [s for s in list_2_sql if s not in list_1_sql]
    out["diff_case_page"] = [s for s in after_sql if s not in before_sql]
    return out


def count_conference_queries(app: Flask, users: dict[str, str], password: str, big: int, small: int) -> dict:
    """Count the statements of the conference page with 30 and with 10 items, per role; equal means no N+1."""
    out = {}
    for role, username in users.items():
        client = logged_in_client(app, username, password)
        for conference_id in (big, small):
            _get(client, f"/konferenzen/{conference_id}")  # first request of a fresh client: sessions, caches
        big_n, big_sql, body = _count(app, client, f"/konferenzen/{big}")
        items_big = len(ITEM_RE.findall(body))
        small_n, small_sql, body = _count(app, client, f"/konferenzen/{small}")
        items_small = len(ITEM_RE.findall(body))
        out[role] = {
            "user": username,
            "items_big": items_big,
            "items_small": items_small,
            "big": big_n,
            "small": small_n,
            "equal": big_n == small_n,
            "sql_big": big_sql,
            "diff": [s for s in big_sql if s not in small_sql],
        }
    return out


def _where(filename: str) -> str:
    # Short, machine-independent locations: package-relative paths only.
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    parts = Path(filename).parts
    # From the first project directory on, so that templates/agenda/… keeps its templates/ prefix.
    anchors = {"fallkonferenz", "consent", "agenda", "templates", "bench"}
    first = next((i for i, part in enumerate(parts) if part in anchors), None)
    return filename if first is None else str(Path(*parts[first:]))


def _is_app_level(where: str, func: str) -> bool:
    # The project's own functions, plus the two library calls every page makes: render and commit.
    if where.startswith(("fallkonferenz/", "consent/", "agenda/")):
        return True
    return (where, func) in {("flask/templating.py", "render_template"), ("sqlalchemy/orm/session.py", "commit")}


@contextmanager
def timed_statements(app: Flask):
    """Sum the execution time per SQL statement while the block runs (statement text -> [calls, seconds])."""
    totals: dict[str, list] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        entry = totals.setdefault(" ".join(statement.split())[:90], [0, 0.0])
        entry[0] += 1
        entry[1] += elapsed

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield totals
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def replayed_selects(app: Flask, client, path: str, repeat: int = 5) -> list[dict]:
    """Run the SELECTs of one request again on a raw DB-API connection, timing execute *and* fetch.

    SQLite does most of a query's work while the rows are fetched, which the execute-only timing above cannot
    see; replaying the statements with their parameters shows which one it is.
    """
    captured: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        _get(client, path)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    totals: dict[str, list] = {}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in captured:
            started = time.perf_counter()
            for _ in range(repeat):
                cursor.execute(statement, parameters)
                rows = len(cursor.fetchall())
            entry = totals.setdefault(" ".join(statement.split())[:90], [0, 0.0, 0])
            entry[0] += 1
            entry[1] += (time.perf_counter() - started) / repeat
            entry[2] += rows
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return sorted(
        ({"statement": k, "calls": n, "rows": r, "ms": t * 1000} for k, (n, t, r) in totals.items()),
        key=lambda r: r["ms"],
        reverse=True,
    )[:5]


def profile(app: Flask, username: str, password: str, path: str, requests: int = 40, top: int = 12) -> dict:
    """Time one page in process (wall time and SQL), then profile it; return where the time goes."""
    client = logged_in_client(app, username, password)
    for _ in range(3):
        _get(client, path)
    # Plain timing first: the profiler's overhead would distort the shares.
    with timed_statements(app) as sql:
        started = time.perf_counter()
        for _ in range(requests):
            _get(client, path)
        wall = (time.perf_counter() - started) / requests * 1000
    slowest_sql = sorted(
        ({"statement": k, "calls": n // requests, "ms": t / requests * 1000} for k, (n, t) in sql.items()),
        key=lambda r: r["ms"],
        reverse=True,
    )[:5]
    slowest_select = replayed_selects(app, client, path)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(requests):
        _get(client, path)
    prof.disable()
    rows = []
    for (filename, line, func), (_, calls, own, cum, _) in pstats.Stats(prof).stats.items():
        where = _where(filename)
        rows.append(
            {
                "function": f"{where}:{line}({func})" if line else func,
                "app_level": _is_app_level(where, func),
                "calls": calls // requests,
                "own_ms": own / requests * 1000,
                "cum_ms": cum / requests * 1000,
            }
        )
    by_own = sorted(rows, key=lambda r: r["own_ms"], reverse=True)[:top]
    app_level = sorted((r for r in rows if r["app_level"]), key=lambda r: r["cum_ms"], reverse=True)[: top * 2]
    return {
        "path": path,
        "ms_per_request": round(wall, 2),
        "slowest_sql": slowest_sql,
        "slowest_select_with_fetch": slowest_select,
        "app_functions_by_cumulative": app_level,
        "by_own_time": by_own,
    }


BACKLOG_ROW_RE = re.compile(r"<tr[^>]*>\s*<td[^>]*>\s*(?:<a[^>]*>)?\s*LG-")


def count_backlog_queries(app: Flask, username: str, password: str) -> dict:
    """Count the statements of the backlog list (first page, last page, a filter) and of the Kennzahlen page."""
    client = logged_in_client(app, username, password)
    _get(client, "/lenkungsgruppe/themen")  # first request of a fresh client: sessions, caches
    out = {}
    for name, path in (
        ("list_first", "/lenkungsgruppe/themen"),
        ("list_far", "/lenkungsgruppe/themen?seite=40&sortierung=faelle"),
        ("list_filtered", "/lenkungsgruppe/themen?status=abgelehnt&behoerde=JC"),
        ("kennzahlen", "/lenkungsgruppe/kennzahlen"),
    ):
        n, sql, body = _count(app, client, path)
        out[name] = {"statements": n, "rows": len(BACKLOG_ROW_RE.findall(body)), "sql": sql}
    return out
