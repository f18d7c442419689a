"""Retention: the lead agency closes a case when the cooperation ends; once the retention period after that has
passed (`RETENTION_DAYS`), the case is erased. Erasing destroys the case's data key (crypto-shredding): every
field, note, consent form and minutes entry sealed under it is unreadable for good, and the case is gone for
everyone. What stays is structure without content: the case number in the audit log, the agenda item a
conference held about it (shown to nobody as the case), the count of an escalation's cases."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from consent.models import Consent

from .. import audit
from ..casecrypto import ciphers_for, keyring
from ..crypto import normalize_name
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..localtime import datum, today
from ..models import Case, CaseKey, CaseNameToken, Goal, User, utcnow
from ..vocab import CASE_NUMBER_RE
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
    return list(db.session.scalars(select(Case).where(*_due(day)).order_by(Case.id)))


def _due(day: date | None = None) -> list:
    last_closing = (day or today()) - timedelta(days=retention_days())
    return [Case.closed_on <= last_closing, Case.erased_at.is_(None)]


def erase_if_due(case_id: int, reason: str) -> Case | None:
    """Erase the case if it is still due (not reopened or erased since it was found due); None if not."""
    case = db.session.scalar(select(Case).where(Case.id == case_id, *_due()).with_for_update(of=Case))
    if case is not None:
        _erase(case, reason)
    return case


def erase_case(case_id: int, reason: str) -> Case:
    """Erase a case now, closed or not (a request under Art. 17 GDPR, say)."""
    case = db.session.scalar(select(Case).where(Case.id == case_id).with_for_update(of=Case))
    if case is None:
        raise NotFound("Fall nicht gefunden.")
    if case.erased_at is not None:
        raise Conflict(f"Der Fall {case.number} ist bereits gelöscht.")
    _check_reason(case, reason)
    _erase(case, reason)
    return case


def _check_reason(case: Case, reason: str) -> None:
    """The reason stays in the audit log, which outlives the case: no name of its client, no birth date, no case
    number (checked against the client's names before the key goes)."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise InvalidInput(errors={"reason": "Bitte einen Grund angeben (höchstens 200 Zeichen)."})
    # whole name words, from the sealed names (the index also holds every name's prefixes: "Art" of "Artur" must
    # not refuse "Art. 17 DSGVO")
    cipher = ciphers_for([case.id]).get(case.id)
    names: set[str] = set()
    if cipher is not None and cipher.key is not None:
        for field in ("given_name", "family_name"):
            plain = cipher.read("cases", case.id, field, getattr(case, f"{field}_enc")) or ""
            names.update(normalize_name(plain).split())
    named = names & set(normalize_name(reason).split())
    if named or CASE_NUMBER_RE.search(reason) or _DATE.search(reason):
        raise InvalidInput(
            errors={"reason": "Der Grund bleibt im Protokoll: bitte ohne Namen, Geburtsdatum und Fallnummer."}
        )


_DATE = re.compile(r"\d{1,2}\s?\.\s?\d{1,2}\s?\.\s?\d{2,4}|\d{4}-\d{2}-\d{2}")


def _erase(case: Case, reason: str) -> None:
    """Destroy the case's data key and empty what the case and its records hold in plain text; on record in the
    audit log with the reason (which names no person: it is the log's, and the log is kept)."""
    key = db.session.get(CaseKey, case.id, with_for_update=True)
    if key is not None:
        key.wrapped, key.destroyed_at = None, utcnow()
    keyring().forget(case.id)
    db.session.execute(delete(CaseNameToken).where(CaseNameToken.case_id == case.id))
    for field in SEALED_FIELDS:
        setattr(case, field, None)
    for field, empty in PLAIN_FIELDS.items():
        setattr(case, field, empty)
    # free text written about the client outside the sealed fields
    db.session.execute(update(Goal).where(Goal.case_id == case.id).values(title=""))
    db.session.execute(
        update(Consent).where(Consent.case_id == case.id).values(purpose="", revoke_reason="", interpreter_language="")
    )
    case.erased_at = case.updated_at = utcnow()
    audit.record("case.erase", case_id=case.id, detail={"reason": reason})
    # Packages above the core empty what they hold of the case (a case item's title). A process holding a case
    # item's minutes drops them at its next read of them (`minutes.service._Cache.get_many`).
    for forget in current_app.extensions.get("fk_erasure_hooks", ()):
        forget(case.id)
