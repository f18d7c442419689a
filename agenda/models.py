"""Conferences after OParl Meeting / AgendaItem, with date polls, responses, decisions and tasks."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fallkonferenz.extensions import db
from fallkonferenz.models import Agency, Case, User, utcnow

KINDS = {
    "fallkonferenz": "Fallkonferenz",
    "uebergangskonferenz": "Übergangskonferenz",
    "lenkungsgruppe": "Lenkungsgruppe-Sitzung",
}
STATES = {
    "geplant": "geplant",
    "eingeladen": "eingeladen",
    "laeuft": "läuft",
    "beendet": "beendet",
    "abgesagt": "abgesagt",
}
# Allowed moves of the meeting state (OParl meetingState).
TRANSITIONS = {
    "geplant": {"eingeladen", "abgesagt"},
    "eingeladen": {"laeuft", "abgesagt"},
    "laeuft": {"beendet"},
    "beendet": set(),
    "abgesagt": set(),
}
HELD_STATES = ("laeuft", "beendet")  # a meeting that has begun: its minutes can record and close


def has_begun(start: datetime) -> bool:
    """A start lies in the past, after a minute's grace for the time the form took to send."""
    return start < utcnow() - timedelta(minutes=1)


OVER_STATES = ("beendet", "abgesagt")  # nothing about the meeting changes any more
OPEN_STATES = tuple(s for s in STATES if s not in OVER_STATES)

ITEM_KINDS = {
    "fallbesprechung": "Fallbesprechung",
    "bericht": "Bericht",
    "verschiedenes": "Verschiedenes",
    "beratung": "Beratung (Themenspeicher der Lenkungsgruppe)",
}
RESPONSES = {"offen": "keine Antwort", "zusage": "Zusage", "absage": "Absage", "vertretung": "Vertretung"}
POLL_ANSWERS = {"ja": "ja", "vielleicht": "vielleicht", "nein": "nein"}
TASK_STATUS = {"offen": "offen", "erledigt": "erledigt"}


def new_uid() -> str:
    return f"{uuid.uuid4()}@fallkonferenz"


class Conference(db.Model):
    __tablename__ = "conferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), default="fallkonferenz")
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    location: Mapped[str] = mapped_column(String(300), default="")
    video_link: Mapped[str] = mapped_column(String(500), default="")
    moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(20), default="geplant")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    ical_uid: Mapped[str] = mapped_column(String(100), default=new_uid, unique=True)
    ical_sequence: Mapped[int] = mapped_column(default=0)
    agenda_version: Mapped[int] = mapped_column(default=0)
    # The agenda version the participants were last told of (invitation, change of time, agenda notice).
    agenda_announced_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    moderator: Mapped[User] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", order_by="Participant.id"
    )
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", order_by="AgendaItem.position"
    )
    poll: Mapped[DatePoll | None] = relationship(back_populates="conference", cascade="all, delete-orphan")

    def can_move_to(self, state: str) -> bool:
        return state in TRANSITIONS[self.state]

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def agenda_changed_since_notice(self) -> bool:
        """Invited people know an older agenda than this one (items added, removed or moved since)."""
        return self.state == "eingeladen" and self.agenda_version != self.agenda_announced_version

    @property
    def polling(self) -> bool:
        """The date is still being found by a poll (no slot fixed yet)."""
        return self.poll is not None and self.poll.fixed_slot_id is None

    @property
    def held(self) -> bool:
        """The meeting has started (running or ended): its minutes can record decisions and be closed."""
        return self.state in HELD_STATES


class Participant(db.Model):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("conference_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    response: Mapped[str] = mapped_column(String(20), default="offen")
    substitute_for_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    represented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responded_at: Mapped[datetime | None]
    invited_at: Mapped[datetime | None]

    conference: Mapped[Conference] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    represented_by: Mapped[User | None] = relationship(foreign_keys=[represented_by_id])

    @hybrid_property
    def active(self) -> bool:
        """Still taking part: not replaced by a colleague (in Python and, as `Participant.active`, in SQL)."""
        return self.response != "vertretung"


class AgendaItem(db.Model):
    """A Tagesordnungspunkt; a case item is bound to one case and is never public."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="fallbesprechung")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    time_box: Mapped[int] = mapped_column(default=15)
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conference: Mapped[Conference] = relationship(back_populates="items")
    case: Mapped[Case | None] = relationship()
    presenter: Mapped[User | None] = relationship()


class DatePoll(db.Model):
    """A Terminumfrage: 2–8 proposed slots, answered by the invitees until one is fixed."""

    __tablename__ = "date_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), unique=True)
    fixed_slot_id: Mapped[int | None] = mapped_column(ForeignKey("poll_slots.id", use_alter=True))
    fixed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conference: Mapped[Conference] = relationship(back_populates="poll")
    slots: Mapped[list[PollSlot]] = relationship(
        back_populates="poll", cascade="all, delete-orphan", order_by="PollSlot.start", foreign_keys="PollSlot.poll_id"
    )


class PollSlot(db.Model):
    __tablename__ = "poll_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("date_polls.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]

    poll: Mapped[DatePoll] = relationship(back_populates="slots", foreign_keys=[poll_id])
    answers: Mapped[list[PollAnswer]] = relationship(cascade="all, delete-orphan")

    @property
    def passed(self) -> bool:
        """The slot has begun: it can no longer be fixed (the same minute of grace as a new conference's start)."""
        return has_begun(self.start)


class PollAnswer(db.Model):
    __tablename__ = "poll_answers"

    slot_id: Mapped[int] = mapped_column(ForeignKey("poll_slots.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    answer: Mapped[str] = mapped_column(String(12))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Decision(db.Model):
    """A Beschluss of an agenda item; the live minutes fill these in."""

    __tablename__ = "decisions"
    sealed_field = "text"  # see casecrypto.seal_text

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)  # "" for a case's decision: its text is `sealed`
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # see casecrypto.seal_text
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(db.Model):
    """An Aufgabe: who (agency, person) does what by when; tracked until done."""

    __tablename__ = "tasks"
    sealed_field = "description"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    description: Mapped[str] = mapped_column(Text)  # "" for a case's task: its text is `sealed`
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # see casecrypto.seal_text
    responsible_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="offen")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]

    responsible_agency: Mapped[Agency] = relationship()

    def overdue_on(self, day: date) -> bool:
        """Still open after its due date (due "today" is not yet overdue)."""
        return bool(self.status == "offen" and self.due_date and self.due_date < day)


class CalendarToken(db.Model):
    """The secret of a user's private calendar feed; only its hash is stored, revocable."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


Index("ix_participants_user_conference", Participant.user_id, Participant.conference_id)
