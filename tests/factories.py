"""Factory helpers that build data through the services, inside an app context."""

from __future__ import annotations

from datetime import timedelta

from consent import service as consent_service
from fallkonferenz.auth import service as auth_service
from fallkonferenz.cases import service as case_service
from fallkonferenz.demo import AGENCIES
from fallkonferenz.extensions import db
from fallkonferenz.models import utcnow
from fallkonferenz.vocab import CATEGORIES

PASSWORD = "ein-langes-passwort"
CODES = [code for code, _, _ in AGENCIES]


def make_agencies() -> dict:
    return {code: auth_service.create_agency(code, name, color) for code, name, color in AGENCIES}


def make_user(code: str, role: str = "case_worker", username: str | None = None):
    return auth_service.create_user(
        username=username or f"{code.lower()}.{role}",
        display_name=f"{role} {code}",
        agency_code=code,
        role=role,
        password=PASSWORD,
    )


def make_world() -> dict:
    """Five agencies, one case worker each (KI as moderator)."""
    make_agencies()
    users = {code: make_user(code, "moderator" if code == "KI" else "case_worker") for code in CODES}
    db.session.commit()
    return users


def make_case(lead, given="Amal", family="Haddad", **extra):
    data = {
        "given_name": given,
        "family_name": family,
        "birth_date": utcnow().date().replace(year=2004, month=3, day=17),
        "address": "Lindenstraße 12, 12345 Musterstadt",
        "phone": "0151 2345678",
        "nationality": "syrisch",
        "residence_status": "Aufenthaltsgestattung",
        "fields": ["sprache"],
        "rechtskreise": ["SGB II"],
    } | extra
    return case_service.create_case(lead, data)


def consent_input(grants, state: str = "active", **extra) -> consent_service.ConsentInput:
    today = utcnow().date()
    signed, start, end = {
        "active": (today - timedelta(days=10), today - timedelta(days=10), today + timedelta(days=200)),
        "expired": (today - timedelta(days=400), today - timedelta(days=400), today - timedelta(days=1)),
        "future": (today - timedelta(days=1), today + timedelta(days=5), today + timedelta(days=200)),
        "revoked": (today - timedelta(days=10), today - timedelta(days=10), today + timedelta(days=200)),
    }[state]
    values = {
        "grantor_kind": "client",
        "grantor_name": "",
        "signed_on": signed,
        "valid_from": start,
        "valid_until": end,
        "purpose": "Fallkonferenz",
        "grants": grants,
        "verified": True,
    } | extra
    return consent_service.ConsentInput(**values)


def make_consent(case, lead, grants, state: str = "active", **extra):
    """Grant a consent (grants: list of (agency code, category)) and bring it into `state`."""
    consent = consent_service.grant_consent(lead, case.id, consent_input(grants, state, **extra))
    if state == "revoked":
        consent_service.revoke_consent(lead, case.id, consent.id, "Widerruf im Gespräch")
    return consent


def all_categories(*codes) -> list[tuple[str, str]]:
    return [(code, cat) for code in codes for cat in CATEGORIES]
