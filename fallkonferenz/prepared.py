"""Statements compiled once and run on the database driver, for the few paths where SQLAlchemy's own work per
execution costs more than the statement.

`Connection.execute` looks the statement up in the compiled cache, builds an execution context, converts the
parameters and sets up a result, every time. For the live minutes' one statement per keystroke that was most of an
update's time in the server. A `Prepared` statement does that work once per dialect: it keeps the SQL text, the
order of its parameters and their converters (from the statement's own column types), and hands the converted
values to the driver's cursor in the caller's transaction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Compiled:
    compiled: Any  # SQLAlchemy's compiled form: SQL text, parameter order (positional drivers), parameter values
    converters: dict[str, Any]  # parameter name -> the dialect's converter of its type


class Prepared:
    """A Core statement with bound parameters, compiled once per dialect."""

    def __init__(self, statement):
        self.statement = statement
        self._lock = threading.Lock()
        self._by_dialect: dict[str, _Compiled] = {}

    def _for(self, dialect) -> _Compiled:
        done = self._by_dialect.get(dialect.name)
        if done is not None:
            return done
        with self._lock:
            compiled = self.statement.compile(dialect=dialect)
            if any(bind.expanding for bind in compiled.binds.values()) or "POSTCOMPILE" in compiled.string:
                raise ValueError("Prepared takes no IN lists or other parameters rendered at execution")
            converters = {}
            for name, bind in compiled.binds.items():
                # The dialect's own form of the type: SQLite's DateTime, say, has a converter the generic one lacks.
                convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if convert is not None:
                    converters[name] = convert
            done = self._by_dialect[dialect.name] = _Compiled(compiled, converters)
        return done

    def execute(self, connection, params: dict) -> int:
        """Run in the transaction of `connection` (a SQLAlchemy Connection); returns the driver's row count."""
        return self._run(connection, params, lambda cursor: cursor.rowcount)

    def rows(self, connection, params: dict) -> list[tuple]:
        """Run a SELECT the same way; returns the driver's rows, its own values (no result processing)."""
        return self._run(connection, params, lambda cursor: cursor.fetchall())

    def _run(self, connection, params: dict, answer):
        prepared = self._for(connection.dialect)
        compiled = prepared.compiled
        values = compiled.construct_params(params)
        for name, convert in prepared.converters.items():
            if name in values:  # `binds` also lists a literal's anonymous original, under a name the SQL lacks
                values[name] = convert(values[name])
        args = tuple(values[name] for name in compiled.positiontup) if compiled.positional else values
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(compiled.string, args)
            return answer(cursor)
        finally:
            cursor.close()
