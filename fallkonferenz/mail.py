"""E-mail through an outbox: stored in the caller's transaction, delivered after commit, retried on failure."""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app, g, has_request_context
from sqlalchemy import bindparam, select

from . import audit
from .errors import Conflict, InvalidInput, NotFound
from .extensions import db
from .models import OutboxMessage, User, utcnow

MAX_ATTEMPTS = 8

# Every message ends the same way: the reader should know at once that no person wrote it and no one reads replies.
CLOSING = (
    "Mit freundlichen Grüßen\nFallkonferenz\n\n"
    "(Diese Nachricht wurde automatisch erstellt; Antworten erreichen niemanden.)\n"
)


def enqueue(
    to: User,
    subject: str,
    body: str,
    *,
    ics: str | None = None,
    ics_method: str | None = None,
    topic: str = "",
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Store a message for a user, the closing appended; with a dedupe key, a second call for the same key stores
    nothing."""
    if dedupe_key and db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    msg = OutboxMessage(
        to_user_id=to.id,
        to_address=to.email or f"{to.username}@invalid",
        subject=subject[:300],
        body=f"{body.rstrip()}\n\n{CLOSING}",
        ics=ics,
        ics_method=ics_method,
        topic=topic,
        dedupe_key=dedupe_key,
    )
    _queue(msg)
    db.session.add(msg)
    db.session.flush()
    return msg


def _queue(msg: OutboxMessage) -> None:
    if current_app.config["MAIL_BACKEND"] == "outbox":
        # Development and tests: the admin page's outbox is the mailbox; nothing leaves the machine.
        msg.status, msg.sent_at, msg.attempts = "zugestellt", utcnow(), 1
    elif has_request_context():
        g.mail_pending = True  # delivered once the request has committed (see deliver_after)


def _email(msg: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = msg.to_address
    email["Subject"] = msg.subject
    email.set_content(msg.body)
    if msg.ics:
        email.add_attachment(
            msg.ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="absage.ics" if msg.ics_method == "CANCEL" else "einladung.ics",
            params={"method": msg.ics_method or "REQUEST", "charset": "utf-8"},
        )
    return email


def _send(email: EmailMessage) -> None:
    cfg = current_app.config
    host, port, timeout = cfg["MAIL_HOST"], cfg["MAIL_PORT"], cfg["MAIL_TIMEOUT"]
    if cfg["MAIL_TLS"] == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if cfg["MAIL_TLS"] == "starttls":
            client.starttls(context=ssl.create_default_context())
        if cfg["MAIL_USERNAME"]:
            client.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        client.send_message(email)


def deliver_pending(now: datetime | None = None, limit: int = 100) -> tuple[int, int]:
    """Try every message that is due; return (delivered, failed). The caller commits."""
    now = now or utcnow()
    due = db.session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("wartend", "fehlgeschlagen")),
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    delivered = failed = 0
    for msg in due:
        msg.attempts += 1
        try:
            _send(_email(msg))
        except (OSError, smtplib.SMTPException, ValueError) as exc:  # ValueError: a header the library refuses
            msg.status = "fehlgeschlagen"
            msg.last_error = f"{type(exc).__name__}: {exc}"[:500]
            # Back off 2, 4, 8 … minutes, so an outage is ridden out without hammering the server.
            msg.next_attempt_at = now + timedelta(minutes=2**msg.attempts)
            failed += 1
        else:
            msg.status, msg.sent_at, msg.last_error = "zugestellt", now, ""
            delivered += 1
    db.session.flush()
    return delivered, failed


_FAILED = (
    select(OutboxMessage)
    .where(OutboxMessage.topic == bindparam("topic"), OutboxMessage.status == "fehlgeschlagen")
    .order_by(OutboxMessage.id)
)


def failures(topic: str) -> list[OutboxMessage]:
    """Messages of a topic that did not go out (yet)."""
    return db.session.scalars(_FAILED, {"topic": topic}).all()


# What the outbox page narrows to; "aufgegeben": failed so often that no more attempts are made.
OUTBOX_STANDS = {
    "wartend": "wartet auf Zustellung",
    "fehlgeschlagen": "fehlgeschlagen, wird erneut versucht",
    "aufgegeben": "aufgegeben (keine weiteren Versuche)",
    "zugestellt": "zugestellt",
}
OUTBOX_PAGE = 200


def gave_up(msg: OutboxMessage) -> bool:
    return msg.status == "fehlgeschlagen" and msg.attempts >= MAX_ATTEMPTS


def recent(before: int | None = None, stand: str = "") -> list[OutboxMessage]:
    """Messages newest first, a page of them (before an id), of one stand (see OUTBOX_STANDS) or all."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(OUTBOX_PAGE)
    if before:
        stmt = stmt.where(OutboxMessage.id < before)
    if stand == "aufgegeben":
        stmt = stmt.where(OutboxMessage.status == "fehlgeschlagen", OutboxMessage.attempts >= MAX_ATTEMPTS)
    elif stand == "fehlgeschlagen":
        stmt = stmt.where(OutboxMessage.status == "fehlgeschlagen", OutboxMessage.attempts < MAX_ATTEMPTS)
    elif stand:
        stmt = stmt.where(OutboxMessage.status == stand)
    return db.session.scalars(stmt).all()


def resend(actor, message_id: int) -> OutboxMessage:
    """Send a message that failed once more, now, to the recipient's address as it is now (an address corrected
    since the message was queued counts); its attempts start again."""
    msg = db.session.get(OutboxMessage, message_id)
    if msg is None:
        raise NotFound("E-Mail nicht gefunden.")
    if msg.status != "fehlgeschlagen":
        raise Conflict("Nur eine fehlgeschlagene E-Mail wird erneut gesendet.")
    recipient = db.session.get(User, msg.to_user_id) if msg.to_user_id else None
    if recipient is not None and not recipient.may_log_in:
        raise Conflict("Das Konto ist deaktiviert (oder seine Stelle): es erhält keine E-Mails mehr.")
    if recipient is not None and recipient.email:
        msg.to_address = recipient.email
    elif msg.to_address.endswith("@invalid"):
        raise InvalidInput("Das Konto hat keine E-Mail-Adresse. Tragen Sie zuerst eine ein, dann senden Sie erneut.")
    msg.attempts, msg.next_attempt_at, msg.last_error, msg.status = 0, utcnow(), "", "wartend"
    _queue(msg)
    audit.record("mail.resend", actor=actor, detail={"message": msg.id, "user": msg.to_user_id})
    return msg


def deliver_after(app, response):
    """After a request that queued mail has committed: try delivery once the answer is out."""
    if not g.get("mail_pending"):
        return response

    def run():
        with app.app_context():
            try:
                deliver_pending()
                db.session.commit()
            except Exception:  # the outbox keeps the messages; cron retries
                db.session.rollback()
                app.logger.exception("mail delivery after request failed")

    response.call_on_close(run)
    return response
