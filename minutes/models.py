"""The live minutes: an append-only log of Yjs updates per agenda item, folded into snapshots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fallkonferenz.extensions import db
from fallkonferenz.models import User, utcnow


class MinutesUpdate(db.Model):
    """One acknowledged Yjs update; committed before the client hears 'ok' and before anyone else sees it."""

    __tablename__ = "minutes_updates"
    # AUTOINCREMENT on SQLite: ids never come back after compaction deleted the folded rows,
    # so "everything after id N" stays a correct catch-up for every process.
    __table_args__ = (UniqueConstraint("agenda_item_id", "client_update_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    client_update_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_minutes_updates_item_id", MinutesUpdate.agenda_item_id, MinutesUpdate.id)


class MinutesSnapshot(db.Model):
    """The item's whole document up to an update id: compaction result and an entry of the version list."""

    __tablename__ = "minutes_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    upto_update_id: Mapped[int]
    state: Mapped[bytes] = mapped_column(LargeBinary)
    # The state's state vector, kept so a join need not decode the whole snapshot to learn it (older rows: NULL).
    state_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    authors: Mapped[str] = mapped_column(String(500), default="")  # user ids, comma-separated
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# "The newest snapshot of an item" walks this index backwards to one row. Without it, every join read the state
# of all the item's versions (one per compaction) into a sorter to keep only the newest.
Index("ix_minutes_snapshots_item_upto", MinutesSnapshot.agenda_item_id, MinutesSnapshot.upto_update_id)


class Attendance(db.Model):
    """Who was there: anwesend, entschuldigt, abwesend."""

    __tablename__ = "minutes_attendance"

    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))


class MinutesClosure(db.Model):
    """The frozen minutes: the text of every item rendered and sanitized, with the hash over all of it."""

    __tablename__ = "minutes_closures"

    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    frozen: Mapped[str] = mapped_column(Text)  # JSON: item id -> {"text": …, "html": …}
    sha256: Mapped[str] = mapped_column(String(64))
    final_at: Mapped[datetime | None]
    # Closed before the minutes were sealed (migration 0011): the hash is over the text as it was then, in plain.
    hashed_plain: Mapped[bool] = mapped_column(default=False, server_default=false())


class MinutesApproval(db.Model):
    """One participating agency's approval of, or objection to, the closed minutes."""

    __tablename__ = "minutes_approvals"

    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    decision: Mapped[str] = mapped_column(String(20))  # genehmigt | einspruch
    reason: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalStep(db.Model):
    """One step of the approval, kept for good (MinutesApproval holds only each agency's current decision): a
    closing with its hash, a decision with its reason, a reopening, the minutes becoming final. So an objection
    and what answered it stay readable after the minutes were corrected and closed again."""

    __tablename__ = "minutes_approval_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # see records.APPROVAL_STEPS
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")


class Addendum(db.Model):
    """A dated addition to final minutes, which are otherwise never edited again."""

    __tablename__ = "minutes_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")  # named beside the text: who added to final minutes
