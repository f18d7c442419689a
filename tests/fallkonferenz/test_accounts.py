"""Own passwords and the administrator's account maintenance: change, reset, correct, and what they end."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from fallkonferenz.extensions import db
from fallkonferenz.models import Agency, ApiToken, AuditEvent, LoginAttempt, User, UserSession
from tests.conftest import Client
from tests.factories import PASSWORD, make_user

NEW = "ein ganz neuer satz als passwort"


def _id(query, username: str) -> int:
    return query(lambda: db.session.query(User.id).filter_by(username=username).scalar(), commit=False)


def _logs_in(app, username: str, password: str) -> bool:
    client = Client(app)
    page = client.http.get("/anmelden").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    resp = client.http.post("/anmelden", data={"username": username, "password": password, "csrf_token": token})
    return resp.status_code == 302


def _actions(query) -> list[str]:
    return query(lambda: [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)], commit=False)


def test_a_user_changes_her_password_and_her_other_sessions_end(app, world, query):
    here, elsewhere = Client(app), Client(app)
    here.login("jc.case_worker", PASSWORD)
    elsewhere.login("jc.case_worker", PASSWORD)
    page = here.get("/konto").get_data(as_text=True)
    assert "Passwort ändern" in page and "jc.case_worker" in page and 'autocomplete="current-password"' in page
    resp = here.post("/konto", {"current": PASSWORD, "new": NEW, "repeated": NEW})
    assert resp.status_code == 302
    assert "Ihre Anmeldung auf einem anderen Gerät wurde beendet." in here.get("/").get_data(as_text=True)
    assert here.get("/faelle/").status_code == 200  # this session goes on
    assert elsewhere.get("/faelle/").status_code == 302  # the other one ended
    assert query(lambda: db.session.query(UserSession).count(), commit=False) == 1
    assert not _logs_in(app, "jc.case_worker", PASSWORD)
    assert _logs_in(app, "jc.case_worker", NEW)
    assert "auth.password_change" in _actions(query)


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"current": "falsch-falsch-falsch", "new": NEW, "repeated": NEW}, 422, "Das bisherige Passwort stimmt nicht."),
        ({"current": "", "new": NEW, "repeated": NEW}, 422, "Bitte geben Sie Ihr bisheriges Passwort ein."),
        ({"current": PASSWORD, "new": "kurz", "repeated": "kurz"}, 422, "mindestens 12 Zeichen"),
        ({"current": PASSWORD, "new": "x" * 1025, "repeated": "x" * 1025}, 422, "höchstens 1024 Zeichen"),
        ({"current": PASSWORD, "new": NEW, "repeated": NEW + "!"}, 422, "Die Wiederholung stimmt nicht"),
        ({"current": PASSWORD, "new": PASSWORD, "repeated": PASSWORD}, 422, "vom bisherigen unterscheiden"),
        ({"current": PASSWORD, "new": "JC.Case_Worker", "repeated": "JC.Case_Worker"}, 422, "Benutzername taugt"),
        ({"current": PASSWORD}, 422, "mindestens 12 Zeichen"),
        ({}, 422, "Bitte geben Sie Ihr bisheriges Passwort ein."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(app, world, query, form, status, message):
    client = Client(app)
    client.login("jc.case_worker", PASSWORD)
    before = query(lambda: db.session.query(User.password_hash).filter_by(username="jc.case_worker").scalar())
    resp = client.post("/konto", form)
    body = resp.get_data(as_text=True)
    assert resp.status_code == status and message in body and "Traceback" not in body
    assert 'aria-invalid="true"' in body
    assert PASSWORD not in body  # no password is written back into the page
    after = query(lambda: db.session.query(User.password_hash).filter_by(username="jc.case_worker").scalar())
    assert before == after
    assert client.get("/faelle/").status_code == 200  # still logged in


def test_wrong_current_passwords_count_towards_the_login_throttle(app, world, query):
    client = Client(app)
    client.login("jc.case_worker", PASSWORD)
    for _ in range(5):
        assert client.post("/konto", {"current": "geraten-geraten", "new": NEW, "repeated": NEW}).status_code == 422
    assert query(lambda: db.session.query(LoginAttempt).filter_by(success=False).count(), commit=False) == 5
    resp = client.post("/konto", {"current": PASSWORD, "new": NEW, "repeated": NEW})
    assert resp.status_code == 429 and "Zu viele Fehlversuche" in resp.get_data(as_text=True)
    assert not _logs_in(app, "jc.case_worker", NEW)
    assert "auth.password_change_failed" in _actions(query) and "auth.throttled" in _actions(query)


def test_password_change_without_csrf_token_is_refused(app, world, query):
    client = Client(app)
    client.login("jc.case_worker", PASSWORD)
    resp = client.http.post("/konto", data={"current": PASSWORD, "new": NEW, "repeated": NEW})
    assert resp.status_code == 400
    assert _logs_in(app, "jc.case_worker", PASSWORD)


def test_an_administrator_resets_a_password_and_the_user_must_choose_her_own(app, admin, query):
    user = Client(app)
    user.login("jc.case_worker", PASSWORD)
    uid = _id(query, "jc.case_worker")
    assert admin.post(f"/verwaltung/benutzer/{uid}/passwort", {"password": "vorlaeufig-123456"}).status_code == 302
    assert user.get("/faelle/").status_code == 302  # logged out at once
    assert not _logs_in(app, "jc.case_worker", PASSWORD)
    user = Client(app)
    user.login("jc.case_worker", "vorlaeufig-123456")
    for url in ("/", "/faelle/?seite=2", "/konferenzen/neu", "/lenkungsgruppe/themen", "/zugangstoken"):
        resp = user.get(url)
        assert resp.status_code == 302, url
        assert urlsplit(resp.headers["Location"]).path == "/konto", url
    assert "Bitte wählen Sie jetzt ein eigenes" in user.get("/konto").get_data(as_text=True)
    api = user.get("/api/v1/cases", headers={"Accept": "application/json"})
    assert api.status_code == 403 and "eigenes Passwort" in api.get_json()["error"]
    # The page she asked for comes after the change, as it would have after the login.
    asked = user.get("/zugangstoken").headers["Location"]
    done = user.post(asked, {"current": "vorlaeufig-123456", "new": NEW, "repeated": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/zugangstoken"
    assert user.get("/faelle/").status_code == 200
    assert "user.password_reset" in _actions(query)


def test_a_new_account_chooses_its_own_password_at_the_first_login(app, admin, query):
    form = {"username": "ja.neu", "display_name": "Neu", "agency": "JA", "role": "case_worker"}
    assert admin.post("/verwaltung/benutzer", form | {"password": "erstpasswort-123"}).status_code == 302
    newcomer = Client(app)
    newcomer.login("ja.neu", "erstpasswort-123")
    assert urlsplit(newcomer.get("/faelle/").headers["Location"]).path == "/konto"
    assert newcomer.post("/abmelden").status_code == 302  # logging out is always possible


def test_a_reset_is_refused_for_bad_input_and_changes_nothing(app, admin, query):
    uid = _id(query, "jc.case_worker")
    before = query(lambda: db.session.get(User, uid).password_hash, commit=False)
    for password, message in (
        ("kurz", "mindestens 12 Zeichen"),
        ("", "mindestens 12 Zeichen"),
        ("x" * 1025, "höchstens"),
    ):
        resp = admin.post(f"/verwaltung/benutzer/{uid}/passwort", {"password": password})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    own = admin.post(f"/verwaltung/benutzer/{_id(query, 'admin')}/passwort", {"password": "x" * 12})
    assert own.status_code == 422 and "Mein Konto" in own.get_data(as_text=True)
    assert admin.post("/verwaltung/benutzer/999999/passwort", {"password": "x" * 12}).status_code == 404
    assert query(lambda: db.session.get(User, uid).password_hash, commit=False) == before
    assert _logs_in(app, "jc.case_worker", PASSWORD)


def test_an_administrator_corrects_an_account_and_a_new_role_ends_its_sessions(app, admin, query):
    user = Client(app)
    user.login("jc.case_worker", PASSWORD)
    uid = _id(query, "jc.case_worker")
    page = admin.get(f"/verwaltung/benutzer/{uid}").get_data(as_text=True)
    assert "Konto jc.case_worker" in page and "Neues Passwort vergeben" in page
    same = {
        "display_name": "Petra Jobcenter",
        "email": "petra@jobcenter.example",
        "agency": "JC",
        "role": "case_worker",
    }
    assert admin.post(f"/verwaltung/benutzer/{uid}", same).status_code == 302
    assert user.get("/faelle/").status_code == 200  # name and address only: the session goes on
    account = query(lambda: db.session.get(User, uid), commit=False)
    assert (account.display_name, account.email) == ("Petra Jobcenter", "petra@jobcenter.example")
    assert admin.post(f"/verwaltung/benutzer/{uid}", same | {"role": "moderator"}).status_code == 302
    assert user.get("/faelle/").status_code == 302  # new rights: log in again
    assert query(lambda: db.session.get(User, uid).role, commit=False) == "moderator"
    assert "user.update" in _actions(query)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "petra@example.org\r\nBcc: x@example.org"}, "gültige E-Mail-Adresse"),
        ({"display_name": ""}, "Bitte geben Sie einen Namen"),
        ({"display_name": "x" * 201}, "höchstens 200 Zeichen"),
        ({"agency": "QQ"}, "Unbekannte Stelle."),
        ({"role": "chef"}, "Unbekannte Rolle."),
    ],
)
def test_a_bad_correction_is_refused_and_changes_nothing(app, admin, query, change, message):
    uid = _id(query, "jc.case_worker")
    good = {"display_name": "Petra", "email": "", "agency": "JC", "role": "case_worker"}
    resp = admin.post(f"/verwaltung/benutzer/{uid}", good | change)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body and "Traceback" not in body
    account = query(lambda: db.session.get(User, uid), commit=False)
    assert (account.display_name, account.role, account.agency.code) == ("case_worker JC", "case_worker", "JC")


def test_the_administrator_cannot_change_her_own_role_or_agency(app, admin, query):
    own = _id(query, "admin")
    resp = admin.post(f"/verwaltung/benutzer/{own}", {"display_name": "Admin", "agency": "KI", "role": "case_worker"})
    assert resp.status_code == 422 and "anderes Administrationskonto" in resp.get_data(as_text=True)
    assert query(lambda: db.session.get(User, own).role, commit=False) == "admin"
    renamed = admin.post(
        f"/verwaltung/benutzer/{own}", {"display_name": "Die Verwaltung", "agency": "KI", "role": "admin"}
    )
    assert renamed.status_code == 302 and admin.get("/verwaltung/benutzer").status_code == 200


def test_only_the_administrator_maintains_accounts(app, admin, query):
    uid = _id(query, "jc.case_worker")
    query(lambda: (make_user("KI", "dpo"), make_user("AA", "steering")))
    for username in ("ki.moderator", "aa.case_worker", "ki.dpo", "aa.steering"):
        client = Client(app)
        client.login(username, PASSWORD)
        assert client.get(f"/verwaltung/benutzer/{uid}").status_code == 404
        edit = {"display_name": "X", "agency": "KI", "role": "admin"}
        assert client.post(f"/verwaltung/benutzer/{uid}", edit).status_code == 404
        assert client.post(f"/verwaltung/benutzer/{uid}/passwort", {"password": "x" * 12}).status_code == 404
    assert query(lambda: db.session.get(User, uid).role, commit=False) == "case_worker"
    assert _logs_in(app, "jc.case_worker", PASSWORD)
    assert admin.get("/verwaltung/benutzer/999999").status_code == 404


def test_the_administrator_sees_a_locked_account_and_lifts_the_lock(app, admin, query):
    uid = _id(query, "jc.case_worker")
    for _ in range(5):
        assert not _logs_in(app, "jc.case_worker", "falsch-falsch-falsch")
    assert not _logs_in(app, "jc.case_worker", PASSWORD)  # locked, even with the right password
    page = admin.get(f"/verwaltung/benutzer/{uid}").get_data(as_text=True)
    assert "Anmeldung gesperrt bis" in page and "Sperre aufheben" in page
    # the data-protection officer finds the failures under the account they named
    failed = query(
        lambda: db.session.query(AuditEvent).filter_by(action="auth.login_failed", actor_id=uid).count(), commit=False
    )
    assert failed == 5
    assert admin.post(f"/verwaltung/benutzer/{uid}/entsperren").status_code == 302
    assert "Sperre aufheben" not in admin.get(f"/verwaltung/benutzer/{uid}").get_data(as_text=True)
    assert _logs_in(app, "jc.case_worker", PASSWORD)
    assert "user.unlock" in _actions(query)
    outsider = Client(app)
    outsider.login("aa.case_worker", PASSWORD)
    assert outsider.post(f"/verwaltung/benutzer/{uid}/entsperren").status_code == 404


def test_the_account_page_deactivates_and_comes_back(app, admin, query):
    uid = _id(query, "jc.case_worker")
    back = f"/verwaltung/benutzer/{uid}"
    resp = admin.post(f"/verwaltung/benutzer/{uid}/aktiv", {"active": "0", "next": back})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(back)
    assert "Konto aktivieren" in admin.get(back).get_data(as_text=True)
    elsewhere = admin.post(f"/verwaltung/benutzer/{uid}/aktiv", {"active": "1", "next": "https://example.org/"})
    assert elsewhere.headers["Location"].endswith("/verwaltung/benutzer")  # never off the site


def test_an_account_of_a_deactivated_agency_keeps_it_when_corrected(app, admin, query):
    from fallkonferenz.auth import service as auth_service

    uid = _id(query, "jc.case_worker")
    query(lambda: auth_service.set_agency_active("JC", False))
    page = admin.get(f"/verwaltung/benutzer/{uid}").get_data(as_text=True)
    assert '<option value="JC" selected>JC – ' in page and "(deaktiviert)" in page
    fix = {"display_name": "Petra", "email": "petra@jobcenter.example", "agency": "JC", "role": "case_worker"}
    assert admin.post(f"/verwaltung/benutzer/{uid}", fix).status_code == 302
    assert query(lambda: db.session.get(User, uid).agency.code, commit=False) == "JC"
    # nobody else is moved into the deactivated agency, and no new account is made in it
    other = _id(query, "aa.case_worker")
    moved = admin.post(f"/verwaltung/benutzer/{other}", fix | {"display_name": "Anna"})
    assert moved.status_code == 422 and "deaktiviert" in moved.get_data(as_text=True)
    assert query(lambda: db.session.get(User, other).agency.code, commit=False) == "AA"
    new = {"username": "jc.neu", "display_name": "Neu", "agency": "JC", "role": "case_worker", "password": "x" * 12}
    assert admin.post("/verwaltung/benutzer", new).status_code == 422


def _listed(admin, **args) -> list[str]:
    page = admin.get("/verwaltung/benutzer", query_string=args).get_data(as_text=True)
    tbody = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return sorted(re.findall(r'/verwaltung/benutzer/\d+">([^<]+)</a>', tbody))


def test_the_account_list_narrows_to_agency_role_and_stand_and_says_who_cannot_log_in(app, admin, world, query):
    from fallkonferenz.auth import service as auth_service

    assert _listed(admin, stelle="jc") == [world["JC"]]
    assert _listed(admin, rolle="moderator") == [world["KI"]]
    # every account of the world has no e-mail address: the list says what that means
    page = admin.get("/verwaltung/benutzer").get_data(as_text=True)
    assert '<strong>ohne</strong> <span class="muted">(erhält keine Einladungen)</span>' in page
    assert world["JC"] in _listed(admin, stand="ohne_email")
    # the last login: "nie" before the first, the day after it
    assert _logs_in(app, world["AA"], PASSWORD)
    aa_row = page.split(f">{world['AA']}</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>nie</td>" in aa_row
    after = admin.get("/verwaltung/benutzer").get_data(as_text=True).split(f">{world['AA']}</a>", 1)[1]
    assert "<td>nie</td>" not in after.split("</tr>", 1)[0]
    # an account of a deactivated agency cannot log in, and the list says so
    query(lambda: auth_service.set_agency_active("ABH", False))
    assert world["ABH"] in _listed(admin, stand="gesperrt") and world["ABH"] not in _listed(admin, stand="aktiv")
    row = admin.get("/verwaltung/benutzer").get_data(as_text=True).split(f">{world['ABH']}</a>", 1)[1]
    assert "gesperrt (Stelle deaktiviert)" in row.split("</tr>", 1)[0]
    uid = _id(query, world["ABH"])
    assert "gesperrt: die Stelle ABH ist deaktiviert" in admin.get(f"/verwaltung/benutzer/{uid}").get_data(as_text=True)
    assert admin.post(f"/verwaltung/benutzer/{uid}/aktiv", data={"active": "0"}).status_code == 302
    told = admin.post(f"/verwaltung/benutzer/{uid}/aktiv", data={"active": "1"}, follow_redirects=True)
    assert "erst, wenn die Stelle ABH wieder aktiv ist" in told.get_data(as_text=True)


@pytest.mark.parametrize(
    ("args", "field"), [({"stelle": "XY"}, "Stelle"), ({"rolle": "chef"}, "Rolle"), ({"stand": "<b>"}, "Stand")]
)
def test_an_unknown_filter_is_refused_in_german_and_every_account_shown(admin, world, args, field):
    resp = admin.get("/verwaltung/benutzer", query_string=args)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and f"{field}: Diese" in body and "<b>" not in body
    assert world["JC"] in body and world["KI"] in body


def test_the_administration_revokes_an_accounts_api_tokens_and_calendar_address(admin, world, query, app):
    from agenda import service as agenda_service
    from fallkonferenz.auth import service as auth_service

    def issue():
        jc = db.session.query(User).filter_by(username=world["JC"]).one()
        token = auth_service.create_api_token(jc, "Fachverfahren")
        feed = agenda_service.create_calendar_token(jc)
        return jc.id, token, feed

    uid, token, feed = query(issue)
    api = app.test_client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert app.test_client().get(f"/kalender/{feed}.ics").status_code == 200
    page = admin.get(f"/verwaltung/benutzer/{uid}").get_data(as_text=True)
    assert (
        "„Fachverfahren“, erstellt am" in page and "zuletzt benutzt:" in page and "Kalenderadresse widerrufen" in page
    )
    token_id = query(lambda: db.session.query(ApiToken.id).filter_by(user_id=uid).scalar(), commit=False)
    resp = admin.post(f"/verwaltung/benutzer/{uid}/token/{token_id}/widerrufen", follow_redirects=True)
    assert resp.status_code == 200 and "„Fachverfahren“ ist widerrufen" in resp.get_data(as_text=True)
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert admin.post(f"/verwaltung/benutzer/{uid}/kalender/widerrufen").status_code == 302
    assert app.test_client().get(f"/kalender/{feed}.ics").status_code == 404
    after = admin.get(f"/verwaltung/benutzer/{uid}").get_data(as_text=True)
    assert "Das Konto hat kein gültiges Zugangstoken." in after and "Kalenderadresse widerrufen" not in after
    revocations = query(
        lambda: [
            (e.actor_id, e.detail)
            for e in db.session.query(AuditEvent).filter(
                AuditEvent.action.in_(("auth.token_revoke", "calendar.token_revoke"))
            )
        ],
        commit=False,
    )
    admin_id = _id(query, "admin")
    assert len(revocations) == 2 and all(actor == admin_id and f'"user":{uid}' in d for actor, d in revocations)
    # another account's token is not found through this one; nobody but the administration revokes
    assert admin.post(f"/verwaltung/benutzer/{_id(query, world['KI'])}/token/{token_id}/widerrufen").status_code == 404
    jc = Client(app)
    jc.login(world["KI"], PASSWORD)
    assert jc.post(f"/verwaltung/benutzer/{uid}/token/{token_id}/widerrufen").status_code == 404
    assert jc.post(f"/verwaltung/benutzer/{uid}/kalender/widerrufen").status_code == 404


def test_the_administration_adds_an_agency_and_deactivates_one_but_not_her_own(admin, app, world, query):
    page = admin.get("/verwaltung/stellen").get_data(as_text=True)
    assert "Neue Stelle" in page and '/verwaltung/benutzer?stelle=JC"' in page
    resp = admin.post("/verwaltung/stellen", data={"code": "sa", "name": "Sozialamt Musterstadt", "color": "#AA3300"})
    assert resp.status_code == 302
    agency = query(lambda: db.session.query(Agency).filter_by(code="SA").one(), commit=False)
    assert (agency.name, agency.color, agency.active) == ("Sozialamt Musterstadt", "#aa3300", True)
    assert "agency.create" in _actions(query)
    # deactivating JC ends its sessions and shuts it out; reactivating lets it in again
    jc = Client(app)
    jc.login(world["JC"], PASSWORD)
    assert jc.get("/faelle/").status_code == 200
    told = admin.post("/verwaltung/stellen/JC/aktiv", data={"active": "0"}, follow_redirects=True)
    assert "Die Stelle JC ist deaktiviert; 1 Anmeldung(en)" in told.get_data(as_text=True)
    assert jc.get("/faelle/").status_code == 302 and not _logs_in(app, world["JC"], PASSWORD)
    assert admin.post("/verwaltung/stellen/JC/aktiv", data={"active": "1"}).status_code == 302
    assert _logs_in(app, world["JC"], PASSWORD)
    own = admin.post("/verwaltung/stellen/KI/aktiv", data={"active": "0"})
    assert own.status_code == 422 and "Ihre eigene Stelle" in own.get_data(as_text=True)
    assert query(lambda: db.session.query(Agency).filter_by(code="KI").one().active, commit=False) is True


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": ""}, "code", "1–16 Buchstaben oder Ziffern"),
        ({"code": "J C"}, "code", "1–16 Buchstaben oder Ziffern"),
        ({"code": "jc"}, "code", "Diese Stelle gibt es schon."),
        ({"color": "red; background:url(x)"}, "color", "#RRGGBB"),
        ({"name": "Zeile\nzwei"}, "name", "eine Zeile"),
    ],
)
def test_a_refused_agency_keeps_what_was_typed(admin, query, data, field, message):
    form = {"code": "JMD", "name": "Jugendmigrationsdienst", "color": "#336699"} | data
    resp = admin.post("/verwaltung/stellen", data=form)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body and f'id="{field}-error"' in body
    assert 'value="Jugendmigrationsdienst"' in body or field == "name"
    assert query(lambda: db.session.query(Agency).filter_by(code="JMD").count(), commit=False) == 0


def test_only_the_administration_manages_agencies(world, client_for, query):
    ki = client_for(world["KI"], PASSWORD)
    assert ki.get("/verwaltung/stellen").status_code == 404
    assert ki.post("/verwaltung/stellen/JC/aktiv", data={"active": "0"}).status_code == 404
    assert query(lambda: db.session.query(Agency).filter_by(code="JC").one().active, commit=False) is True


def test_the_services_refuse_anyone_but_the_administration_another_accounts_tokens(world, query):
    from agenda import service as agenda_service
    from fallkonferenz.auth import service as auth_service
    from fallkonferenz.errors import NotFound

    def attempt():
        jc = db.session.query(User).filter_by(username=world["JC"]).one()
        ki = db.session.query(User).filter_by(username=world["KI"]).one()
        auth_service.create_api_token(jc, "Fachverfahren")
        agenda_service.create_calendar_token(jc)
        token_id = db.session.query(ApiToken.id).filter_by(user_id=jc.id).scalar()
        refused = []
        for call in (
            lambda: auth_service.revoke_api_token(jc, token_id, by=ki),
            lambda: agenda_service.revoke_calendar_token(ki, jc),
        ):
            try:
                call()
            except NotFound:
                refused.append(True)
        return refused, agenda_service.has_calendar_token(jc), db.session.get(ApiToken, token_id).revoked_at

    refused, feed_kept, revoked_at = query(attempt)
    assert refused == [True, True] and feed_kept and revoked_at is None
