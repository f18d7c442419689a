"""A server prepares what a join runs before its first client takes a seat, and that leaves no trace."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.engine.default import CACHE_MISS

from fallkonferenz import audit, create_app
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent
from minutes import service
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


def warm_up(app) -> None:
    with app.app_context():
        for step in app.extensions["fk_warm_up"]:
            step()


def first_join_compiles(app, username: str, item_id: int) -> list[str]:
    """The statements the app's first join had to compile (cache misses of its engine)."""
    compiled: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if context is not None and context.cache_hit is CACHE_MISS:
            compiled.append(statement)

    with app.app_context():
        moderator = user(username)
        event.listen(db.engine, "before_cursor_execute", note)
        try:
            _item, update, _state = service.join(moderator, item_id, None)
            assert update  # the item's document, as a client gets it
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", note)
            db.session.remove()
    return compiled


def test_a_first_join_compiles_its_statements_unless_the_server_warmed_up(app, scene, items_):
    with fresh_app(app) as cold:
        assert first_join_compiles(cold, scene.users["KI"], items_["general"]), (
            "a fresh engine compiles on its first join"
        )
    with fresh_app(app) as warm:
        warm_up(warm)
        assert first_join_compiles(warm, scene.users["KI"], items_["open"]) == []


def test_warming_up_reads_stores_and_logs_nothing(app, items_, query):
    def state():
        return (
            db.session.scalar(select(func.count(AuditEvent.id))),
            db.session.scalar(select(func.count(MinutesUpdate.id))),
            audit.verify(),
        )

    before = query(state, commit=False)
    assert before[0] > 0 and before[2] == []  # the fixtures' work is logged; the chain is whole
    warm_up(app)
    warm_up(app)  # a second time as well: nothing held, nothing left locked
    assert query(state, commit=False) == before
    assert service.CACHE.loaded(0) is None  # no document for the item that is not there
