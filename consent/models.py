"""Consent records after HL7 FHIR R5 Consent: grantor, period, provisions, signed form, verification."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fallkonferenz.extensions import db
from fallkonferenz.localtime import local_date
from fallkonferenz.models import Agency, User, utcnow


class Consent(db.Model):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("consents.id"))
    grantor_kind: Mapped[str] = mapped_column(String(20))  # client | guardian
    grantor_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    signed_on: Mapped[date]
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    purpose: Mapped[str] = mapped_column(String(300))
    regulatory_basis: Mapped[str] = mapped_column(
        String(200), default="Art. 6 Abs. 1 lit. a, Art. 9 Abs. 2 lit. a DSGVO; § 67b SGB X"
    )
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    interpreter_used: Mapped[bool] = mapped_column(default=False)
    interpreter_language: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    grants: Mapped[list[ConsentGrant]] = relationship(
        back_populates="consent", cascade="all, delete-orphan", lazy="selectin"
    )
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    document: Mapped[ConsentDocument | None] = relationship(
        back_populates="consent", cascade="all, delete-orphan", uselist=False
    )

    def is_active_at(self, when: datetime) -> bool:
        """Active: inside its period and not revoked (a revocation counts from its moment)."""
        if self.revoked_at is not None and self.revoked_at <= when:
            return False
        return self.valid_from <= local_date(when) <= self.valid_until

    def status_at(self, when: datetime) -> str:
        """FHIR-like status label: active, revoked, expired or pending (not yet valid)."""
        if self.revoked_at is not None and self.revoked_at <= when:
            return "revoked"
        day = local_date(when)
        if day > self.valid_until:
            return "expired"
        if day < self.valid_from:
            return "pending"
        return "active"

    def grant_map(self) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for g in self.grants:
            out.setdefault(g.agency_id, set()).add(g.category)
        return out


class ConsentGrant(db.Model):
    """One provision row: this agency may see this data category."""

    __tablename__ = "consent_grants"

    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)

    consent: Mapped[Consent] = relationship(back_populates="grants")
    agency: Mapped[Agency] = relationship()


Index("ix_consent_grants_agency_category", ConsentGrant.agency_id, ConsentGrant.category)


class ConsentDocument(db.Model):
    """The scanned signed form, encrypted under the case key."""

    __tablename__ = "consent_documents"

    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    content_enc: Mapped[bytes] = mapped_column(LargeBinary)

    consent: Mapped[Consent] = relationship(back_populates="document")
