"""Demo minutes: what the October case conference wrote about its cases (sealed under each case's key)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from agenda.demo import PAST_CASES, meeting_titles
from agenda.models import AgendaItem, Conference
from fallkonferenz.extensions import db

from . import records, service

TEXTS = {
    "Amiri": (
        "Herr Amiri berichtet, dass sein Antrag auf Zulassung zum Integrationskurs wegen der Duldung abgelehnt "
        "wurde. Die Deutschkenntnisse liegen weiter bei A1.\n\n"
        "- ABH: Identitätsklärung läuft, Passbeschaffung über die Botschaft beantragt\n"
        "- AA: prüft den Zugang zum Berufssprachkurs\n"
        "- KI: vermittelt bis dahin ein ehrenamtliches Sprachcafé"
    ),
    "Tesfay": (
        "Frau Tesfay ist zum Integrationskurs verpflichtet, kann ihn ohne Betreuung ihrer Tochter aber nicht "
        "beginnen. Der Kurs mit Kinderbetreuung beim Träger in Musterstadt ist bis Februar ausgebucht.\n\n"
        "- JA: prüft einen Platz in der Kindertagespflege\n"
        "- JC: Kostenübernahme der Fahrtkosten zugesagt"
    ),
}


def seed_minutes(today: date) -> None:
    """The past conference's case items get the text their minutes were left with; everyone invited came."""
    past = db.session.scalar(select(Conference).where(Conference.title == meeting_titles(today)[0]))
    if past is None:
        return
    items = db.session.scalars(
        select(AgendaItem).where(AgendaItem.conference_id == past.id).order_by(AgendaItem.position)
    ).all()
    for item, family in zip(items, PAST_CASES, strict=False):
        service.import_text(item.id, past.moderator_id, TEXTS[family])
    records.set_attendances(past.moderator, past.id, {p.user_id: "anwesend" for p in past.participants if p.active})
