"""Domain exceptions; one handler maps them to German 4xx pages and JSON errors."""

from __future__ import annotations

DB_INT_MAX = 2**63 - 1  # the largest id or number the database stores


def db_id(value) -> int | None:
    """An id the database can hold, from an int or from ASCII digits; None for anything else (then nothing has it,
    and asking the database would only overflow)."""
    if isinstance(value, str):
        value = int(value) if value.isascii() and value.isdigit() else None
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= DB_INT_MAX else None


class DomainError(Exception):
    status = 400
    message = "Die Anfrage ist ungültig."
    # A refusal rolls the request back. One raised after audited reads and before any change sets this: its
    # transaction then holds only those audit records, which are kept (reads of case data stay on record).
    keeps_audit = False

    def __init__(self, message: str | None = None, *, errors: dict[str, str] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.errors = errors or {}


class NotFound(DomainError):
    status = 404
    message = "Nicht gefunden."


class Forbidden(DomainError):
    status = 403
    message = "Dafür fehlt Ihnen die Berechtigung."


class InvalidInput(DomainError):
    status = 422
    message = "Bitte prüfen Sie die markierten Angaben."


class Conflict(DomainError):
    status = 409
    message = "Die Daten wurden inzwischen geändert. Bitte laden Sie die Seite neu."


class TooManyAttempts(DomainError):
    status = 429
    message = "Zu viele Anmeldeversuche. Bitte warten Sie 15 Minuten."
