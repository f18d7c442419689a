"""The moderation passes to a colleague: by the moderator, or by the administration when she cannot."""

from __future__ import annotations

import pytest

from agenda.models import Conference
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, OutboxMessage
from tests.agenda.conftest import user
from tests.factories import PASSWORD, make_user


@pytest.fixture
def colleagues(query, client_for):
    """A second KI moderator, a KI case worker (who may not moderate), an admin."""

    def make():
        return {
            "deputy": make_user("KI", "moderator", "ki.vertretung").id,
            "worker": make_user("KI", "case_worker", "ki.sachbearbeitung").id,
            "admin": make_user("KI", "admin", "ki.admin").id,
        }

    ids = query(make)
    return {"ids": ids, "deputy": client_for("ki.vertretung", PASSWORD), "admin": client_for("ki.admin", PASSWORD)}


def _state(query, planned):
    def read():
        c = db.session.get(Conference, planned)
        return c.moderator_id, {p.user_id: p.response for p in c.participants}

    return query(read, commit=False)


def _mails(query, subject):
    return query(
        lambda: [m.to_user_id for m in db.session.query(OutboxMessage) if m.subject.startswith(subject)], commit=False
    )


def test_the_moderator_hands_over_and_stays_a_participant(scene, clients, planned, colleagues, query):
    ki = clients["KI"]
    assert ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"}).status_code == 302
    page = ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert "Moderation übergeben an" in page
    offered = page.split('id="successor"', 1)[1].split("</select>", 1)[0]
    assert f'value="{colleagues["ids"]["deputy"]}"' in offered and offered.count("<option") == 1  # not she herself
    resp = ki.post(f"/konferenzen/{planned}/moderation", data={"successor": colleagues["ids"]["deputy"]})
    assert resp.status_code == 302
    moderator, seats = _state(query, planned)
    assert moderator == colleagues["ids"]["deputy"] and seats[colleagues["ids"]["deputy"]] == "zusage"
    assert scene.ids["KI"] in seats  # she goes on taking part
    # the new moderator is invited (the others are) and told; the previous one is told too
    assert _mails(query, "Sie moderieren jetzt") == [colleagues["ids"]["deputy"]]
    assert _mails(query, "Moderation übergeben") == [scene.ids["KI"]]
    assert colleagues["ids"]["deputy"] in _mails(query, "Einladung")
    event = query(
        lambda: db.session.query(AuditEvent).filter_by(action="conference.handover").one().detail, commit=False
    )
    assert f'"from":{scene.ids["KI"]}' in event and f'"to":{colleagues["ids"]["deputy"]}' in event
    # from now on she plans and leads, the previous moderator no longer
    assert ki.post(f"/konferenzen/{planned}/status", data={"state": "laeuft"}).status_code == 403
    assert colleagues["deputy"].post(f"/konferenzen/{planned}/status", data={"state": "laeuft"}).status_code == 302


@pytest.mark.parametrize("who", ["worker", "other_agency", "unknown", "empty", "admin"])
def test_the_moderation_goes_only_to_a_colleague_who_may_moderate(scene, clients, planned, colleagues, query, who):
    successor = {
        "worker": colleagues["ids"]["worker"],
        "other_agency": scene.ids["JC"],
        "unknown": 99999999,
        "empty": "",
        "admin": colleagues["ids"]["admin"],
    }[who]
    resp = clients["KI"].post(f"/konferenzen/{planned}/moderation", data={"successor": successor})
    assert resp.status_code == 422 and "derselben Stelle" in resp.get_data(as_text=True)
    assert _state(query, planned)[0] == scene.ids["KI"]


def test_participants_cannot_take_the_moderation(scene, clients, planned, colleagues, query):
    assert (
        clients["JC"].post(f"/konferenzen/{planned}/moderation", data={"successor": scene.ids["JC"]}).status_code == 403
    )
    # a colleague who may moderate, but does not take part, does not even learn of the conference
    take = colleagues["deputy"].post(
        f"/konferenzen/{planned}/moderation", data={"successor": colleagues["ids"]["deputy"]}
    )
    assert take.status_code == 404
    assert _state(query, planned)[0] == scene.ids["KI"]


def test_the_administration_hands_over_the_conferences_of_an_account_before_deactivating_it(
    scene, planned, colleagues, query
):
    admin = colleagues["admin"]
    account = f"/verwaltung/benutzer/{scene.ids['KI']}"
    page = admin.get(account).get_data(as_text=True)
    assert "Moderierte Konferenzen" in page and "„Fallkonferenz Musterstadt“" in page
    assert "Das Konto moderiert noch Konferenzen" in page  # the deactivation asks about them
    assert "Haddad" not in page and scene.open_case not in page
    back = f"{account}#moderation"
    resp = admin.post(
        f"/konferenzen/{planned}/moderation", data={"successor": colleagues["ids"]["deputy"], "next": back}
    )
    assert resp.status_code == 302 and resp.headers["Location"] == back
    assert _state(query, planned)[0] == colleagues["ids"]["deputy"]
    after = admin.get(account).get_data(as_text=True)
    assert "Moderierte Konferenzen" not in after and "Das Konto moderiert noch" not in after
    assert _mails(query, "Moderation übergeben") == [scene.ids["KI"]]  # she still works here: she is told
    # an address elsewhere is not followed
    other = admin.post(
        f"/konferenzen/{planned}/moderation", data={"successor": scene.ids["KI"], "next": "https://example.org/"}
    )
    assert other.status_code == 302 and other.headers["Location"] == f"/konferenzen/{planned}"


def test_a_moderator_who_left_gets_no_mail_about_the_handover(scene, planned, colleagues, query):
    from fallkonferenz.auth import service as auth_service

    query(lambda: auth_service.set_user_active(user("ki.admin"), scene.ids["KI"], False))
    resp = colleagues["admin"].post(
        f"/konferenzen/{planned}/moderation", data={"successor": colleagues["ids"]["deputy"]}
    )
    assert resp.status_code == 302
    assert _state(query, planned)[0] == colleagues["ids"]["deputy"]
    assert _mails(query, "Moderation übergeben") == [] and _mails(query, "Sie moderieren jetzt") == [
        colleagues["ids"]["deputy"]
    ]
