"""A server prepares what a join and an edit run before its first client, leaves no trace doing it, and starts even
when that fails."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path

from pycrdt import Doc, Text
from sqlalchemy import event, func, select
from sqlalchemy.engine.default import CACHE_MISS

from fallkonferenz import audit, create_app, serving
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent
from minutes import records, service
from minutes.models import MinutesUpdate
from tests.agenda.conftest import user
from tests.conftest import instance_config


@contextmanager
def fresh_app(app):
    """A new app on the tests' database: an engine of its own with nothing compiled yet, as in a process just
    started."""
    fresh = create_app(instance_config(Path(app.config["INSTANCE_PATH"])))
    try:
        yield fresh
    finally:
        with fresh.app_context():
            db.engine.dispose()


def first_use_compiles(app, username: str, item_id: int) -> list[str]:
    """The statements the app had to compile (cache misses of its engine) for what a minutes page does first: join
    an item (with its decisions and tasks) and type into it."""
    compiled: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.cache_hit is CACHE_MISS:
            compiled.append(statement)

    doc = Doc()
    doc.get("text", type=Text).insert(0, "Wohnung gefunden")
    with app.app_context():
        author = user(username)
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            _item, update, _state = service.join(author, item_id, None)
            assert update  # the item's document, as a client gets it
            records.item_entries(item_id)
            assert service.apply_update(author, item_id, f"first-{item_id}", doc.get_update()) == (item_id, True)
            service.note_edit(author, item_id)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
            db.session.remove()
    return compiled


def test_a_first_join_and_edit_compile_their_statements_unless_the_server_warmed_up(app, scene, items_):
    with fresh_app(app) as cold:
        assert first_use_compiles(cold, scene.users["KI"], items_["general"]), "a fresh engine compiles on first use"
    with fresh_app(app) as warm:
        serving.warm_up(warm)
        assert first_use_compiles(warm, scene.users["KI"], items_["open"]) == []


def test_warming_up_stores_and_logs_nothing_and_holds_no_lock(app, items_, query):
    def state():
        return (
            db.session.scalar(select(func.count(AuditEvent.id))),
            db.session.scalar(select(func.count(MinutesUpdate.id))),
            audit.verify(),
        )

    before = query(state, commit=False)
    assert before[0] > 0 and before[2] == []  # the fixtures' work is logged; the chain is whole
    serving.warm_up(app)
    serving.warm_up(app)
    assert query(state, commit=False) == before

    # Another thread (as another request would) writes to the audit chain at once: no lock was left behind.
    done = threading.Event()

    def write():
        with app.app_context():
            audit.record("minutes.join", detail={"item": items_["general"]})
            db.session.commit()
            db.session.remove()
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(5), "the write waited for a lock the warm-up held"
    assert query(state, commit=False)[0] == before[0] + 1


def test_the_server_starts_when_warming_up_fails(tmp_path, caplog):
    empty = create_app(instance_config(tmp_path, "leer.db", shared_db=False))  # no tables: every statement fails
    try:
        with caplog.at_level(logging.WARNING):
            serving.warm_up(empty)
        assert "warm-up failed" in caplog.text
    finally:
        with empty.app_context():
            db.engine.dispose()
