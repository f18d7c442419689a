"""Kennzahlen dashboard and the CSV/PDF exports of the backlog."""

from __future__ import annotations

from . import bp  # noqa: F401
