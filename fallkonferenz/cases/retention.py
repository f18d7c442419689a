"""Retention: the lead agency closes a case when the cooperation ends; once the retention period after that has
passed (`RETENTION_DAYS`), the case is erased. Erasing destroys the case's data key (crypto-shredding): every
field, note, consent form and minutes entry sealed under it is unreadable for good, and the case is gone for
everyone. What stays is structure without content: the case number in the audit log, the agenda item a
conference held about it (shown to nobody as the case), the count of an escalation's cases."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select

from .. import audit
from ..errors import Conflict, Forbidden
from ..extensions import db
from ..localtime import datum, today
from ..models import Case, CaseKey, CaseNameToken, User, utcnow
from .service import load_case_for

# What the case itself holds in plain text about the client: emptied on erasure (the encrypted fields go too).
PLAIN_FIELDS = {
    "nationality": "",
    "languages": "",
    "interpreter_needed": False,
    "residence_status": "",
    "residence_valid_until": None,
    "rechtskreise": "",
    "fields": "",
}
SEALED_FIELDS = ("given_name_enc", "family_name_enc", "birth_date_enc", "address_enc", "phone_enc")


def retention_days() -> int:
    return current_app.config["RETENTION_DAYS"]


def erasure_date(closed_on: date | None) -> date | None:
    """The day from which a case closed on `closed_on` is erased."""
    return None if closed_on is None else closed_on + timedelta(days=retention_days())


def _lead_case(actor: User, case_ref) -> Case:
    case, access = load_case_for(actor, case_ref)
    if not access.is_lead:
        raise Forbidden("Nur die federführende Stelle schließt einen Fall ab oder öffnet ihn wieder.")
    return case


def close_case(actor: User, case_ref) -> Case:
    """The lead agency ends the cooperation: from today the retention period runs."""
    case = _lead_case(actor, case_ref)
    if case.closed_on is not None:
        raise Conflict(f"Der Fall ist bereits seit dem {datum(case.closed_on)} abgeschlossen.")
    case.closed_on = today()
    audit.record("case.close", actor=actor, case_id=case.id)
    return case


def reopen_case(actor: User, case_ref) -> Case:
    """The cooperation goes on after all: the retention period stops until the case is closed again."""
    case = _lead_case(actor, case_ref)
    if case.closed_on is None:
        raise Conflict("Der Fall ist nicht abgeschlossen.")
    case.closed_on = None
    audit.record("case.reopen", actor=actor, case_id=case.id)
    return case


def due_for_erasure(day: date | None = None) -> list[Case]:
    """Cases closed at least the retention period before `day` (default today) and not yet erased."""
    last_closing = (day or today()) - timedelta(days=retention_days())
    return list(
        db.session.scalars(
            select(Case).where(Case.closed_on <= last_closing, Case.erased_at.is_(None)).order_by(Case.id)
        )
    )


def erase_case(case: Case, reason: str) -> None:
    """Destroy the case's data key and empty what the case holds in plain text; on record in the audit log with
    the reason (which names no person: it is the log's, and the log is kept)."""
    if case.erased_at is not None:
        raise Conflict(f"Der Fall {case.number} ist bereits gelöscht.")
    key = db.session.get(CaseKey, case.id)
    if key is not None:
        key.wrapped, key.destroyed_at = None, utcnow()
    db.session.execute(delete(CaseNameToken).where(CaseNameToken.case_id == case.id))
    for field in SEALED_FIELDS:
        setattr(case, field, None)
    for field, empty in PLAIN_FIELDS.items():
        setattr(case, field, empty)
    case.erased_at = case.updated_at = utcnow()
    audit.record("case.erase", case_id=case.id, detail={"reason": reason})
    # Packages above the core drop what this process holds of the case (the minutes' open documents).
    for forget in current_app.extensions.get("fk_erasure_hooks", ()):
        forget(case.id)
