"""Statements compiled once and run on the driver store what SQLAlchemy would, in the caller's transaction; BEGIN on
the driver fails as SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Column, Date, DateTime, Integer, LargeBinary, MetaData, String, Table, bindparam, insert, select

from fallkonferenz.extensions import db
from fallkonferenz.prepared import Prepared

probe = Table(
    "prepared_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("day", Date, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

AT = datetime(2026, 11, 30, 9, 15, 30, 123456, tzinfo=UTC).replace(tzinfo=None)
ON_THE_SECOND = datetime(2026, 11, 30, 9, 15, 31)  # stored like any other moment, not in a shorter form


@pytest.fixture
def table(app):
    with app.app_context():
        probe.create(db.engine)
    yield
    with app.app_context():
        db.session.remove()
        probe.drop(db.engine)


def _guarded():
    """An INSERT ... SELECT with typed parameters, a literal value and a condition on the table itself."""
    values = select(
        bindparam("kind", type_=String),
        bindparam("at", type_=DateTime),
        bindparam("day", type_=Date),
        bindparam("data", type_=LargeBinary),
    ).where(~select(probe.c.id).where(probe.c.kind == bindparam("kind"), probe.c.day <= date(2030, 1, 1)).exists())
    return Prepared(insert(probe).from_select(["kind", "at", "day", "data"], values))


def test_values_are_stored_as_sqlalchemy_stores_them_and_row_counts_are_right(app, table):
    statement = _guarded()
    with app.app_context():
        row = {"kind": "update", "at": AT, "day": date(2026, 11, 30), "data": b"\x00\x01yjs"}
        assert statement.execute(db.session.connection(), row) == 1
        assert statement.execute(db.session.connection(), row) == 0  # the condition holds it back
        db.session.execute(insert(probe).values(kind="orm", at=AT, day=date(2026, 11, 30), data=b"\x00\x01yjs"))
        db.session.commit()
        stored = db.session.execute(select(probe.c.kind, probe.c.at, probe.c.day, probe.c.data)).all()
        assert sorted(stored) == [
            ("orm", AT, date(2026, 11, 30), b"\x00\x01yjs"),
            ("update", AT, date(2026, 11, 30), b"\x00\x01yjs"),
        ]
        # Both are found by the same typed comparison, so they were stored in the same form.
        assert db.session.scalar(select(probe.c.id).where(probe.c.at == AT, probe.c.kind == "update")) is not None
        second = {"kind": "second", "at": ON_THE_SECOND, "day": date(2026, 11, 30), "data": b""}
        assert statement.execute(db.session.connection(), second) == 1
        assert db.session.scalar(select(probe.c.kind).where(probe.c.at == ON_THE_SECOND)) == "second"
        assert db.session.scalar(select(probe.c.kind).where(probe.c.at > ON_THE_SECOND)) is None


def test_a_select_gives_the_drivers_rows_of_the_callers_transaction(app, table):
    lookup = Prepared(select(probe.c.kind, probe.c.data).where(probe.c.day == bindparam("day", type_=Date)))
    with app.app_context():
        db.session.execute(insert(probe).values(kind="seen", at=AT, day=date(2026, 11, 30), data=b"\x01key"))
        # not committed: the statement runs in the same transaction and sees the row
        assert [tuple(r) for r in lookup.rows(db.session.connection(), {"day": date(2026, 11, 30)})] == [
            ("seen", b"\x01key")
        ]
        assert lookup.rows(db.session.connection(), {"day": date(2026, 12, 1)}) == []
        db.session.rollback()


def test_parameters_rendered_at_execution_are_refused(app):
    statement = Prepared(select(probe.c.id).where(probe.c.id.in_(bindparam("ids", expanding=True))))
    with app.app_context(), pytest.raises(ValueError):
        statement.execute(db.session.connection(), {"ids": [1, 2]})


def test_it_runs_in_the_callers_transaction(app, table):
    statement = _guarded()
    with app.app_context():
        row = {"kind": "rolled back", "at": AT, "day": date(2026, 11, 30), "data": b"x"}
        assert statement.execute(db.session.connection(), row) == 1
        db.session.rollback()
        assert db.session.execute(select(probe.c.id)).all() == []


def test_a_busy_database_at_begin_raises_as_sqlalchemy_does(tmp_path):
    """BEGIN goes to the driver; a locked database still comes out as SQLAlchemy's OperationalError (the app's
    503 answer), not as a bare driver error (a 500)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from fallkonferenz import _driver_begin

    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError) as raised:
            _driver_begin(waiter, "BEGIN IMMEDIATE")
        assert isinstance(raised.value.orig, sqlite3.OperationalError)
        holder.rollback()
        _driver_begin(waiter, "BEGIN IMMEDIATE")  # free again: it begins
        assert waiter.in_transaction
    finally:
        waiter.close()
        holder.close()
