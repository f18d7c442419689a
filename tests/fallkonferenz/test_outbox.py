"""The administration's outbox: which mail is waiting, failed or given up, pages of it, and sending one again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from fallkonferenz import mail
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, OutboxMessage, User, utcnow
from tests.factories import PASSWORD


@pytest.fixture
def failing(app, world, query):
    """Three messages to JC's case worker that the (unreachable) mail server refused: one of them given up."""
    app.config.update(MAIL_BACKEND="smtp", MAIL_HOST="127.0.0.1", MAIL_PORT=9, MAIL_TLS="none", MAIL_TIMEOUT=2)

    def queue():
        jc = db.session.query(User).filter_by(username=world["JC"]).one()
        return [mail.enqueue(jc, f"Nachricht {n}", "Text").id for n in range(3)]

    try:
        ids = query(queue)
        assert query(mail.deliver_pending) == (0, 3)
        query(lambda: setattr(db.session.get(OutboxMessage, ids[0]), "attempts", mail.MAX_ATTEMPTS))
        yield ids
    finally:
        app.config.update(MAIL_BACKEND="outbox")


def _subjects(page: str) -> list[str]:
    return re.findall(r"<summary>([^<]+)</summary>", page)


def test_the_outbox_tells_given_up_mail_from_mail_still_retried(admin, failing):
    page = admin.get("/verwaltung/postausgang").get_data(as_text=True)
    assert "<strong>aufgegeben</strong>" in page and page.count("fehlgeschlagen, nächster Versuch") == 2
    assert "(Konto ohne E-Mail-Adresse)" in page
    assert _subjects(admin.get("/verwaltung/postausgang?stand=aufgegeben").get_data(as_text=True)) == ["Nachricht 0"]
    retried = _subjects(admin.get("/verwaltung/postausgang?stand=fehlgeschlagen").get_data(as_text=True))
    assert sorted(retried) == ["Nachricht 1", "Nachricht 2"]
    assert _subjects(admin.get("/verwaltung/postausgang?stand=zugestellt").get_data(as_text=True)) == []
    # nothing due: the button says so, not "0 zugestellt" as a success
    told = admin.post("/verwaltung/postausgang", follow_redirects=True).get_data(as_text=True)
    assert "Keine E-Mail war fällig" in told


def test_failed_mail_is_sent_again_to_the_address_the_account_has_now(admin, failing, world, query, app):
    given_up = failing[0]
    refused = admin.post(f"/verwaltung/postausgang/{given_up}/erneut")
    assert refused.status_code == 422 and "keine E-Mail-Adresse" in refused.get_data(as_text=True)
    query(lambda: setattr(db.session.query(User).filter_by(username=world["JC"]).one(), "email", "jc@example.org"))
    resp = admin.post(f"/verwaltung/postausgang/{given_up}/erneut", data={"stand": "aufgegeben"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/verwaltung/postausgang?stand=aufgegeben")
    msg = query(lambda: db.session.get(OutboxMessage, given_up), commit=False)
    assert (msg.to_address, msg.attempts, msg.status) == ("jc@example.org", 0, "wartend")
    detail = query(lambda: db.session.query(AuditEvent).filter_by(action="mail.resend").one().detail, commit=False)
    assert f'"message":{given_up}' in detail
    # delivered mail is not sent again, and unknown mail is not found
    sent, original = [], mail._send
    mail._send = sent.append
    try:
        assert query(lambda: mail.deliver_pending(now=utcnow() + timedelta(minutes=1))) == (1, 0)
    finally:
        mail._send = original
    again = admin.post(f"/verwaltung/postausgang/{given_up}/erneut")
    assert again.status_code == 409 and "Nur eine fehlgeschlagene E-Mail" in again.get_data(as_text=True)
    assert admin.post("/verwaltung/postausgang/999999/erneut").status_code == 404


def test_the_outbox_goes_on_in_pages_and_refuses_an_unknown_choice(admin, world, query, monkeypatch):
    def queue():
        jc = db.session.query(User).filter_by(username=world["JC"]).one()
        return [mail.enqueue(jc, f"Seite {n}", "Text").id for n in range(5)]

    ids = query(queue)
    monkeypatch.setattr(mail, "OUTBOX_PAGE", 2)
    first = admin.get("/verwaltung/postausgang").get_data(as_text=True)
    assert _subjects(first) == ["Seite 4", "Seite 3"] and f"vor={ids[3]}" in first
    second = admin.get(f"/verwaltung/postausgang?vor={ids[3]}").get_data(as_text=True)
    assert _subjects(second) == ["Seite 2", "Seite 1"] and "Zu den neuesten E-Mails" in second
    odd = admin.get("/verwaltung/postausgang?stand=<b>x</b>")
    body = odd.get_data(as_text=True)
    assert odd.status_code == 400 and "Die Auswahl „&lt;b&gt;x&lt;/b&gt;“ gibt es nicht" in body


def test_mail_to_a_deactivated_account_is_not_sent_again(admin, failing, world, query):
    from fallkonferenz.auth import service as auth_service

    query(lambda: setattr(db.session.query(User).filter_by(username=world["JC"]).one(), "email", "jc@example.org"))
    query(lambda: auth_service.set_agency_active("JC", False))
    resp = admin.post(f"/verwaltung/postausgang/{failing[1]}/erneut")
    assert resp.status_code == 409 and "Das Konto ist deaktiviert" in resp.get_data(as_text=True)
    assert query(lambda: db.session.get(OutboxMessage, failing[1]).status, commit=False) == "fehlgeschlagen"


@pytest.mark.parametrize("who", ["JC", "KI"])
def test_only_the_administration_reads_or_resends_mail(world, client_for, who):
    client = client_for(world[who], PASSWORD)
    assert client.get("/verwaltung/postausgang").status_code == 404
    assert client.post("/verwaltung/postausgang/1/erneut").status_code == 404
