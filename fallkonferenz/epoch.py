"""Epochs: counters the database itself raises whenever anything changes that a cached conclusion depends on.

The access epoch covers what decides who may see what. The live minutes re-check every open agenda item a few
times a second, so that a revoked consent, a participant taken off a conference or a user signed out is evicted at
once. Re-running the policy for every socket each time held the interpreter for milliseconds while editors waited
for their updates. Now the check first reads this one row: if it has not moved since the sockets were last checked
(and the day, on which consents end, is the same), nothing can have changed for them, and only sockets or items
opened since then are checked.

The backlog epoch covers what the Lenkungsgruppe's Kennzahlen are counted from (items, recommendations,
implementations, agencies): the dashboard's aggregates over the whole backlog are computed again only when it moves.

Triggers keep the counters, not the services: a change made by any code path, the CLI or by hand in SQL raises them
in the same transaction. On PostgreSQL a counter's row is locked only at commit (deferred constraint triggers), so
it is always the last lock a transaction takes and cannot close a deadlock with the audit chain's head row. A row
that was deleted comes back at a random value, never at one a process may remember. The read also counts the
triggers: should one be missing (a table rebuilt by a migration, say), the answer is "unknown", and the reader
works as if nothing were cached, as it did before the counter existed.
"""

from __future__ import annotations

import logging

from sqlalchemy import BigInteger, Column, Integer, PrimaryKeyConstraint, Table, event, text

from .extensions import db

log = logging.getLogger(__name__)

_SEED = {"postgresql": "floor(random() * 1e15)::bigint", "sqlite": "abs(random() % 1000000000000000)"}
_COUNT_TRIGGERS = {
    "postgresql": "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '{pattern}' AND NOT tgisinternal",
    "sqlite": "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '{pattern}' ESCAPE '\\'",
}
ALL_CHANGES = ("INSERT", "UPDATE", "DELETE")


class Epoch:
    """One counter (a table with one row, id 1, whose `n` only ever grows while the row exists) and the triggers
    that raise it on every change of the watched tables."""

    def __init__(self, table: str, watched: dict[str, tuple[str, ...]]):
        self.table, self.watched = table, watched
        self.function = f"fk_raise_{table}"
        Table(
            table,
            db.metadata,
            Column("id", Integer, primary_key=True, autoincrement=False),
            Column("n", BigInteger, nullable=False),
        )
        pattern = table.replace("_", "\\_") + "\\_%"
        # The counter and the number of its triggers, in one statement per dialect, built once.
        self._read = {
            dialect: text(f"SELECT (SELECT n FROM {table} WHERE id = 1), ({count.format(pattern=pattern)})")  # noqa: S608 (constants only)
            for dialect, count in _COUNT_TRIGGERS.items()
        }
        self._warned: set[str] = set()

    def raise_statement(self, dialect: str) -> str:
        """Raise the counter; a missing row comes back at a random value."""
        return (
            f"INSERT INTO {self.table} (id, n) VALUES (1, {_SEED[dialect]}) "  # noqa: S608 (constants only)
            f"ON CONFLICT (id) DO UPDATE SET n = {self.table}.n + 1"
        )

    def _name(self, table: str, operation: str = "") -> str:
        suffix = f"_{operation.split()[0].lower()}" if operation else ""
        return f"{self.table}_{table}{suffix}"

    def create_statements(self, dialect: str, watched: dict[str, tuple[str, ...]] | None = None) -> list[str]:
        """The SQL that installs the triggers (and on PostgreSQL their function); safe to run again."""
        watched = self.watched if watched is None else watched
        if dialect == "postgresql":
            statements = [
                f"CREATE OR REPLACE FUNCTION {self.function}() RETURNS trigger LANGUAGE plpgsql "
                f"SET search_path FROM CURRENT AS $$ BEGIN {self.raise_statement(dialect)}; RETURN NULL; END $$"
            ]
            for table, operations in watched.items():
                statements += [
                    f"DROP TRIGGER IF EXISTS {self._name(table)} ON {table}",
                    f"CREATE CONSTRAINT TRIGGER {self._name(table)} AFTER {' OR '.join(operations)} ON {table} "
                    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {self.function}()",
                    f"DROP TRIGGER IF EXISTS {self._name(table, 'truncate')} ON {table}",
                    f"CREATE TRIGGER {self._name(table, 'truncate')} AFTER TRUNCATE ON {table} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {self.function}()",
                ]
            return statements
        if dialect == "sqlite":
            return [
                f"CREATE TRIGGER IF NOT EXISTS {self._name(table, op)} AFTER {op} ON {table} "
                f"BEGIN {self.raise_statement(dialect)}; END"
                for table, operations in watched.items()
                for op in operations
            ]
        raise NotImplementedError(f"{self.table} triggers for {dialect}")

    def drop_statements(self, dialect: str, watched: dict[str, tuple[str, ...]] | None = None) -> list[str]:
        watched = self.watched if watched is None else watched
        if dialect == "postgresql":
            statements = [
                f"DROP TRIGGER IF EXISTS {name} ON {table}"
                for table in watched
                for name in (self._name(table), self._name(table, "truncate"))
            ]
            return [*statements, f"DROP FUNCTION IF EXISTS {self.function}()"]
        return [
            f"DROP TRIGGER IF EXISTS {self._name(table, op)}"
            for table, operations in watched.items()
            for op in operations
        ]

    def upgrade(self, op, watched: dict[str, tuple[str, ...]]) -> None:
        """For a migration: create the counter's table and row, and install the triggers on `watched` (the tables
        and changes as of that migration)."""
        op.create_table(
            self.table,
            Column("id", Integer, autoincrement=False, nullable=False),
            Column("n", BigInteger, nullable=False),
            PrimaryKeyConstraint("id", name=op.f(f"pk_{self.table}")),
        )
        dialect = op.get_bind().dialect.name
        op.execute(self.raise_statement(dialect))
        for statement in self.create_statements(dialect, watched):
            op.execute(statement)

    def downgrade(self, op, watched: dict[str, tuple[str, ...]]) -> None:
        for statement in self.drop_statements(op.get_bind().dialect.name, watched):
            op.execute(statement)
        op.drop_table(self.table)

    def expected_triggers(self, dialect: str) -> int:
        if dialect == "postgresql":
            return 2 * len(self.watched)
        return sum(len(operations) for operations in self.watched.values())

    def install(self, connection, metadata) -> None:
        missing = [t for t in self.watched if t not in metadata.tables]
        if missing:
            raise RuntimeError(f"{self.table}: watched tables missing from the schema: {missing}")
        for statement in self.create_statements(connection.dialect.name):
            connection.exec_driver_sql(statement)

    def read(self, connection) -> int | None:
        """The counter, in one statement; None (nothing known) when its row or any of its triggers is missing."""
        dialect = connection.dialect.name
        statement = self._read.get(dialect)
        if statement is None:
            return None
        n, triggers = connection.execute(statement).one()
        if triggers != self.expected_triggers(dialect):
            if dialect not in self._warned:
                self._warned.add(dialect)
                log.warning(
                    "%s: %s of %s triggers present; nothing is taken from a cache",
                    self.table,
                    triggers,
                    self.expected_triggers(dialect),
                )
            return None
        return n

    def current(self) -> int | None:
        """The counter in the caller's transaction (see `read`)."""
        return self.read(db.session.connection())


# What the seat check of the live minutes reads (agencies, users, their sessions, conferences and their participants,
# agenda items, cases with their consents and grants, the notes and goals by which an agency may know a case), and
# which changes of it matter. A new or touched session grants nothing a check would have to take back.
ACCESS = Epoch(
    "access_epoch",
    {
        "agencies": ALL_CHANGES,
        "users": ALL_CHANGES,
        "user_sessions": ("UPDATE OF id, user_id", "DELETE"),
        "conferences": ALL_CHANGES,
        "participants": ALL_CHANGES,
        "agenda_items": ALL_CHANGES,
        "cases": ALL_CHANGES,
        "consents": ALL_CHANGES,
        "consent_grants": ALL_CHANGES,
        "notes": ALL_CHANGES,
        "goals": ALL_CHANGES,
    },
)
# What the Kennzahlen count: the items (state, category, dates, cases affected), the recommendations (due dates),
# the agencies' implementations, and the agencies' codes and names.
BACKLOG = Epoch(
    "backlog_epoch",
    {
        "escalations": ALL_CHANGES,
        "recommendations": ALL_CHANGES,
        "implementations": ALL_CHANGES,
        "agencies": ALL_CHANGES,
    },
)
EPOCHS = (ACCESS, BACKLOG)


@event.listens_for(db.metadata, "after_create")
def _install(metadata, connection, **kw) -> None:
    """`create_all` (tests, benchmarks) installs the triggers as the migrations do."""
    if connection.dialect.name in _SEED:
        for epoch in EPOCHS:
            epoch.install(connection, metadata)
