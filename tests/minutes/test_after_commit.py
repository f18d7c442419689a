"""Live news of a request (the minutes' record events) leave only once its transaction is committed."""

from __future__ import annotations

from flask import Response
from sqlalchemy import select, text

from fallkonferenz import web
from fallkonferenz.extensions import db
from fallkonferenz.models import User


def _stored_name(username: str) -> str:
    """The name as another connection sees it: only what has been committed."""
    with db.engine.connect() as other:
        return other.execute(text("SELECT display_name FROM users WHERE username = :u"), {"u": username}).scalar_one()


def test_news_wait_for_the_commit_and_are_dropped_with_a_rollback(app, world):
    username, seen = world["AA"], []
    with app.test_request_context("/", method="POST"):
        db.session.scalar(select(User).where(User.username == username)).display_name = "Anna Albers-Neu"
        web.after_commit(lambda: seen.append(_stored_name(username)))
        assert seen == []  # not while the request is still running
        web.finish_request(Response("ok"))
    assert seen == ["Anna Albers-Neu"]  # run once, after the commit: the change is visible to everyone

    with app.test_request_context("/", method="POST"):
        db.session.scalar(select(User).where(User.username == username)).display_name = "Verworfen"
        web.after_commit(lambda: seen.append("angekündigt"))
        response, status = web.error_response(422, "Bitte prüfen Sie Ihre Angaben.")
        web.finish_request(app.make_response((response, status)))
    assert seen == ["Anna Albers-Neu"]
    with app.app_context():
        assert _stored_name(username) == "Anna Albers-Neu"


def test_a_failing_notice_does_not_fail_the_stored_request(app, world):
    username, seen = world["JC"], []

    def broken():
        raise RuntimeError("Nachrichtenweg gestört")

    with app.test_request_context("/", method="POST"):
        db.session.scalar(select(User).where(User.username == username)).display_name = "Jana Cordes"
        web.after_commit(broken)
        web.after_commit(lambda: seen.append("zweite Nachricht"))
        response = web.finish_request(Response("ok"))
    assert response.status_code == 200 and seen == ["zweite Nachricht"]
    with app.app_context():
        assert _stored_name(username) == "Jana Cordes"


def test_news_of_a_refused_all_or_nothing_block_are_dropped_with_it(app, world):
    """A refused step of a larger change (a steering decision that records a decision, then fails) announces
    nothing, even though the request itself commits afterwards."""
    username, seen = world["KI"], []
    with app.test_request_context("/", method="POST"):
        web.after_commit(lambda: seen.append("vorher"))
        try:
            with web.atomic():
                db.session.scalar(select(User).where(User.username == username)).display_name = "Verworfen"
                web.after_commit(lambda: seen.append("verworfen"))
                raise ValueError("abgelehnt")
        except ValueError:
            pass
        web.finish_request(Response("ok"))
    assert seen == ["vorher"]
    with app.app_context():
        assert _stored_name(username) != "Verworfen"
