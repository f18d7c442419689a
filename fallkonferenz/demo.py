"""Demo data: Kreis Musterstadt with five agencies, demo logins and fictional cases."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select

from consent import service as consent_service

from .auth import service as auth_service
from .cases import service as case_service
from .demo_data import CASES
from .extensions import db
from .models import Agency, Case, User, utcnow
from .vocab import CATEGORIES

DEMO_PASSWORD = "demo-fallkonferenz"

AGENCIES = [
    ("KI", "Kommunales Integrationszentrum Kreis Musterstadt", "#1f4e79"),
    ("JC", "Jobcenter Kreis Musterstadt", "#7a2e0e"),
    ("AA", "Agentur für Arbeit Musterstadt", "#0b5d3b"),
    ("ABH", "Ausländerbehörde Kreis Musterstadt", "#5b2a86"),
    ("JA", "Jugendamt Kreis Musterstadt", "#8a5a00"),
]

USERS = [
    ("ki.koordination", "Katrin Imhoff", "KI", "moderator"),
    ("jc.fallmanagement", "Jonas Claßen", "JC", "case_worker"),
    ("aa.beratung", "Anna Albers", "AA", "case_worker"),
    ("abh.sachbearbeitung", "Aylin Bektaş", "ABH", "case_worker"),
    ("ja.asd", "Jan Adler", "JA", "case_worker"),
    ("lenkung.vorsitz", "Dr. Lena Vogt", "KI", "steering"),
    ("lenkung.jc", "Jens Carstens", "JC", "steering"),
    ("lenkung.aa", "Andrea Ahrens", "AA", "steering"),
    ("lenkung.abh", "Bernd Hauser", "ABH", "steering"),
    ("lenkung.ja", "Julia Arndt", "JA", "steering"),
    ("dsb", "Dirk Sommer", "KI", "dpo"),
    ("admin", "Administration", "KI", "admin"),
]

CONSENT_PERIODS = {
    # kind: (signed days ago, valid from days ago, valid until days ahead)
    "full": (60, 60, 365),
    "partial_no_health": (40, 40, 300),
    "expired": (500, 500, -30),
    "revoked": (90, 90, 270),
    "future": (2, -10, 365),
    "expiring_soon": (340, 340, 14),
}


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def seed_base() -> dict[str, User]:
    """Agencies and the demo logins."""
    for code, name, color in AGENCIES:
        auth_service.create_agency(code, name, color)
    users = {}
    for username, display, agency, role in USERS:
        users[agency if role in ("case_worker", "moderator") else username] = auth_service.create_user(
            username=username,
            display_name=display,
            agency_code=agency,
            role=role,
            password=DEMO_PASSWORD,
            email=f"{username}@kreis-musterstadt.example",
        )
    return users


def seed_case(spec: dict, workers: dict[str, User], today: date) -> Case:
    """Create one demo case with notes, goals and its consent, as its agencies would."""
    lead = workers[spec["lead_agency"]]
    data = dict(spec)
    data["birth_date"] = date.fromisoformat(spec["birth_date"])
    if spec.get("residence_valid_until"):
        data["residence_valid_until"] = date.fromisoformat(spec["residence_valid_until"])
    case = case_service.create_case(lead, data)
    first = case_service.import_note(case, lead, "stammdaten", spec["situation"])
    first.created_at = utcnow() - timedelta(days=120)
    for n in spec["notes"]:
        # Other agencies wrote their notes while a consent was in force; imported as history.
        note = case_service.import_note(case, workers[n["agency"]], n["category"], n["text"])
        note.created_at = utcnow() - timedelta(days=n["days_ago"])
    agency_ids = {a.code: a.id for a in db.session.scalars(select(Agency))}
    for goal in spec["goals"]:
        row = case_service.import_goal(
            case,
            lead,
            {
                "title": goal["goal"],
                "field": goal["field"],
                "responsible_agency_id": agency_ids[goal["agency"]],
                "status": goal["status"],
            },
        )
        row.due_date = today + timedelta(days=goal["due_in_days"])  # history: some were due weeks ago
    _seed_consent(spec["consent"], case, lead, today)
    return case


def _seed_consent(spec: dict, case: Case, lead: User, today: date) -> None:
    kind = spec["kind"]
    if kind == "none":
        return
    signed, start, end = CONSENT_PERIODS[kind]
    categories = [c for c in CATEGORIES if not (kind == "partial_no_health" and c == "gesundheit")]
    consent = consent_service.grant_consent(
        lead,
        case.id,
        consent_service.ConsentInput(
            grantor_kind=spec.get("grantor", "client"),
            grantor_name=spec.get("guardian_name", ""),
            signed_on=today - timedelta(days=signed),
            valid_from=today - timedelta(days=start),
            valid_until=today + timedelta(days=end),
            purpose=spec.get("purpose") or "Abstimmung des Integrationsplans in der Fallkonferenz",
            grants=[(a, c) for a in spec["agencies"] for c in categories],
            interpreter_used=bool(spec.get("interpreter_used")),
            verified=True,
            document=signed_form_pdf(f"Einwilligung zum Fall {case.number} (Demo, unterschrieben)"),
        ),
    )
    if kind == "revoked":
        consent_service.revoke_consent(
            lead, case.id, consent.id, "Widerruf durch die Klientin/den Klienten im Beratungsgespräch."
        )


def signed_form_pdf(line: str) -> bytes:
    """A one-page PDF standing in for the scanned, signed consent form."""
    text = line.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 60 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += str(number).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def seed(today: date | None = None) -> int:
    """Seed everything into an empty database; return the number of cases."""
    today = today or utcnow().date()
    workers = seed_base()
    for spec in CASES:
        seed_case(spec, workers, today)
    # Packages above the core (conferences, …) add their demo data through the app factory.
    for extra in current_app.extensions.get("fk_demo_seeders", ()):
        extra(today)
    return len(CASES)
