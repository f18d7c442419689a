"""Seed the Lenkungsgruppe backlog at benchmark size: 2,000 items, 20,000 case links, recommendations.

Rows are bulk-inserted (the pages under test only read them); states, dates, priorities and links are spread the
way a few years of escalations would be. The steering members are created through the services.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from backlog.models import (
    CATEGORIES,
    FLOW,
    Escalation,
    EscalationCase,
    Implementation,
    Recommendation,
    Supporter,
    Transition,
    WorkingGroup,
)
from fallkonferenz.auth import service as auth_service
from fallkonferenz.demo import AGENCIES
from fallkonferenz.extensions import db
from fallkonferenz.models import Case, User, utcnow
from fallkonferenz.vocab import RECHTSKREISE

from .data import advance_sequences

TITLES = (
    "Integrationskurs mit Duldung nicht erreichbar",
    "Wohnsitzauflage verhindert Ausbildung im Nachbarkreis",
    "Keine Kinderbetreuung während des Sprachkurses",
    "Lange Wartezeiten bei der Ausländerbehörde",
    "Kein Datenaustausch zwischen Jobcenter und Ausländerbehörde",
    "Fahrtkosten zum Berufskolleg im ländlichen Raum",
    "Anerkennung ausländischer Schulabschlüsse dauert zu lange",
    "Berufssprachkurse mit zu wenigen Plätzen",
)


def seed_steering(password: str) -> dict[str, str]:
    """One steering member per agency (agency code -> username)."""
    users = {}
    for code, _name, _color in AGENCIES:
        username = f"bench.lenkung.{code.lower()}"
        auth_service.create_user(
            username=username,
            display_name=f"Lenkungsgruppe {code}",
            agency_code=code,
            role="steering",
            password=password,
        )
        users[code] = username
    db.session.commit()
    return users


def seed_backlog(items: int = 2_000, links: int = 20_000, seed: int = 20261129) -> dict[str, int]:
    """Bulk-insert the backlog; returns the counts."""
    rng = random.Random(seed)
    now = utcnow()
    case_ids = list(db.session.scalars(select(Case.id)))
    users = dict(db.session.execute(select(User.id, User.agency_id).where(User.role != "admin")).all())
    steering = list(db.session.scalars(select(User.id).where(User.role == "steering")))
    agency_ids = sorted(set(users.values()))
    codes = [code for code, _, _ in AGENCIES]
    group = WorkingGroup(name="AG Übergang Schule–Beruf", mandate="Zugänge zu Ausbildung klären", lead_id=steering[0])
    db.session.add(group)
    db.session.flush()
    categories, rechtskreise = list(CATEGORIES), list(RECHTSKREISE)
    flow_states = list(FLOW) + ["abgelehnt"]
    escalations, transitions, supporters = [], [], []
    per_item = [links // items + (1 if i < links % items else 0) for i in range(items)]
    for i in range(items):
        created = now - timedelta(days=rng.randint(1, 900), minutes=rng.randint(0, 1440))
        state = rng.choice(flow_states)
        decided = (
            created + timedelta(days=rng.randint(20, 120))
            if state in ("empfehlung", "umsetzung", "umgesetzt")
            else None
        )
        implemented = decided + timedelta(days=rng.randint(30, 200)) if state == "umgesetzt" else None
        author = rng.choice(list(users))
        escalations.append(
            {
                "id": i + 1,
                "reference": f"LG-{created.year}-{i + 1:04d}",
                "year": created.year,
                "seq": i + 1,
                "title": f"{TITLES[i % len(TITLES)]} ({i + 1})",
                "description": "Strukturelles Problem aus mehreren Fallkonferenzen; Einzelheiten in der Sitzung.",
                "category": categories[i % len(categories)],
                "rechtskreise": ",".join(rng.sample(rechtskreise, 2)),
                "agencies": ",".join(rng.sample(codes, 2)),
                "proposed_solution": "",
                "state": state,
                "state_reason": "nicht zuständig" if state == "abgelehnt" else "",
                "priority": None if state == "eingereicht" else rng.randint(1, 3),
                "working_group_id": group.id if state == "arbeitsgruppe" else None,
                "case_count": per_item[i],
                "created_by_id": author,
                "created_agency_id": users[author],
                "created_at": created,
                "updated_at": decided or created,
                "decided_at": decided if state != "abgelehnt" else created + timedelta(days=30),
                "implemented_at": implemented,
                "version": 1,
            }
        )
        transitions.append({"escalation_id": i + 1, "from_state": None, "to_state": "eingereicht", "at": created})
        if state != "eingereicht":
            transitions.append({"escalation_id": i + 1, "from_state": "eingereicht", "to_state": state, "at": now})
        supporters.append({"escalation_id": i + 1, "user_id": author, "joined_at": created})
    db.session.execute(insert(Escalation.__table__), escalations)
    db.session.execute(insert(Transition.__table__), transitions)
    db.session.execute(insert(Supporter.__table__), supporters)
    link_rows = []
    for i, count in enumerate(per_item):
        for case_id in rng.sample(case_ids, count):
            author = rng.choice(list(users))
            link_rows.append(
                {
                    "escalation_id": i + 1,
                    "case_id": case_id,
                    "added_by_id": author,
                    "added_agency_id": users[author],
                    "added_at": now,
                }
            )
    for start in range(0, len(link_rows), 5_000):
        db.session.execute(insert(EscalationCase.__table__), link_rows[start : start + 5_000])
    recommendations, implementations = [], []
    for row in escalations:
        if row["state"] in ("empfehlung", "umsetzung", "umgesetzt"):
            rec_id = len(recommendations) + 1
            recommendations.append(
                {
                    "id": rec_id,
                    "escalation_id": row["id"],
                    "text": "Die Lenkungsgruppe empfiehlt ein abgestimmtes Verfahren.",
                    "adopted_on": row["decided_at"].date(),
                    "due_date": row["decided_at"].date() + timedelta(days=180),
                    "created_at": row["decided_at"],
                }
            )
            for agency_id in agency_ids:
                done = row["state"] == "umgesetzt" or rng.random() < 0.3
                implementations.append(
                    {
                        "recommendation_id": rec_id,
                        "agency_id": agency_id,
                        "status": "umgesetzt" if done else rng.choice(("offen", "in_arbeit")),
                        "reason": "",
                        "updated_at": now,
                        "version": 1,
                    }
                )
    if recommendations:
        db.session.execute(insert(Recommendation.__table__), recommendations)
        db.session.execute(insert(Implementation.__table__), implementations)
    db.session.commit()
    advance_sequences((Escalation, Recommendation))
    return {
        "backlog_items": db.session.scalar(select(func.count()).select_from(Escalation)),
        "backlog_case_links": db.session.scalar(select(func.count()).select_from(EscalationCase)),
        "recommendations": len(recommendations),
        "implementations": len(implementations),
    }
