"""Core tables: agencies, users and sessions, cases with their notes and goals, audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Agency(db.Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    color: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    active: Mapped[bool] = mapped_column(default=True)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # set when an administrator chose the password (a new account, a reset): the user must choose her own
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")

    @property
    def may_log_in(self) -> bool:
        """Active, in an active agency: what a login asks, as the administration's pages show it."""
        return self.active and self.agency.active


class UserSession(db.Model):
    """A server-side login session; the cookie holds only its random id."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(db.Model):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "created_at"),
        Index("ix_login_attempts_address_at", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(db.Model):
    """A personal access token for the JSON API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("year", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int]
    seq: Mapped[int]
    lead_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    case_worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Stammdaten: encrypted fields carry the per-case data key.
    given_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    family_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    nationality: Mapped[str] = mapped_column(String(100), default="")
    languages: Mapped[str] = mapped_column(String(300), default="")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    # Aufenthalt
    residence_status: Mapped[str] = mapped_column(String(200), default="")
    residence_valid_until: Mapped[date | None]
    # Stammdaten (organisational)
    rechtskreise: Mapped[str] = mapped_column(String(200), default="")
    fields: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Retention (cases/retention.py): the lead agency closes the case when the cooperation ends; when the retention
    # period after that has passed, the case is erased: its data key is destroyed, and it is gone for everyone.
    closed_on: Mapped[date | None] = mapped_column(index=True)
    erased_at: Mapped[datetime | None]

    lead_agency: Mapped[Agency] = relationship(lazy="joined")
    case_worker: Mapped[User | None] = relationship()

    @property
    def rechtskreis_list(self) -> list[str]:
        return [r for r in self.rechtskreise.split(",") if r]

    @property
    def field_list(self) -> list[str]:
        return [f for f in self.fields.split(",") if f]


class CaseKey(db.Model):
    """A case's data key, wrapped by a master key version; destroying it shreds the case."""

    __tablename__ = "case_keys"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_version: Mapped[int]
    key_version: Mapped[int] = mapped_column(default=1)
    destroyed_at: Mapped[datetime | None]


class CaseNameToken(db.Model):
    """Keyed blind index over client names: search without decrypting every row."""

    __tablename__ = "case_name_tokens"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True, index=True)


class Note(db.Model):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    category: Mapped[str] = mapped_column(String(32))
    text_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Withdrawn by its agency (filed under the wrong category or case, wrong, twice): the text is destroyed, that
    # there was a note and why it went stays, for those who saw it (a file is kept complete).
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(String(32))

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    author_agency: Mapped[Agency] = relationship()


Index("ix_notes_case_agency", Note.case_id, Note.author_agency_id)


class Goal(db.Model):
    """A goal of the integration plan."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(32))
    responsible_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    author_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="offen")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    responsible_agency: Mapped[Agency] = relationship(foreign_keys=[responsible_agency_id], lazy="joined")


class AuditEvent(db.Model):
    """One hash-chained audit record: ids and metadata only, never plaintext personal data."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(index=True)
    agency_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(index=True)
    categories: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditEventCase(db.Model):
    """A case an event showed or changed beside others (a list, an agenda, minutes): the event's chained detail
    names them; this index lets the case's access report and the officer's filter find the event."""

    __tablename__ = "audit_event_cases"
    # One b-tree, ordered as the reports look it up (a case's events), and no foreign key to check: it is written
    # with every list a user opens, in the event's transaction; the event's chained detail is the record.
    __table_args__ = {"sqlite_with_rowid": False}

    case_id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(primary_key=True)


class AuditHead(db.Model):
    """The chain's head, one row; updating it serialises writers of the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class OutboxMessage(db.Model):
    """An e-mail: stored first, delivered after commit, retried until it is out; shown to admins."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    ics_method: Mapped[str | None] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(100), default="", index=True)  # e.g. conference:12
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="wartend")  # wartend, zugestellt, fehlgeschlagen
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
