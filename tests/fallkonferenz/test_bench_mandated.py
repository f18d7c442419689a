"""The benchmark's second reference does the work it claims: a session lookup and a chained audit event."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from types import SimpleNamespace

from bench import mandated
from fallkonferenz.audit import GENESIS, _digest


def test_mandated_page_needs_a_session_and_logs_each_view_in_a_chain(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_INSTANCE", str(tmp_path))
    monkeypatch.setattr(mandated, "_local", type(mandated._local)())  # a fresh connection for this database
    client = mandated.app.test_client()

    assert client.get("/").status_code == 401
    assert client.get("/login").status_code == 200
    for _ in range(3):
        page = client.get("/")
        assert page.status_code == 200
        assert "FK-2026-0050" in page.get_data(as_text=True)  # the baseline's page, rendered

    with sqlite3.connect(tmp_path / "mandated.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.row_factory = sqlite3.Row
        events = [SimpleNamespace(**row) for row in conn.execute("SELECT * FROM audit_events ORDER BY id")]
        head = tuple(conn.execute("SELECT last_id, last_hash FROM audit_head").fetchone())
    assert [ev.id for ev in events] == [1, 2, 3]
    prev = GENESIS
    for ev in events:
        assert ev.prev_hash == prev
        stored, ev.created_at = ev.hash, datetime.fromisoformat(ev.created_at)
        assert stored == _digest(ev)
        prev = stored
    assert head == (3, prev)


def test_a_disturbed_baseline_window_is_outvoted_by_a_third():
    from bench.run import baseline_rps

    window = [SimpleNamespace(rps=rps) for rps in (1979.0, 437.0, 2001.0)]
    assert baseline_rps(window[:2]) == (1979.0 + 437.0) / 2  # two windows: their mean
    assert baseline_rps(window) == 1979.0  # three: the median, not dragged down by the disturbed one
