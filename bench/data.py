"""Seed a benchmark-sized instance: cases, notes, consents, an audit chain and two conferences, all for real."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from flask import Flask
from sqlalchemy import func, insert, select, text

from agenda import items as agenda_items
from agenda import service as agenda_service
from agenda.models import AgendaItem, Conference
from consent.models import Consent, ConsentGrant
from fallkonferenz import audit, create_app
from fallkonferenz.auth import service as auth_service
from fallkonferenz.casecrypto import UNREADABLE, ciphers_for, create_case_key, keyring
from fallkonferenz.demo import AGENCIES, DEMO_PASSWORD, USERS
from fallkonferenz.demo_data import CASES as DEMO_CASES
from fallkonferenz.demo_data import EXTRA_NAMES
from fallkonferenz.extensions import db
from fallkonferenz.models import Agency, AuditEvent, AuditHead, Case, CaseNameToken, Note, User, utcnow
from fallkonferenz.vocab import CATEGORIES, FIELDS, RECHTSKREISE
from tests.conftest import instance_config

PASSWORD = DEMO_PASSWORD
BATCH = 500  # cases per transaction: big enough for fast executemany, small enough to keep memory flat
GRANTED = ("stammdaten", "aufenthalt", "bildung_arbeit", "leistungen")
SHARED_WITH = ("JC", "AA")
RESIDENCE = ("Aufenthaltsgestattung", "Duldung", "Aufenthaltserlaubnis § 24 AufenthG", "Niederlassungserlaubnis")
LANGUAGES = ("Arabisch", "Dari", "Tigrinya", "Ukrainisch", "Somali", "Farsi", "Französisch", "Paschtu")
NATIONALITIES = ("syrisch", "afghanisch", "eritreisch", "ukrainisch", "somalisch", "guineisch", "irakisch")
STREETS = ("Lindenstraße", "Am Mühlbach", "Bahnhofstraße", "Schulweg", "Gartenstraße", "Kirchplatz")
# Three more case workers per agency, so that a conference can have 20 participants.
MORE_WORKERS = (
    ("ki.brandt", "Karin Brandt (Case Management KI)", "KI"),
    ("ki.aydin", "Mehmet Aydın (Case Management KI)", "KI"),
    ("ki.lorenz", "Sabine Lorenz (Integrationsberatung KI)", "KI"),
    ("jc.berger", "Thomas Berger (Fallmanagement JC)", "JC"),
    ("jc.wolff", "Nadine Wolff (Arbeitsvermittlung JC)", "JC"),
    ("jc.hansen", "Ole Hansen (Leistungsabteilung JC)", "JC"),
    ("aa.schulte", "Petra Schulte (Berufsberatung AA)", "AA"),
    ("aa.vogel", "Markus Vogel (Arbeitsvermittlung AA)", "AA"),
    ("aa.sahin", "Elif Şahin (Reha-Beratung AA)", "AA"),
    ("abh.kraemer", "Stefan Krämer (Sachbearbeitung ABH)", "ABH"),
    ("abh.neumann", "Julia Neumann (Sachbearbeitung ABH)", "ABH"),
    ("abh.petersen", "Sven Petersen (Sachgebietsleitung ABH)", "ABH"),
    ("ja.koch", "Miriam Koch (ASD Jugendamt)", "JA"),
    ("ja.fuchs", "Daniel Fuchs (Jugendberufshilfe JA)", "JA"),
    ("ja.lange", "Sophie Lange (Pflegekinderdienst JA)", "JA"),
)
# General agenda items (kind, title); the last one closes the agenda.
GENERAL_ITEMS = (
    ("bericht", "Bericht aus der Lenkungsgruppe"),
    ("bericht", "Bericht: Sprachkursangebote im Kreis"),
    ("bericht", "Bericht: Wohnraumsituation in den Gemeinden"),
    ("bericht", "Bericht: Ausbildungsmesse im Frühjahr"),
    ("bericht", "Bericht: Betreuungsplätze in Kitas"),
    ("bericht", "Bericht: Anerkennung ausländischer Abschlüsse"),
    ("verschiedenes", "Verschiedenes: Urlaubsvertretungen"),
    ("bericht", "Bericht: Neue Träger der Integrationskurse"),
    ("verschiedenes", "Verschiedenes: Termine im nächsten Quartal"),
    ("verschiedenes", "Verschiedenes"),
)


def app_config(instance: Path) -> dict:
    """The config of a benchmark instance: like the tests', but errors answered by the app's handlers."""
    return instance_config(instance, "bench.db", testing=False)


def make_app(instance: Path) -> Flask:
    """Create the app for an instance directory."""
    return create_app(app_config(instance))


def wipe() -> None:
    """Empty every table of the app (keeps the schema); for a DATABASE_URL that may hold old data."""
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@dataclass(frozen=True)
class Worker:
    id: int
    agency_id: int
    code: str
    username: str


@dataclass
class Seeded:
    """What the benchmark needs to know about the seeded data."""

    users: dict[str, str]  # agency code -> username
    case_number: str  # a KI case with 5 notes and an active consent
    search_name: str
    conference_id: int = 0  # 20 participants, 30 items (20 case items, 10 general)
    small_conference_id: int = 0  # the same participants, 10 items (5 case items, 5 general)
    conference_open_case: str = ""  # a case item of the conference that JC sees (consent grants JC)
    conference_closed_case: str = ""  # a case item of the conference without consent: JC sees "vertraulicher Fall"
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    backlog_empty: dict = field(default_factory=dict)  # statements of the backlog pages before it was filled


class Chain:
    """Build audit events exactly as audit.record does, continuing an existing chain."""

    def __init__(self, last_id: int, last_hash: str):
        self.last_id, self.last_hash = last_id, last_hash
        self.rows: list[dict] = []

    def add(self, at: datetime, action: str, actor: Worker, *, case_id=None, categories=(), purpose="", detail=None):
        ev = SimpleNamespace(
            id=self.last_id + 1,
            created_at=at,
            actor_id=actor.id,
            agency_id=actor.agency_id,
            action=action,
            case_id=case_id,
            categories=",".join(sorted(categories)),
            purpose=purpose,
            detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
            prev_hash=self.last_hash,
        )
        ev.hash = audit._digest(ev)
        self.last_id, self.last_hash = ev.id, ev.hash
        self.rows.append(vars(ev))

    def take(self) -> list[dict]:
        rows, self.rows = self.rows, []
        return rows


def note_texts() -> list[str]:
    """Return realistic note texts: the fictional ones of the demo data."""
    texts = [spec["situation"] for spec in DEMO_CASES]
    texts += [n["text"] for spec in DEMO_CASES for n in spec["notes"]]
    return texts


def seed_base() -> dict[str, Worker]:
    """Create the five agencies and one case-working user per agency through the services."""
    for code, name, color in AGENCIES:
        auth_service.create_agency(code, name, color)
    workers = {}
    for username, display, code, role in USERS:
        if role not in ("case_worker", "moderator"):
            continue
        user = auth_service.create_user(
            username=username, display_name=display, agency_code=code, role=role, password=PASSWORD
        )
        workers[code] = Worker(user.id, user.agency_id, code, username)
    db.session.commit()
    return workers


def _year_and_seq(index: int, total: int, this_year: int) -> tuple[int, int]:
    # Case numbers run out at 9999 a year, so the cases are spread over three years.
    per_year = -(-total // 3)
    return this_year - 2 + index // per_year, index % per_year + 1


def seed(app: Flask, *, cases: int = 10_000, notes: int = 50_000, events: int = 100_000) -> Seeded:
    """Fill an empty schema; cases, notes and events are bulk-inserted with ciphertexts from the real functions."""
    started = time.perf_counter()
    rng = random.Random(20261123)
    texts = note_texts()
    given, family = EXTRA_NAMES["given"], EXTRA_NAMES["family"]
    with app.app_context():
        workers = seed_base()
        codes = [code for code, _, _ in AGENCIES]
        head = db.session.get(AuditHead, 1)
        chain = Chain(head.last_id, head.last_hash)
        base_events = head.last_id
        consents_total = (cases + 1) // 2
        fillers = max(0, events - base_events - cases - notes - consents_total)
        now = utcnow()
        today = now.date()
        start = now - timedelta(days=365)
        step = timedelta(days=364) / max(1, events - base_events)
        ring = keyring()
        note_id = consent_id = 0
        target = None
        for batch_start in range(0, cases, BATCH):
            case_rows, key_cases, token_rows, note_rows, consent_rows, grant_rows = [], [], [], [], [], []
            for i in range(batch_start, min(cases, batch_start + BATCH)):
                case_id = i + 1
                lead = workers[codes[i % len(codes)]]
                consented = i % 2 == 0
                # Notes vary from 3 to 7 per case; every block of 25 cases averages exactly 5.
                note_count = 3 + (i // len(codes)) % 5 if notes else 0
                at = start + step * (chain.last_id - base_events)
                year, seq = _year_and_seq(i, cases, today.year)
                with db.session.no_autoflush:
                    # Adds the wrapped key to the session; it is flushed after the case rows exist.
                    cipher = create_case_key(case_id)
                key_cases.append(case_id)
                first, last = rng.choice(given), rng.choice(family)
                birth = date(1998, 1, 1) + timedelta(days=rng.randrange(10 * 365))
                master = {
                    "given_name": first,
                    "family_name": last,
                    "birth_date": birth.isoformat(),
                    "address": f"{rng.choice(STREETS)} {rng.randrange(1, 80)}, 12345 Musterstadt",
                    "phone": f"0151 {rng.randrange(10**6, 10**7)}",
                }
                row = {f"{k}_enc": cipher.encrypt("cases", case_id, k, v) for k, v in master.items()}
                row |= {
                    "id": case_id,
                    "number": f"FK-{year}-{seq:04d}",
                    "year": year,
                    "seq": seq,
                    "lead_agency_id": lead.agency_id,
                    "case_worker_id": lead.id,
                    "nationality": rng.choice(NATIONALITIES),
                    "languages": ", ".join(rng.sample(LANGUAGES, 2)) + ", Deutsch (A2)",
                    "interpreter_needed": rng.random() < 0.4,
                    "residence_status": rng.choice(RESIDENCE),
                    "residence_valid_until": today + timedelta(days=rng.randrange(30, 700)),
                    "rechtskreise": ",".join(rng.sample(list(RECHTSKREISE), rng.randint(1, 2))),
                    "fields": ",".join(rng.sample(list(FIELDS), rng.randint(1, 3))),
                    "created_at": at,
                    "updated_at": at,
                }
                case_rows.append(row)
                tokens = ring.blind_tokens(first) | ring.blind_tokens(last)
                token_rows += [{"case_id": case_id, "token": t} for t in tokens]
                chain.add(at, "case.create", lead, case_id=case_id, categories=["stammdaten", "aufenthalt"])
                for n in range(note_count):
                    note_id += 1
                    author, category = lead, list(CATEGORIES)[(i + n) % len(CATEGORIES)]
                    if consented and n % 3 == 2:
                        # Partner agencies write within what the consent shares with them.
                        author = workers[SHARED_WITH[n % 2]]
                        category = GRANTED[(i + n) % len(GRANTED)]
                    note_at = at + step * (n + 1) / (note_count + 2)
                    note_rows.append(
                        {
                            "id": note_id,
                            "case_id": case_id,
                            "author_id": author.id,
                            "author_agency_id": author.agency_id,
                            "category": category,
                            "text_enc": cipher.encrypt("notes", note_id, "text", rng.choice(texts)),
                            "created_at": note_at,
                        }
                    )
                    chain.add(
                        note_at, "note.create", author, case_id=case_id, categories=[category], detail={"note": note_id}
                    )
                if consented:
                    consent_id += 1
                    signed = at.date()
                    consent_rows.append(
                        {
                            "id": consent_id,
                            "case_id": case_id,
                            "version": 1,
                            "grantor_kind": "client",
                            "grantor_name_enc": cipher.encrypt("consents", consent_id, "grantor_name", ""),
                            "signed_on": signed,
                            "valid_from": signed,
                            "valid_until": today + timedelta(days=200),
                            "purpose": "Abstimmung des Integrationsplans in der Fallkonferenz",
                            "verified_by_id": lead.id,
                            "created_by_id": lead.id,
                            "created_at": at,
                        }
                    )
                    grant_rows += [
                        {"consent_id": consent_id, "agency_id": workers[code].agency_id, "category": cat}
                        for code in sorted(SHARED_WITH)
                        for cat in sorted(GRANTED)
                    ]
                    chain.add(
                        at + step * 0.9,
                        "consent.grant",
                        lead,
                        case_id=case_id,
                        categories=GRANTED,
                        detail={"consent": consent_id, "version": 1, "agencies": sorted(SHARED_WITH)},
                    )
                # Reads spread over the history, so the chain reaches the requested size.
                for _ in range(fillers * (i + 1) // cases - fillers * i // cases):
                    chain.add(
                        at + step * 0.95,
                        "case.read",
                        lead,
                        case_id=case_id,
                        categories=["stammdaten"],
                        purpose="Fallbearbeitung",
                    )
                if target is None and lead.code == "KI" and consented and note_count == 5:
                    target = row["number"]
            with db.session.no_autoflush:
                db.session.execute(insert(Case.__table__), case_rows)
            db.session.flush()  # the case keys, now that their cases exist
            db.session.execute(insert(CaseNameToken.__table__), token_rows)
            if note_rows:
                db.session.execute(insert(Note.__table__), note_rows)
            if consent_rows:
                db.session.execute(insert(Consent.__table__), consent_rows)
                db.session.execute(insert(ConsentGrant.__table__), grant_rows)
            db.session.execute(insert(AuditEvent.__table__), chain.take())
            db.session.commit()
            db.session.expunge_all()
        remaining = events - chain.last_id
        filler_user = workers["KI"]
        for _ in range(max(0, remaining)):
            chain.add(now, "case.list", filler_user, purpose="Fallübersicht", detail={"cases": [], "search": None})
        if chain.rows:
            db.session.execute(insert(AuditEvent.__table__), chain.take())
        head = db.session.get(AuditHead, 1)
        head.last_id, head.last_hash = chain.last_id, chain.last_hash
        db.session.commit()
        advance_sequences()
        seed_more_workers()
        conferences = seed_conferences(workers["KI"].username, today, avoid={target})
        counts = {
            "users": db.session.scalar(select(func.count()).select_from(User)),
            "cases": db.session.scalar(select(func.count()).select_from(Case)),
            "notes": db.session.scalar(select(func.count()).select_from(Note)),
            "consents": db.session.scalar(select(func.count()).select_from(Consent)),
            "conferences": db.session.scalar(select(func.count()).select_from(Conference)),
            "agenda_items": db.session.scalar(select(func.count()).select_from(AgendaItem)),
            "audit_events": db.session.scalar(select(func.count()).select_from(AuditEvent)),
        }
    return Seeded(
        users={code: w.username for code, w in workers.items()},
        case_number=target or "",
        search_name=family[3],
        counts=counts,
        seconds=time.perf_counter() - started,
        **conferences,
    )


def seed_more_workers() -> None:
    """Create three more case workers per agency through the service (cheap Argon2 from the config)."""
    for username, display, code in MORE_WORKERS:
        auth_service.create_user(
            username=username, display_name=display, agency_code=code, role="case_worker", password=PASSWORD
        )
    db.session.commit()


def _ki_cases(avoid: set) -> tuple[list[str], list[str]]:
    """Numbers of KI-led cases in id order: those whose consent grants JC, and those without a consent."""
    agency = dict(db.session.execute(select(Agency.code, Agency.id)).all())
    rows = db.session.execute(
        select(Case.id, Case.number).where(Case.lead_agency_id == agency["KI"]).order_by(Case.id).limit(200)
    ).all()
    granted = set(
        db.session.scalars(
            select(Consent.case_id)
            .join(ConsentGrant, ConsentGrant.consent_id == Consent.id)
            .where(ConsentGrant.agency_id == agency["JC"], Consent.case_id.in_([r.id for r in rows]))
        )
    )
    rows = [r for r in rows if r.number not in avoid]
    return [r.number for r in rows if r.id in granted], [r.number for r in rows if r.id not in granted]


def _plan(moderator: User, participants: list[User], day: date, hours: int, title: str, cases: list, n_general: int):
    """Plan a conference, fill its agenda and invite, all through the services as the moderator would."""
    start = datetime(day.year, day.month, day.day, 9)
    conference = agenda_service.create_conference(
        moderator,
        agenda_service.ConferenceInput(
            title=title,
            kind="fallkonferenz",
            start=start,
            end=start + timedelta(hours=hours),
            location="Kreishaus Musterstadt, Raum 2.14",
            video_link="https://video.kreis-musterstadt.example/fallkonferenz",
        ),
        [u.id for u in participants],
    )
    # General items spread evenly between the case items; the agenda ends with "Verschiedenes".
    total = len(cases) + n_general
    general, pending = iter(GENERAL_ITEMS[-n_general:]), iter(cases)
    presenters = [u for u in participants if u.agency_id == moderator.agency_id]
    for i in range(total):
        if (i + 1) * n_general // total > i * n_general // total:
            kind, text = next(general)
            data = agenda_items.ItemInput(text, kind, 10, presenter_id=participants[i % len(participants)].id)
        else:
            presenter = presenters[i % len(presenters)].id
            data = agenda_items.ItemInput("Fallbesprechung", "fallbesprechung", 15, next(pending), presenter)
        # Confirmed: agencies without consent see the case item only as "vertraulicher Fall".
        agenda_items.add_item(moderator, conference.id, data, confirmed=True)
    agenda_service.set_state(moderator, conference.id, "eingeladen")
    db.session.commit()
    return conference.id


def seed_conferences(moderator_name: str, today: date, avoid: set) -> dict:
    """Two invited conferences of the KI moderator with all 20 case workers: 30 items, and 10 for comparison."""
    moderator = db.session.scalar(select(User).where(User.username == moderator_name))
    others = db.session.scalars(
        select(User).where(User.role == "case_worker", User.id != moderator.id).order_by(User.id)
    ).all()
    participants = [moderator, *others[:19]]
    open_cases, closed_cases = _ki_cases(avoid)
    # Alternating: half of the case items open to JC through the consent, half confidential for JC.
    big = [n for pair in zip(open_cases[:10], closed_cases[:10], strict=True) for n in pair]
    small = [open_cases[10], closed_cases[10], open_cases[11], closed_cases[11], open_cases[12]]
    # Different cases and days: no item of one is the other's Wiedervorlage, no participant is double-booked.
    big_id = _plan(moderator, participants, today + timedelta(days=3), 8, "Fallkonferenz Kreis Musterstadt", big, 10)
    small_id = _plan(moderator, participants, today + timedelta(days=4), 3, "Fallkonferenz kurz", small, 5)
    return {
        "conference_id": big_id,
        "small_conference_id": small_id,
        "conference_open_case": big[0],
        "conference_closed_case": big[1],
    }


def advance_sequences(models=(Case, Note, Consent)) -> None:
    # Rows were inserted with explicit ids; PostgreSQL's sequences must move past them for later inserts.
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        sequence = func.pg_get_serial_sequence(model.__tablename__, "id")
        db.session.execute(select(func.setval(sequence, select(func.max(model.id)).scalar_subquery())))
    db.session.commit()


def check(app: Flask) -> list[str]:
    """Verify the seeded data with the app's own code: the audit chain and a sample of decryptions."""
    problems = [f"audit #{f.event_id}: {f.problem}" for f in _verify(app)]
    with app.app_context():
        sample = db.session.scalars(select(Case).where(Case.id % 997 == 1)).all()
        ciphers = ciphers_for([c.id for c in sample])
        for case in sample:
            value = ciphers[case.id].read("cases", case.id, "family_name", case.family_name_enc)
            if value in (None, UNREADABLE) or value not in EXTRA_NAMES["family"]:
                problems.append(f"case {case.number}: name does not decrypt")
        db.session.rollback()
    return problems


def _verify(app: Flask):
    with app.app_context():
        findings = audit.verify()
        db.session.rollback()
        return findings
