"""Consent operations: grant, revoke, history, signed form; all audited, all through the policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import filetype
from flask import current_app
from sqlalchemy import select

from fallkonferenz import audit, localtime
from fallkonferenz.casecrypto import ciphers_for
from fallkonferenz.cases.service import EXPIRY_NOTICE_DAYS, load_case_for
from fallkonferenz.crypto import DecryptionError
from fallkonferenz.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from fallkonferenz.extensions import db
from fallkonferenz.models import Agency, Case, User, utcnow
from fallkonferenz.vocab import CATEGORIES, GRANTOR_KINDS

from .models import Consent, ConsentDocument, ConsentGrant
from .policy import active_consent_clause, viewer_of

ALLOWED_MEDIA = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


class PayloadTooLarge(DomainError):
    status = 413
    message = "Die Datei ist zu groß (höchstens 10 MB)."


@dataclass
class ConsentInput:
    grantor_kind: str
    grantor_name: str
    signed_on: date
    valid_from: date
    valid_until: date
    purpose: str
    grants: list[tuple[str, str]]  # (agency code, category)
    interpreter_used: bool = False
    interpreter_language: str = ""
    verified: bool = False
    document: bytes | None = None


def problems(data: ConsentInput, agencies: dict[str, Agency] | None = None) -> dict[str, str]:
    """What is wrong with a consent's input, per field; a date the form could not read (None) is left to the
    form's own message. The form shows these together with its own, so that one round of corrections is enough."""
    errors = {}
    today = localtime.today()
    agencies = _active_agencies() if agencies is None else agencies
    signed, start, until = data.signed_on, data.valid_from, data.valid_until
    if data.grantor_kind not in GRANTOR_KINDS:
        errors["grantor_kind"] = "Bitte wählen Sie, wer die Einwilligung erteilt."
    if data.grantor_kind == "guardian" and not data.grantor_name.strip():
        errors["grantor_name"] = "Bitte nennen Sie die gesetzliche Vertretung."
    if signed and signed > today:
        errors["signed_on"] = "Das Unterschriftsdatum darf nicht in der Zukunft liegen."
    if until and start and until < start:
        errors["valid_until"] = "„Gültig bis“ muss nach „Gültig ab“ liegen."
    elif until and until.year > 2099:  # a typo; and the day after 31.12.9999 is no date at all
        errors["valid_until"] = "Bitte ein Datum bis spätestens 31.12.2099 angeben."
    if signed and signed.year < 1900:
        errors["signed_on"] = "Bitte prüfen Sie das Unterschriftsdatum."
    if start and signed and start < signed:
        errors["valid_from"] = "Die Einwilligung kann nicht vor ihrer Unterschrift gelten."
    if not data.purpose.strip():
        errors["purpose"] = "Bitte nennen Sie den Zweck."
    if not data.verified:
        # Data is shared the moment the consent is saved: someone must have checked the signed declaration.
        errors["verified"] = (
            "Eine Einwilligung gilt erst, wenn die unterschriebene Erklärung geprüft ist: bitte bestätigen."
        )
    unknown_agencies = sorted({code for code, _ in data.grants if code not in agencies})
    unknown_categories = sorted({cat for _, cat in data.grants if cat not in CATEGORIES})
    if unknown_agencies:
        errors["grants"] = "Unbekannte Stelle: " + ", ".join(unknown_agencies)
    elif unknown_categories:
        errors["grants"] = "Unbekannte Datenkategorie: " + ", ".join(unknown_categories)
    elif not data.grants:
        errors["grants"] = "Bitte wählen Sie mindestens eine Stelle und Datenkategorie."
    if data.document is not None:
        if len(data.document) > current_app.config["MAX_UPLOAD_BYTES"]:
            raise PayloadTooLarge()
        kind = filetype.guess(data.document)
        if kind is None or kind.mime not in ALLOWED_MEDIA:
            errors["document"] = "Die Datei ist kein PDF, PNG oder JPEG (Inhalt geprüft)."
    return errors


def _active_agencies() -> dict[str, Agency]:
    return {a.code: a for a in db.session.scalars(select(Agency).where(Agency.active.is_(True)))}


def _check(data: ConsentInput) -> dict[str, Agency]:
    agencies = _active_agencies()
    errors = problems(data, agencies)
    if errors:
        raise InvalidInput(errors=errors)
    return agencies


def grant_consent(actor: User, case_ref, data: ConsentInput) -> Consent:
    """Record a signed consent; a new version supersedes the current one. Lead agency only."""
    case, access = load_case_for(actor, case_ref)
    if not access.is_lead:
        raise Forbidden("Einwilligungen erfasst die federführende Stelle.")
    agencies = _check(data)
    now = utcnow()
    previous = db.session.scalars(
        select(Consent).where(Consent.case_id == case.id).order_by(Consent.version.desc())
    ).all()
    version = (previous[0].version + 1) if previous else 1
    consent = Consent(
        case_id=case.id,
        version=version,
        grantor_kind=data.grantor_kind,
        signed_on=data.signed_on,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        purpose=data.purpose.strip(),
        interpreter_used=data.interpreter_used,
        interpreter_language=data.interpreter_language.strip(),
        verified_by_id=actor.id if data.verified else None,
        created_by_id=actor.id,
    )
    for old in previous:
        if old.revoked_at is None and old.valid_until >= localtime.local_date(now):
            old.revoked_at, old.revoked_by_id = now, actor.id
            old.revoke_reason = f"Ersetzt durch Version {version}"
            consent.supersedes_id = consent.supersedes_id or old.id
    consent.grants = [ConsentGrant(agency_id=agencies[code].id, category=cat) for code, cat in sorted(set(data.grants))]
    db.session.add(consent)
    db.session.flush()
    cipher = ciphers_for([case.id])[case.id]
    consent.grantor_name_enc = cipher.encrypt("consents", consent.id, "grantor_name", data.grantor_name.strip())
    if data.document is not None:
        kind = filetype.guess(data.document)
        consent.document = ConsentDocument(
            media_type=kind.mime,
            size=len(data.document),
            content_enc=cipher.encrypt("consent_documents", consent.id, "content", data.document),
        )
    audit.record(
        "consent.grant",
        actor=actor,
        case_id=case.id,
        categories=sorted({c for _, c in data.grants}),
        detail={"consent": consent.id, "version": version, "agencies": sorted({a for a, _ in data.grants})},
    )
    return consent


def revoke_consent(actor: User, case_ref, consent_id: int, reason: str) -> Consent:
    """Withdraw a consent at once; any agency of the case team can record the client's Widerruf, with or without
    a reason (the client owes none).

    An agency outside the team (it sees the case only through its own old entries) sees no other versions in the
    history, so it cannot withdraw one either: the same 404 as for an unknown id, which tells it nothing."""
    case, access = load_case_for(actor, case_ref)
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.case_id != case.id or not access.shared:
        raise NotFound("Einwilligung nicht gefunden.")
    reason = (reason or "").strip()  # a Widerruf needs no reason (Art. 7 Abs. 3 DSGVO); a note of it is kept
    if len(reason) > 2000:
        raise InvalidInput(errors={"reason": "Höchstens 2000 Zeichen."})
    if consent.revoked_at is not None:
        raise Conflict("Diese Einwilligung ist bereits widerrufen.")
    consent.revoked_at, consent.revoked_by_id, consent.revoke_reason = utcnow(), actor.id, reason
    audit.record("consent.revoke", actor=actor, case_id=case.id, detail={"consent": consent.id})
    return consent


@dataclass
class ConsentRow:
    consent: Consent
    status: str
    grantor_name: str | None
    grants: dict[str, list[str]]  # agency code -> categories
    own_only: bool = False  # the viewer's agency is not in the case team: only its own grants, no reasons


def consent_history(actor: User, case_ref) -> tuple[Case, list[ConsentRow]]:
    """All versions of a case's consents, newest first; the grantor's name only with Stammdaten.

    The case team (the lead agency, or one an active consent shares the case with) sees every version. An agency
    that sees the case only through its own old entries (after a revocation, say) sees the versions that granted
    it something, with its own grants alone: why its access ended, not whom else the client trusts."""
    case, access = load_case_for(actor, case_ref)
    rows = db.session.scalars(
        select(Consent).where(Consent.case_id == case.id).order_by(Consent.version.desc(), Consent.id.desc())
    ).all()
    superseded = {c.supersedes_id for c in rows if c.supersedes_id}  # before a view of its own grants drops any
    own_only = not access.shared
    if own_only:
        rows = [c for c in rows if any(g.agency_id == actor.agency_id for g in c.grants)]
    cipher = ciphers_for([case.id]).get(case.id)
    codes = dict(db.session.execute(select(Agency.id, Agency.code)).all())
    now = utcnow()
    out = []
    for c in rows:
        name = None
        if access.sees_record_field("stammdaten") and cipher is not None:
            name = cipher.read("consents", c.id, "grantor_name", c.grantor_name_enc, actor)
        grants: dict[str, list[str]] = {}
        for g in c.grants:
            if not own_only or g.agency_id == actor.agency_id:
                grants.setdefault(codes[g.agency_id], []).append(g.category)
        status = c.status_at(now)
        if status == "revoked" and c.id in superseded:
            status = "replaced"  # ended by a later version, not by the client's revocation
        out.append(ConsentRow(c, status, name, grants, own_only))
    audit.record("consent.read", actor=actor, case_id=case.id, purpose="Einwilligungen einsehen")
    return case, out


def consent_document(actor: User, case_ref, consent_id: int) -> tuple[bytes, str, str]:
    """The signed form as (content, media type, file name); needs sight of the Stammdaten."""
    case, access = load_case_for(actor, case_ref)
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.case_id != case.id or consent.document is None:
        raise NotFound("Dokument nicht gefunden.")
    if not access.sees_record_field("stammdaten"):
        raise NotFound("Dokument nicht gefunden.")
    doc = consent.document
    cipher = ciphers_for([case.id])[case.id]
    try:
        content = cipher.decrypt_bytes("consent_documents", consent.id, "content", doc.content_enc)
    except DecryptionError:
        audit.record("crypto.failure", actor=actor, case_id=case.id, detail={"table": "consent_documents"})
        raise DomainError("Das Dokument ist beschädigt und kann nicht ausgeliefert werden.") from None
    audit.record(
        "consent.document_read", actor=actor, case_id=case.id, categories=["stammdaten"], detail={"consent": consent.id}
    )
    name = f"einwilligung-{case.number}-v{consent.version}.{ALLOWED_MEDIA[doc.media_type]}"
    return content, doc.media_type, name


def expiring_consents(actor: User, days: int = EXPIRY_NOTICE_DAYS) -> list[tuple[Case, Consent]]:
    """Active consents of the actor's lead cases that end within `days`."""
    viewer = viewer_of(actor)
    if actor.role not in ("case_worker", "moderator"):
        return []
    now = utcnow()
    rows = db.session.execute(
        select(Case, Consent)
        .join(Consent, Consent.case_id == Case.id)
        .where(
            Case.lead_agency_id == viewer.agency_id,
            Case.erased_at.is_(None),
            active_consent_clause(now),
            Consent.valid_until <= localtime.local_date(now) + timedelta(days=days),
        )
        .order_by(Consent.valid_until)
    ).all()
    if rows:
        audit.record(
            "consent.expiring", actor=actor, purpose="Ablaufende Einwilligungen", case_ids=[c.id for c, _ in rows]
        )
    return [(case, consent) for case, consent in rows]


def parse_grants(values) -> list[tuple[str, str]]:
    """Read the agency × category checkbox matrix (values like `JC:leistungen`)."""
    return [(code.strip().upper(), cat.strip()) for code, _, cat in (v.partition(":") for v in values)]
