"""The Lenkungsgruppe backlog after OParl Paper / Consultation / Organization / Membership.

An escalation (Paper) carries no personal data. Its link to cases lives in `escalation_cases`, a table that only
the cases' teams may follow; everyone else sees the denormalised `case_count`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fallkonferenz.extensions import db
from fallkonferenz.localtime import today
from fallkonferenz.models import Agency, User, utcnow

CATEGORIES = {
    "foerderluecke": "Förderlücke",
    "zustaendigkeit": "Zuständigkeit/Schnittstelle",
    "rechtslage": "Rechtslage",
    "wartezeiten": "Verfahrensdauer/Wartezeiten",
    "angebot_sprache": "Angebotslücke – Sprache",
    "angebot_kinderbetreuung": "Angebotslücke – Kinderbetreuung",
    "angebot_mobilitaet": "Angebotslücke – Mobilität",
    "angebot_wohnen": "Angebotslücke – Wohnen",
    "datenaustausch": "Datenaustausch/Datenschutz",
    "ressourcen": "Ressourcen/Personal",
}

# The main line of an item's life, in order; abgelehnt and zusammengefuehrt end it from any open state.
FLOW = ("eingereicht", "gesichtet", "tagesordnung", "arbeitsgruppe", "empfehlung", "umsetzung", "umgesetzt")
STATES = {
    "eingereicht": "eingereicht",
    "gesichtet": "gesichtet",
    "tagesordnung": "auf der Tagesordnung",
    "arbeitsgruppe": "in der Arbeitsgruppe",
    "empfehlung": "Empfehlung beschlossen",
    "umsetzung": "in Umsetzung",
    "umgesetzt": "umgesetzt",
    "abgelehnt": "abgelehnt",
    "zusammengefuehrt": "zusammengeführt",
}
CLOSED_STATES = frozenset({"umgesetzt", "abgelehnt", "zusammengefuehrt"})
# What happens next to an item in each open state, as its page tells the people who reported or support it.
NEXT_STEPS = {
    "eingereicht": "Die Lenkungsgruppe sichtet neu gemeldete Themen und legt ihre Priorität fest.",
    "gesichtet": "Das Thema wartet auf einen Platz auf der Tagesordnung einer Sitzung der Lenkungsgruppe.",
    "tagesordnung": "Die Lenkungsgruppe berät das Thema in ihrer Sitzung: Sie beschließt eine Empfehlung, gibt es "
    "an eine Arbeitsgruppe, vertagt es oder lehnt es ab.",
    "arbeitsgruppe": "Die Arbeitsgruppe erarbeitet einen Vorschlag und berichtet der Lenkungsgruppe in einer ihrer "
    "nächsten Sitzungen.",
    "empfehlung": "Jede beteiligte Stelle meldet, wie weit sie die Empfehlung umsetzt.",
    "umsetzung": "Das Thema ist abgeschlossen, sobald jede beteiligte Stelle ihre Umsetzung als umgesetzt oder "
    "nicht umsetzbar gemeldet hat.",
}
# States after which the steering group has decided on the item (for the time-to-decision figure).
DECIDED_STATES = frozenset({"empfehlung", "umsetzung", "umgesetzt", "abgelehnt"})


# The main line moves one step at a time. A working group is optional: the steering meeting may adopt a
# recommendation directly, and a working group reports back to the next meeting.
_FORWARD = {
    "eingereicht": {"gesichtet"},
    "gesichtet": {"tagesordnung"},
    "tagesordnung": {"arbeitsgruppe", "empfehlung"},
    "arbeitsgruppe": {"tagesordnung", "empfehlung"},
    "empfehlung": {"umsetzung"},
    "umsetzung": {"umgesetzt"},
}


# Once a recommendation is adopted, each agency's implementation of it is tracked on this item: it is not merged
# into another (a duplicate is merged into it instead).
_NOT_MERGED = frozenset({"empfehlung", "umsetzung"})


def transitions_from(state: str) -> set[str]:
    """Allowed next states: the next step of the flow, or ending the item while it is open (merging it only until
    a recommendation is adopted)."""
    if state in CLOSED_STATES:
        return set()
    return _FORWARD[state] | {"abgelehnt"} | (set() if state in _NOT_MERGED else {"zusammengefuehrt"})


PRIORITIES = {1: "hoch", 2: "mittel", 3: "niedrig"}
IMPLEMENTATION_STATUS = {
    "offen": "offen",
    "in_arbeit": "in Arbeit",
    "umgesetzt": "umgesetzt",
    "nicht_umsetzbar": "nicht umsetzbar",
}
IMPLEMENTATION_DONE = frozenset({"umgesetzt", "nicht_umsetzbar"})
GROUP_STATUS = {"aktiv": "aktiv", "abgeschlossen": "abgeschlossen"}


class Escalation(db.Model):
    """A de-identified structural problem (OParl Paper) in the Lenkungsgruppe backlog."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)  # LG-2026-014
    year: Mapped[int]
    seq: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    rechtskreise: Mapped[str] = mapped_column(String(200), default="")  # comma-separated codes
    agencies: Mapped[str] = mapped_column(String(200), default="")  # comma-separated agency codes
    proposed_solution: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="eingereicht")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))
    working_group_id: Mapped[int | None] = mapped_column(ForeignKey("working_groups.id"), index=True)
    case_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    implemented_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    created_agency: Mapped[Agency] = relationship(lazy="joined")
    merged_into: Mapped[Escalation | None] = relationship(remote_side=[id])

    @property
    def rechtskreis_list(self) -> list[str]:
        return [r for r in self.rechtskreise.split(",") if r]

    @property
    def agency_list(self) -> list[str]:
        return [a for a in self.agencies.split(",") if a]

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES


class EscalationCase(db.Model):
    """Which cases an escalation affects; followed only by members of those cases' teams."""

    __tablename__ = "escalation_cases"
    __table_args__ = (UniqueConstraint("escalation_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Supporter(db.Model):
    """A user who raised or joined an escalation ("betrifft uns auch"); notified of every transition."""

    __tablename__ = "escalation_supporters"

    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Transition(db.Model):
    """One state change of an escalation: who, when, from, to, why."""

    __tablename__ = "escalation_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Consultation(db.Model):
    """An escalation on the agenda of a Lenkungsgruppe-Sitzung (OParl Consultation)."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), unique=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkingGroup(db.Model):
    """An Arbeitsgruppe (OParl Organization) with a mandate and a due date."""

    __tablename__ = "working_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    mandate: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="aktiv")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lead: Mapped[User | None] = relationship()
    members: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="Membership.id"
    )
    reports: Mapped[list[StatusReport]] = relationship(
        cascade="all, delete-orphan", order_by="StatusReport.created_at.desc()"
    )


class Membership(db.Model):
    """A person in a working group on behalf of an agency (OParl Membership.onBehalfOf)."""

    __tablename__ = "working_group_members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    on_behalf_of_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(20), default="mitglied")  # leitung, mitglied
    start_date: Mapped[date] = mapped_column(default=lambda: today())

    group: Mapped[WorkingGroup] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")
    on_behalf_of: Mapped[Agency] = relationship(lazy="joined")


class StatusReport(db.Model):
    __tablename__ = "working_group_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("working_groups.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class Recommendation(db.Model):
    """An Empfehlung the Lenkungsgruppe adopted for an escalation."""

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    adopted_on: Mapped[date]
    due_date: Mapped[date | None]
    conference_id: Mapped[int | None] = mapped_column(ForeignKey("conferences.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    implementations: Mapped[list[Implementation]] = relationship(
        back_populates="recommendation", cascade="all, delete-orphan", order_by="Implementation.agency_id"
    )


class Implementation(db.Model):
    """One member agency's implementation of a recommendation."""

    __tablename__ = "implementations"
    __table_args__ = (UniqueConstraint("recommendation_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="offen")
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    recommendation: Mapped[Recommendation] = relationship(back_populates="implementations")
    agency: Mapped[Agency] = relationship(lazy="joined")


# The dashboard's aggregates read these covering indexes instead of the wide rows.
Index("ix_escalations_state_priority", Escalation.state, Escalation.priority)
Index("ix_escalations_category_state", Escalation.category, Escalation.state, Escalation.case_count)
Index("ix_escalations_state_created", Escalation.state, Escalation.created_at)
Index("ix_escalations_decided", Escalation.decided_at, Escalation.implemented_at, Escalation.created_at)
