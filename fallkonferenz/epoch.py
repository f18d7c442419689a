"""The access epoch: a counter the database itself raises whenever anything changes that decides who may see what.

The live minutes re-check every open agenda item a few times a second, so that a revoked consent, a participant
taken off a conference or a user signed out is evicted at once. Re-running the policy for every socket each time
held the interpreter for milliseconds while editors waited for their updates. Now the check first reads this one
row: if it has not moved since the sockets were last checked (and the day, on which consents end, is the same),
nothing can have changed for them, and only sockets or items opened since then are checked.

Triggers keep the counter, not the services: a change made by any code path, the CLI or by hand in SQL raises it
in the same transaction. On PostgreSQL the counter's row is locked only at commit (deferred constraint triggers),
so it is always the last lock a transaction takes and cannot close a deadlock with the audit chain's head row. A
row that was deleted comes back at a random value, never at one a process may remember. The read also counts the
triggers: should one be missing (a table rebuilt by a migration, say), the answer is "unknown", and the sweep
checks everything on every pass, as it did before the counter existed.
"""

from __future__ import annotations

import logging

from sqlalchemy import BigInteger, event, text
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

log = logging.getLogger(__name__)

TABLE = "access_epoch"
FUNCTION = "fk_raise_access_epoch"
# What the seat check of the live minutes reads (agencies, users, their sessions, conferences and their participants,
# agenda items, cases with their consents and grants, the notes and goals by which an agency may know a case), and
# which changes of it matter. A new or touched session grants nothing a check would have to take back.
WATCHED = {
    "agencies": ("INSERT", "UPDATE", "DELETE"),
    "users": ("INSERT", "UPDATE", "DELETE"),
    "user_sessions": ("UPDATE OF id, user_id", "DELETE"),
    "conferences": ("INSERT", "UPDATE", "DELETE"),
    "participants": ("INSERT", "UPDATE", "DELETE"),
    "agenda_items": ("INSERT", "UPDATE", "DELETE"),
    "cases": ("INSERT", "UPDATE", "DELETE"),
    "consents": ("INSERT", "UPDATE", "DELETE"),
    "consent_grants": ("INSERT", "UPDATE", "DELETE"),
    "notes": ("INSERT", "UPDATE", "DELETE"),
    "goals": ("INSERT", "UPDATE", "DELETE"),
}
_SEED = {"postgresql": "floor(random() * 1e15)::bigint", "sqlite": "abs(random() % 1000000000000000)"}
_COUNT_TRIGGERS = {
    "postgresql": "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'access\\_epoch\\_%' AND NOT tgisinternal",
    "sqlite": (
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'access\\_epoch\\_%' ESCAPE '\\'"
    ),
}
# The counter and the number of its triggers, in one statement per dialect, built once.
_READ = {
    dialect: text(f"SELECT (SELECT n FROM {TABLE} WHERE id = 1), ({count})")  # noqa: S608 (constants only)
    for dialect, count in _COUNT_TRIGGERS.items()
}
_warned: set[str] = set()


class AccessEpoch(db.Model):
    """One row (id 1); `n` only ever grows while the row exists."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


def raise_statement(dialect: str) -> str:
    """Raise the counter; a missing row comes back at a random value."""
    return (
        f"INSERT INTO {TABLE} (id, n) VALUES (1, {_SEED[dialect]}) "  # noqa: S608 (constants only)
        f"ON CONFLICT (id) DO UPDATE SET n = {TABLE}.n + 1"
    )


def _name(table: str, operation: str = "") -> str:
    suffix = f"_{operation.split()[0].lower()}" if operation else ""
    return f"{TABLE}_{table}{suffix}"


def create_statements(dialect: str, watched: dict[str, tuple[str, ...]] = WATCHED) -> list[str]:
    """The SQL that installs the triggers (and on PostgreSQL their function); safe to run again."""
    if dialect == "postgresql":
        statements = [
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT "
            f"AS $$ BEGIN {raise_statement(dialect)}; RETURN NULL; END $$"
        ]
        for table, operations in watched.items():
            statements += [
                f"DROP TRIGGER IF EXISTS {_name(table)} ON {table}",
                f"CREATE CONSTRAINT TRIGGER {_name(table)} AFTER {' OR '.join(operations)} ON {table} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
                f"DROP TRIGGER IF EXISTS {_name(table, 'truncate')} ON {table}",
                f"CREATE TRIGGER {_name(table, 'truncate')} AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()",
            ]
        return statements
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {_name(table, op)} AFTER {op} ON {table} "
            f"BEGIN {raise_statement(dialect)}; END"
            for table, operations in watched.items()
            for op in operations
        ]
    raise NotImplementedError(f"access epoch triggers for {dialect}")


def drop_statements(dialect: str, watched: dict[str, tuple[str, ...]] = WATCHED) -> list[str]:
    if dialect == "postgresql":
        statements = [
            f"DROP TRIGGER IF EXISTS {name} ON {table}"
            for table in watched
            for name in (_name(table), _name(table, "truncate"))
        ]
        return [*statements, f"DROP FUNCTION IF EXISTS {FUNCTION}()"]
    return [f"DROP TRIGGER IF EXISTS {_name(table, op)}" for table, operations in watched.items() for op in operations]


def expected_triggers(dialect: str, watched: dict[str, tuple[str, ...]] = WATCHED) -> int:
    if dialect == "postgresql":
        return 2 * len(watched)
    return sum(len(operations) for operations in watched.values())


@event.listens_for(db.metadata, "after_create")
def _install(metadata, connection, **kw) -> None:
    """`create_all` (tests, benchmarks) installs the triggers as the migration does."""
    if connection.dialect.name not in _SEED:
        return
    missing = [t for t in WATCHED if t not in metadata.tables]
    if missing:
        raise RuntimeError(f"access epoch: watched tables missing from the schema: {missing}")
    for statement in create_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


def read(connection) -> int | None:
    """The counter, in one statement; None (check everything) when its row or any of its triggers is missing."""
    dialect = connection.dialect.name
    statement = _READ.get(dialect)
    if statement is None:
        return None
    n, triggers = connection.execute(statement).one()
    if triggers != expected_triggers(dialect):
        if dialect not in _warned:
            _warned.add(dialect)
            log.warning(
                "access epoch: %s of %s triggers present; every sweep checks everything",
                triggers,
                expected_triggers(dialect),
            )
        return None
    return n


def current() -> int | None:
    """The counter in the caller's transaction (see `read`)."""
    return read(db.session.connection())
