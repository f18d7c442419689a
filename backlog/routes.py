"""Thin views of the backlog: list, item, escalation form, triage, working groups, steering meetings."""

from __future__ import annotations

from . import bp  # noqa: F401
