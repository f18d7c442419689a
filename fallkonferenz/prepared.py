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
    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for drivers with positional placeholders
    converters: dict[str, Any]
    compiled: Any


class Prepared:
    """A Core statement with bound parameters, compiled once per dialect."""

    def __init__(self, statement):
        self.statement = statement
        self._lock = threading.Lock()
        self._by_dialect: dict[str, _Compiled] = {}

    def _for(self, dialect) -> _Compiled:
        done = self._by_dialect.get(dialect.name)
        if done is None:
            with self._lock:
                compiled = self.statement.compile(dialect=dialect)
                if any(bind.expanding for bind in compiled.binds.values()) or "POSTCOMPILE" in compiled.string:
                    raise ValueError("Prepared takes no IN lists or other parameters rendered at execution")
                converters = {}
                for name, bind in compiled.binds.items():
                    # The dialect's own form of the type: SQLite's DateTime, say, has a converter the generic one
                    # lacks.
                    convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
                    if convert is not None:
                        converters[name] = convert
                positions = tuple(compiled.positiontup) if compiled.positional else None
                done = self._by_dialect[dialect.name] = _Compiled(compiled.string, positions, converters, compiled)
        return done

    def execute(self, connection, params: dict) -> int:
        """Run in the transaction of `connection` (a SQLAlchemy Connection); returns the driver's row count."""
        prepared = self._for(connection.dialect)
        values = prepared.compiled.construct_params(params)
        for name, convert in prepared.converters.items():
            if name in values:
                values[name] = convert(values[name])
        args = values if prepared.positions is None else tuple(values[name] for name in prepared.positions)
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(prepared.sql, args)
            return cursor.rowcount
        finally:
            cursor.close()
