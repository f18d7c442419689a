"""Login, sessions, throttling, CSRF, cookies and security headers."""

from __future__ import annotations

import json
import time

from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, LoginAttempt, Note, UserSession
from tests.conftest import CSRF_RE, Client, page_text
from tests.factories import PASSWORD, make_case


def _user(code: str):
    from fallkonferenz.models import Agency, User

    return db.session.query(User).join(Agency).filter(Agency.code == code, User.role != "steering").first()


def _login_form(client: Client) -> str:
    return CSRF_RE.search(client.get("/anmelden").get_data(as_text=True)).group(1)


def _attempt(client: Client, username: str, password: str):
    return client.http.post(
        "/anmelden", data={"username": username, "password": password, "csrf_token": _login_form(client)}
    )


def test_login_starts_a_fresh_server_side_session_and_logout_ends_it(app, world, query):
    client = Client(app)
    _login_form(client)
    before = client.http.get_cookie("fk_session").value
    client.login("jc.case_worker", PASSWORD)
    after = client.http.get_cookie("fk_session").value
    assert before != after
    assert query(lambda: db.session.query(UserSession).count()) == 1
    stolen = after
    assert client.post("/abmelden").status_code == 302
    assert query(lambda: db.session.query(UserSession).count()) == 0
    # Replaying the old cookie after logout does not log anyone in.
    replay = Client(app)
    replay.http.set_cookie("fk_session", stolen)
    resp = replay.get("/faelle/")
    assert resp.status_code == 302 and "/anmelden" in resp.headers["Location"]


def test_wrong_password_and_unknown_user_answer_alike(app, world, query):
    client = Client(app)
    _attempt(client, "aufwaermen", "falsches-passwort-123")  # the first request of a process pays for warm-up
    timings = {"wrong": [], "unknown": []}
    bodies = {}
    for _ in range(3):
        for name, user in (("wrong", "jc.case_worker"), ("unknown", "niemand.hier")):
            start = time.perf_counter()
            resp = _attempt(client, user, "falsches-passwort-123")
            timings[name].append(time.perf_counter() - start)
            assert resp.status_code == 401
            bodies[name] = page_text(resp)
    assert "Benutzername oder Passwort ist falsch." in bodies["wrong"]
    assert 'value="jc.case_worker"' in bodies["wrong"]  # typed once, not again
    assert bodies["wrong"].replace("jc.case_worker", "") == bodies["unknown"].replace("niemand.hier", "")
    # Both paths verify an Argon2 hash of the same cost: same timing class (medians within a factor of 3).
    medians = [sorted(values)[1] for values in timings.values()]
    assert max(medians) / min(medians) < 3, timings


def test_too_many_attempts_per_account_are_throttled_even_with_the_right_password(app, world, query):
    client = Client(app)
    for _ in range(5):
        assert _attempt(client, "jc.case_worker", "falsch-falsch-falsch").status_code == 401
    resp = _attempt(client, "jc.case_worker", PASSWORD)
    assert resp.status_code == 429
    assert "Zu viele Anmeldeversuche" in resp.get_data(as_text=True)
    # Another account from the same address still works (the address limit is higher).
    assert _attempt(client, "aa.case_worker", PASSWORD).status_code == 302


def test_too_many_attempts_per_address_are_throttled(app, world, query):
    client = Client(app)
    for i in range(20):
        _attempt(client, f"unbekannt{i}", "falsch-falsch-falsch")
    assert _attempt(client, "aa.case_worker", PASSWORD).status_code == 429


def test_logins_and_failures_are_audited(app, world, query):
    client = Client(app)
    _attempt(client, "jc.case_worker", "falsch-falsch-falsch")
    client.login("jc.case_worker", PASSWORD)
    actions = query(lambda: [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)])
    assert "auth.login_failed" in actions and "auth.login" in actions
    assert query(lambda: db.session.query(LoginAttempt).count()) == 2


def test_missing_or_bad_csrf_token_is_refused_and_changes_nothing(app, world, query):
    client = Client(app)
    client.login("ki.moderator", PASSWORD)
    number = query(lambda: make_case(_user("KI")).number)
    for token in (None, "gefälscht"):
        data = {"category": "familie", "text": "darf nicht gespeichert werden"}
        if token:
            data["csrf_token"] = token
        resp = client.http.post(f"/faelle/{number}/vermerke", data=data)
        assert resp.status_code == 400
        assert "Sicherheitstoken" in resp.get_data(as_text=True)
    assert query(lambda: db.session.query(Note).count()) == 0
    # Login itself needs the token too.
    resp = Client(app).http.post("/anmelden", data={"username": "ki.moderator", "password": PASSWORD})
    assert resp.status_code == 400


def test_cookies_and_security_headers(app, world, query):
    client = Client(app)
    resp = client.get("/anmelden")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"


def test_secure_cookie_outside_development(tmp_path, monkeypatch):
    from fallkonferenz.config import load_config

    monkeypatch.setenv("FK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FK_MASTER_KEY", "A" * 43 + "=")
    assert load_config()["SESSION_COOKIE_SECURE"] is True


def test_deactivated_account_loses_its_session_at_once(app, world, query):
    client = Client(app)
    client.login("jc.case_worker", PASSWORD)
    assert client.get("/faelle/").status_code == 200
    query(lambda: setattr(_user("JC"), "active", False))
    assert client.get("/faelle/").status_code == 302


def test_deactivated_agency_ends_its_users_sessions_and_tokens_until_it_is_active_again(app, world, query):
    from fallkonferenz.auth import service as auth_service

    client, colleague = Client(app), Client(app)
    client.login("jc.case_worker", PASSWORD)
    colleague.login("ki.moderator", PASSWORD)
    token = query(lambda: auth_service.create_api_token(_user("JC"), "Fachverfahren"))
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/cases", headers=bearer).status_code == 200
    runner = app.test_cli_runner()

    result = runner.invoke(args=["agencies", "deactivate", "jc"])
    assert result.exit_code == 0
    assert "JC deaktiviert; 1 Sitzung(en) beendet." in result.output
    assert client.get("/faelle/").status_code == 302
    assert app.test_client().get("/api/v1/cases", headers=bearer).status_code == 401
    assert "Benutzername oder Passwort ist falsch." in _attempt(Client(app), "jc.case_worker", PASSWORD).get_data(
        as_text=True
    )
    assert colleague.get("/faelle/").status_code == 200  # other agencies work on
    event = query(lambda: db.session.query(AuditEvent).filter_by(action="agency.update").one().detail)
    assert json.loads(event) == {"agency": query(lambda: _user("JC").agency_id), "active": False, "sessions_ended": 1}

    assert runner.invoke(args=["agencies", "activate", "JC"]).exit_code == 0
    assert app.test_client().get("/api/v1/cases", headers=bearer).status_code == 200
    client.login("jc.case_worker", PASSWORD)
    assert client.get("/faelle/").status_code == 200


def test_deactivating_an_unknown_agency_is_refused(app, world):
    result = app.test_cli_runner().invoke(args=["agencies", "deactivate", "XYZ"])
    assert result.exit_code != 0
    assert "Diese Stelle gibt es nicht." in result.output


def test_open_redirect_after_login_is_refused(app, world, query):
    client = Client(app)
    token = _login_form(client)
    resp = client.http.post(
        "/anmelden?next=//evil.example/x",
        data={"username": "jc.case_worker", "password": PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
