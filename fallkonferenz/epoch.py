"""The access epoch: a counter the database itself raises whenever anything changes that decides who may see what.

The live minutes re-check every open agenda item a few times a second, so that a revoked consent, a participant
taken off a conference or a user signed out is evicted at once. Re-running the policy for every socket each time
held the interpreter for milliseconds while editors waited for their updates. Now the check first reads this one
row: if it has not moved since the sockets were last checked (and the day, on which consents end, is the same),
nothing can have changed for them, and only sockets or items opened since then are checked.

Triggers keep the counter, not the services: a change made by any code path, the CLI or by hand in SQL raises it
in the same transaction. PostgreSQL raises it once per statement, SQLite once per row.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, event, select
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db

TABLE = "access_epoch"
FUNCTION = "fk_raise_access_epoch"
# What the seat check of the live minutes reads (users, their sessions, conferences and their participants, agenda
# items, cases with their consents and grants, the notes and goals by which an agency may know a case), and which
# changes of it matter. A new session or a touched one grants nothing a check has to take back.
WATCHED = {
    "users": ("INSERT", "UPDATE", "DELETE"),
    "user_sessions": ("DELETE",),
    "conferences": ("INSERT", "UPDATE", "DELETE"),
    "participants": ("INSERT", "UPDATE", "DELETE"),
    "agenda_items": ("INSERT", "UPDATE", "DELETE"),
    "cases": ("INSERT", "UPDATE", "DELETE"),
    "consents": ("INSERT", "UPDATE", "DELETE"),
    "consent_grants": ("INSERT", "UPDATE", "DELETE"),
    "notes": ("INSERT", "UPDATE", "DELETE"),
    "goals": ("INSERT", "UPDATE", "DELETE"),
}
_RAISE = "INSERT INTO access_epoch (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = access_epoch.n + 1"


class AccessEpoch(db.Model):
    """One row (id 1); its `n` only ever grows. A missing row means: changed, check everything."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


def _trigger(table: str) -> str:
    return f"{TABLE}_{table}"


def create_statements(dialect: str, watched: dict[str, tuple[str, ...]] = WATCHED) -> list[str]:
    """The SQL that installs the triggers (and on PostgreSQL their function); safe to run again."""
    if dialect == "postgresql":
        statements = [
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {_RAISE}; RETURN NULL; END $$"
        ]
        for table, operations in watched.items():
            events = " OR ".join(operations)
            statements.append(
                f"CREATE OR REPLACE TRIGGER {_trigger(table)} AFTER {events} ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        return statements
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {_trigger(table)}_{op.lower()} AFTER {op} ON {table} BEGIN {_RAISE}; END"
            for table, operations in watched.items()
            for op in operations
        ]
    raise NotImplementedError(f"access epoch triggers for {dialect}")


def drop_statements(dialect: str, watched: dict[str, tuple[str, ...]] = WATCHED) -> list[str]:
    if dialect == "postgresql":
        statements = [f"DROP TRIGGER IF EXISTS {_trigger(table)} ON {table}" for table in watched]
        return [*statements, f"DROP FUNCTION IF EXISTS {FUNCTION}()"]
    return [
        f"DROP TRIGGER IF EXISTS {_trigger(table)}_{op.lower()}"
        for table, operations in watched.items()
        for op in operations
    ]


@event.listens_for(db.metadata, "after_create")
def _install(metadata, connection, **kw) -> None:
    """`create_all` (tests, benchmarks) installs the triggers as the migration does."""
    if connection.dialect.name in ("postgresql", "sqlite") and all(t in metadata.tables for t in WATCHED):
        for statement in create_statements(connection.dialect.name):
            connection.exec_driver_sql(statement)


def current() -> int | None:
    """The counter in the caller's transaction; None when its row is missing (count that as a change)."""
    return db.session.scalar(select(AccessEpoch.n).where(AccessEpoch.id == 1))
