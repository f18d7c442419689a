"""Configuration safety, migrations, command line, admin and data-protection pages, health."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from agenda.demo import PAST_RECORDS
from agenda.models import AgendaItem, Conference
from fallkonferenz import create_app, epoch
from fallkonferenz.casecrypto import keyring
from fallkonferenz.cases.retention import erase_case
from fallkonferenz.config import ConfigError, load_config
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, User
from fallkonferenz.serving import NoDelayRequestHandler
from minutes import records, service
from minutes.models import MinutesClosure
from tests.conftest import instance_config
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-secret-change-me"}, "SECRET_KEY"),
        ({"SECRET_KEY": "kurz"}, "SECRET_KEY"),
        ({"SECRET_KEY": "s" * 40}, "master key"),
    ],
)
def test_production_refuses_default_secret_or_missing_master_key(monkeypatch, tmp_path, env, message):
    for name in ("SECRET_KEY", "FK_MASTER_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FK_ENV", "production")
    monkeypatch.setenv("FK_KEYRING_FILE", str(tmp_path / "none.json"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config()


def test_production_starts_with_secret_and_master_key(monkeypatch, tmp_path):
    monkeypatch.setenv("FK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("FK_MASTER_KEY", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=")
    cfg = load_config()
    assert cfg["SESSION_COOKIE_SECURE"] is True


@contextmanager
def _migrated_database(tmp_path):
    """A database of its own to migrate (a file, or on PostgreSQL one created and dropped again); its URL and the
    command line's environment for it."""
    url = os.environ.get("DATABASE_URL")
    admin = name = None
    if not url:
        url = f"sqlite:///{tmp_path}/migrated.db"
    else:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"fk_migrations_{os.getpid()}"
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        url = url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url, os.environ | {"DATABASE_URL": url, "FLASK_APP": "run.py", "FK_INSTANCE_PATH": str(tmp_path)}
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()


def _flask(env: dict, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_migrations_build_the_schema_the_models_describe(app, tmp_path):
    with _migrated_database(tmp_path) as (url, env):
        for args in (["db", "upgrade"], ["db", "downgrade", "base"], ["db", "upgrade"]):
            _flask(env, *args)
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            # None if a counter's row or any of its triggers were missing
            counters = {e.table: e.read(conn) for e in epoch.EPOCHS}
        engine.dispose()
    assert diff == []
    assert None not in counters.values(), counters


def test_upgrading_from_0008_keeps_the_approvals_and_indexes_the_listed_cases(app, tmp_path):
    """0009 adds the approval's history: a database upgraded from 0008 starts it with what it holds (a closing,
    decisions, an objection kept from before a reopening, the final approval), in the order it happened. 0010
    indexes the cases that earlier list events showed."""
    with _migrated_database(tmp_path) as (url, env):
        # agencies, users and conferences to hang the approvals on, seeded as the code is now and kept downwards
        _flask(env, "db", "upgrade")
        _flask(env, "demo", "seed")
        _flask(env, "db", "downgrade", "0008_backlog_epoch")
        engine = create_engine(url)
        with engine.begin() as conn:
            first, second = conn.execute(text("SELECT id FROM conferences ORDER BY id LIMIT 2")).scalars()
            user_id, agency_id = conn.execute(text("SELECT id, agency_id FROM users ORDER BY id LIMIT 1")).one()
            other_agency = conn.execute(text("SELECT id FROM agencies WHERE id != :a LIMIT 1"), {"a": agency_id})
            other_agency = other_agency.scalar()
            t = [datetime(2026, 3, 2, 10, minute) for minute in range(5)]
            conn.execute(
                text(
                    "INSERT INTO minutes_closures (conference_id, closed_at, closed_by_id, frozen, sha256, final_at) "
                    "VALUES (:c, :t0, :u, '{}', :h, :t3)"
                ),
                {"c": first, "t0": t[0], "u": user_id, "h": "a" * 64, "t3": t[3]},
            )
            approvals = [(first, agency_id, "genehmigt", "", t[2]), (first, other_agency, "genehmigt", "", t[1])]
            approvals.append((second, agency_id, "einspruch", "Datum falsch", t[4]))  # minutes reopened since
            for c, a, decision, reason, at in approvals:
                conn.execute(
                    text(
                        "INSERT INTO minutes_approvals (conference_id, agency_id, decision, reason, user_id, at) "
                        "VALUES (:c, :a, :d, :r, :u, :at)"
                    ),
                    {"c": c, "a": a, "d": decision, "r": reason, "u": user_id, "at": at},
                )
            # 0010 indexes the cases a list showed by name (before: only inside the event's detail)
            listing = conn.execute(text("SELECT max(id) FROM audit_events")).scalar() + 1
            conn.execute(
                text(
                    "INSERT INTO audit_events (id, created_at, actor_id, agency_id, action, case_id, categories, "
                    "purpose, detail, prev_hash, hash) VALUES (:id, :t, :u, :a, 'case.list', NULL, 'stammdaten', "
                    "'', :d, :h, :h)"
                ),
                {"id": listing, "t": t[0], "u": user_id, "a": agency_id, "d": '{"cases":[1,2],"names_shown":[2]}'}
                | {"h": "0" * 64},
            )
        _flask(env, "db", "upgrade")
        with engine.connect() as conn:
            linked = conn.execute(
                text("SELECT case_id FROM audit_event_cases WHERE event_id = :e"), {"e": listing}
            ).scalars()
            assert list(linked) == [2]
        with engine.connect() as conn:
            steps = conn.execute(
                text("SELECT conference_id, kind, agency_id, user_id, reason FROM minutes_approval_steps ORDER BY id")
            ).all()
        engine.dispose()
        assert [tuple(s) for s in steps] == [
            (first, "abgeschlossen", None, user_id, ""),
            (first, "genehmigt", other_agency, user_id, ""),  # in the order given
            (first, "genehmigt", agency_id, user_id, ""),
            (first, "endgueltig", None, None, ""),
            (second, "einspruch", agency_id, user_id, "Datum falsch"),
        ]


def test_upgrading_to_0011_seals_the_minutes_of_case_items_and_downgrading_opens_them(app, tmp_path):
    """0011 encrypts what the minutes hold of a case item (update log, decisions, tasks, frozen text) under the
    case's key; the app reads it as before. Downgrading decrypts it again."""
    with _migrated_database(tmp_path) as (url, env):
        _flask(env, "db", "upgrade")
        _flask(env, "demo", "seed")
        _flask(env, "db", "downgrade", "0010_audit_event_cases")
        engine = create_engine(url)
        migrated = create_app(instance_config(tmp_path) | {"SQLALCHEMY_DATABASE_URI": url})

        def seal(body: str) -> str:
            with migrated.app_context():
                return keyring().seal(body.encode())

        amiri = "Herr Amiri berichtet"
        with engine.begin() as conn:
            item, conference = conn.execute(
                text("SELECT id, conference_id FROM agenda_items WHERE case_id IS NOT NULL ORDER BY id LIMIT 1")
            ).one()
            user_id = conn.execute(text("SELECT id FROM users ORDER BY id LIMIT 1")).scalar()
            # as minutes were frozen before 0011, with their keyed hash over this text
            entry = {"text": f"{amiri} (abgeschlossen)", "html": "<p>…</p>"}
            frozen = json.dumps({str(item): entry}, sort_keys=True, ensure_ascii=False)
            conn.execute(
                text(
                    "INSERT INTO minutes_closures (conference_id, closed_at, closed_by_id, frozen, sha256) "
                    "VALUES (:c, :t, :u, :f, :h)"
                ),
                {"c": conference, "t": datetime(2026, 10, 17, 12), "u": user_id, "f": frozen, "h": seal(frozen)},
            )
            log = b"".join(conn.execute(text("SELECT data FROM minutes_updates")).scalars())
            decisions = set(conn.execute(text("SELECT text FROM decisions")).scalars())
        assert amiri.encode() in log  # downgraded: in plain text again
        assert PAST_RECORDS["Amiri"][0] in decisions
        _flask(env, "db", "upgrade")
        with engine.connect() as conn:
            log = b"".join(conn.execute(text("SELECT data FROM minutes_updates")).scalars())
            decisions = set(conn.execute(text("SELECT text FROM decisions")).scalars())
            tasks = set(conn.execute(text("SELECT description FROM tasks")).scalars())
            frozen = conn.execute(text("SELECT frozen FROM minutes_closures")).scalar()
        engine.dispose()
        assert amiri.encode() not in log and amiri not in frozen
        assert decisions == {""} and tasks == {""}  # the demo's decisions and tasks are all of case items
        # the app opens them with the case keys
        service.CACHE.docs.clear()
        try:
            with migrated.app_context():
                closure = db.session.get(MinutesClosure, conference)
                assert records.frozen_entries(closure, [item])[item]["text"] == f"{amiri} (abgeschlossen)"
                assert service.text_of(item).startswith(amiri)
                (decision,) = records.decisions_for([item])[item]
                assert decision.text.startswith("Federführung bleibt beim KI")
                # the keyed hash, taken over the text before it was sealed, still proves it unchanged ...
                assert records.check_closure(closure) == records.SealCheck(True, records.SEAL_INTACT)
                assert records.closure_findings() == []
                # ... until the case is erased: its key is gone, so that text can no longer be rebuilt
                case_id = db.session.get(AgendaItem, item).case_id
                erase_case(case_id, "Löschung auf Antrag nach Art. 17 DSGVO")
                db.session.commit()
                closure = db.session.get(MinutesClosure, conference)
                assert records.check_closure(closure) == records.SealCheck(None, records.SEAL_UNCHECKABLE)
                (finding,) = records.closure_findings()
                assert finding.problem == records.SEAL_UNCHECKABLE and f"Konferenz {conference}" in finding.label
                db.session.remove()
                db.engine.dispose()
        finally:
            service.CACHE.docs.clear()


def test_cli_creates_agencies_and_users_and_refuses_bad_ones(app, query):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["agencies", "create", "SOZ", "Sozialamt Musterstadt"]).exit_code == 0
    ok = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "soz.beratung",
            "--name",
            "S. Beratung",
            "--agency",
            "SOZ",
            "--role",
            "case_worker",
        ],
        input="ein-sicheres-passwort\nein-sicheres-passwort\n",
    )
    assert ok.exit_code == 0, ok.output
    short = runner.invoke(
        args=["users", "create", "--username", "x.y", "--name", "X", "--agency", "SOZ", "--role", "case_worker"],
        input="kurz\nkurz\n",
    )
    assert short.exit_code != 0 and "mindestens 12 Zeichen" in short.output
    unknown = runner.invoke(
        args=["users", "create", "--username", "z.z", "--name", "Z", "--agency", "NIX", "--role", "case_worker"],
        input="ein-sicheres-passwort\nein-sicheres-passwort\n",
    )
    assert unknown.exit_code != 0 and "Unbekannte Stelle" in unknown.output
    assert query(lambda: [u.username for u in db.session.query(User)], commit=False) == ["soz.beratung"]


def test_demo_seed_runs_once(app, query):
    runner = app.test_cli_runner()
    assert "14 Fälle" in runner.invoke(args=["demo", "seed"]).output
    assert "bereits Daten" in runner.invoke(args=["demo", "seed"]).output
    names = query(lambda: {u.username for u in db.session.query(User)}, commit=False)
    assert {"ki.koordination", "jc.fallmanagement", "aa.beratung", "abh.sachbearbeitung", "ja.asd"} <= names
    assert {"lenkung.vorsitz", "dsb", "admin"} <= names
    # the held conference's minutes say who came: every participant
    held = query(lambda: db.session.query(Conference).filter_by(state="beendet").one().id, commit=False)
    assert set(query(lambda: records.attendance_of(held), commit=False).values()) == {"anwesend"}


def test_admin_manages_users_and_nobody_else_can(app, query, client_for):
    app.test_cli_runner().invoke(args=["demo", "seed"])
    admin = client_for("admin")
    assert admin.get("/verwaltung/benutzer").status_code == 200
    created = admin.post(
        "/verwaltung/benutzer",
        data={"username": "ja.neu", "display_name": "Neu", "agency": "JA", "role": "case_worker", "password": "x" * 12},
    )
    assert created.status_code == 302
    bad = admin.post(
        "/verwaltung/benutzer",
        data={"username": "", "display_name": "", "agency": "QQ", "role": "boss", "password": "x"},
    )
    assert bad.status_code == 422 and "Unbekannte Stelle." in bad.get_data(as_text=True)
    good = {"username": "ja.zwei", "display_name": "Zwei", "agency": "JA", "role": "case_worker", "password": "x" * 12}
    for over, message in (
        ({"email": "neu@example.org\r\nBcc: evil@example.org"}, "gültige E-Mail-Adresse"),
        ({"email": "kein-at-zeichen"}, "gültige E-Mail-Adresse"),
        ({"display_name": "Zwei\nZeilen"}, "eine Zeile"),
        ({"password": "x" * 1025}, "höchstens 1024 Zeichen"),
    ):
        refused = admin.post("/verwaltung/benutzer", data=good | over)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True), over
    assert query(lambda: db.session.query(User).filter_by(username="ja.zwei").count(), commit=False) == 0
    uid = query(lambda: db.session.query(User.id).filter_by(username="ja.neu").scalar(), commit=False)
    unclear = admin.post(f"/verwaltung/benutzer/{uid}/aktiv", data={"active": "ja-bitte"})
    assert unclear.status_code == 422 and query(lambda: db.session.get(User, uid).active, commit=False) is True
    assert admin.post(f"/verwaltung/benutzer/{uid}/aktiv", data={"active": "0"}).status_code == 302
    assert query(lambda: db.session.get(User, uid).active, commit=False) is False
    for username in ("ki.koordination", "dsb", "lenkung.vorsitz"):
        assert client_for(username).get("/verwaltung/benutzer").status_code == 404
    # the admin cannot lock the system's administration out by deactivating herself
    own = query(lambda: db.session.query(User.id).filter_by(username="admin").scalar(), commit=False)
    refused = admin.post(f"/verwaltung/benutzer/{own}/aktiv", data={"active": "0"})
    assert refused.status_code == 422 and "Ihr eigenes Konto" in refused.get_data(as_text=True)
    assert query(lambda: db.session.get(User, own).active, commit=False) is True
    listing = admin.get("/verwaltung/benutzer")
    assert listing.status_code == 200 and f'/verwaltung/benutzer/{own}/aktiv"' not in listing.get_data(as_text=True)


def test_dpo_reads_and_verifies_the_audit_log_but_no_case_content(app, query, client_for):
    app.test_cli_runner().invoke(args=["demo", "seed"])
    dsb = client_for("dsb")
    page = dsb.get("/protokollierung?pruefen=1")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "vollständig und unverändert" in body
    assert "Amiri" not in body
    # The oldest page of the log holds the creation of the demo cases: ids and metadata, never a name.
    oldest = dsb.get("/protokollierung?vor=60").get_data(as_text=True)
    assert "case.create" in oldest and "Amiri" not in oldest
    query(lambda: db.session.execute(AuditEvent.__table__.update().where(AuditEvent.id == 3).values(purpose="x")))
    assert "Eintrag 3" in dsb.get("/protokollierung?pruefen=1").get_data(as_text=True)
    assert client_for("ki.koordination").get("/protokollierung").status_code == 404


def test_dpo_filters_the_audit_log_by_account_agency_action_case_and_day(app, query, client_for):
    from fallkonferenz.models import Case

    app.test_cli_runner().invoke(args=["demo", "seed"])
    ki = client_for("ki.koordination")
    number, case_id = query(lambda: db.session.query(Case.number, Case.id).order_by(Case.id).first(), commit=False)
    assert ki.get(f"/faelle/{number}").status_code == 200  # a read to look for
    dsb = client_for("dsb")

    def page_of(**args) -> str:
        return dsb.get("/protokollierung", query_string=args).get_data(as_text=True)

    def rows(**args) -> list[list[str]]:
        tbody = page_of(**args).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        return [re.findall(r"<td>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", tbody)]

    found = rows(konto="ki.koordination", aktion="case.read", fall=number)
    # the action in German with its code, the case by its number (an identifier, not content)
    read = 'Fall gelesen <code class="muted">case.read</code>'
    assert found and all(r[2] == "ki.koordination" and r[4] == read and r[5] == number for r in found)
    assert rows(fall=str(case_id)) and all(r[5] == number for r in rows(fall=str(case_id)))
    # one account exactly; with "*" (or a final ".") every account that begins so; a SQL wildcard is no wildcard
    assert rows(konto="ki.koord") == []
    for begun in (rows(konto="ki.*"), rows(konto="ki."), rows(konto="ki.koord*")):
        assert begun and all(r[2].startswith("ki.") for r in begun)
    assert rows(konto="%") == rows(konto="_") == rows(konto="%*") == []
    # the data categories in German
    page = dsb.get("/protokollierung", query_string={"aktion": "case.read", "fall": number}).get_data(as_text=True)
    cells = re.findall(r'<td class="text">([^<]*)</td>', page)
    assert any("Stammdaten" in c for c in cells) and not any("stammdaten" in c for c in cells)
    assert all(r[3] == "JC" for r in rows(stelle="jc")) and rows(stelle="jc")
    assert all('<code class="muted">auth.' in r[4] for r in rows(aktion="auth")) and rows(aktion="auth")
    from tests.conftest import CSRF_RE

    anonymous = client_for().http  # a failed login, to tell apart from logins
    token = CSRF_RE.search(anonymous.get("/anmelden").get_data(as_text=True)).group(1)
    failed = {"username": "jc.fallmanagement", "password": "falsch-falsch-falsch", "csrf_token": token}
    assert anonymous.post("/anmelden", data=failed).status_code == 401
    assert any("auth.login_failed" in r[4] for r in rows(aktion="auth"))
    # what an event not about one case was about: the backlog item, the conference, the account, by name
    subjects = {
        action: re.findall(r'<td class="text">((?:Thema|Konferenz|Konto) [^<]*)</td>', page_of(aktion=action))
        for action in ("backlog.escalate", "conference.create", "auth.login_failed")
    }
    assert subjects["backlog.escalate"] and all(
        re.fullmatch(r"Thema LG-\d{4}-\d{3}", t) for t in subjects["backlog.escalate"]
    )
    assert subjects["conference.create"] and all(t.startswith("Konferenz „") for t in subjects["conference.create"])
    assert "Konto jc.fallmanagement" in subjects["auth.login_failed"]
    logins = rows(aktion="auth.login")
    assert logins and all(r[4].endswith('<code class="muted">auth.login</code>') for r in logins)  # exactly
    # every action the app records has its German words
    from fallkonferenz.audit import ACTIONS

    recorded = query(lambda: {a for (a,) in db.session.query(AuditEvent.action).distinct()}, commit=False)
    assert recorded - {"test.event"} <= set(ACTIONS), recorded - set(ACTIONS)
    assert rows(aktion="%") == []  # no wildcard
    today = datetime.now(ZoneInfo("Europe/Berlin")).date().isoformat()  # the filter's days are local
    german = datetime.now(ZoneInfo("Europe/Berlin")).date().strftime("%d.%m.%Y")
    assert rows(von=today, bis=today) and rows(von=german) and rows(bis="2000-01-01") == []
    for bad, message in (
        ({"von": "gestern"}, "gültiges Datum"),
        ({"fall": "FK-1999-9999"}, "gibt es nicht"),
        ({"von": today, "bis": "2000-01-01"}, "„bis“ darf nicht vor „von“ liegen."),
    ):
        resp = dsb.get("/protokollierung", query_string=bad)
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    # each refused field is named in the summary, which leads to it, and carries its message next to it
    both = dsb.get("/protokollierung", query_string={"von": "gestern", "bis": "morgen"}).get_data(as_text=True)
    for name, label in (("von", "von (Tag)"), ("bis", "bis (Tag)")):
        assert f'<a href="#{name}">{label}: Bitte' in both
        assert f'id="{name}-error"' in both and f'aria-describedby="{name}-error"' in both
    # checking the chain keeps the filters the officer had set
    check_form = page_of(konto="ki.*", aktion="case.read").split("jetzt prüfen", 1)[0].rsplit("<form", 1)[1]
    assert '<input type="hidden" name="konto" value="ki.*">' in check_form
    assert '<input type="hidden" name="aktion" value="case.read">' in check_form
    checked = rows(konto="ki.*", pruefen="1")
    assert checked and all(r[2].startswith("ki.") for r in checked)
    assert "Amiri" not in dsb.get("/protokollierung", query_string={"fall": number}).get_data(as_text=True)


def test_health_is_public(app):
    assert app.test_client().get("/health").get_json() == {"status": "ok"}


def test_unknown_page_is_a_german_404(app, world, client_for):
    resp = client_for(world["KI"], PASSWORD).get("/gibt-es-nicht")
    assert resp.status_code == 404 and "nicht gefunden" in resp.get_data(as_text=True)


def test_every_audited_action_has_german_words():
    """The audit page and the access report show actions in German: each code the app records is named."""
    from fallkonferenz.audit import ACTIONS

    root = Path(__file__).resolve().parents[2]
    codes = set()
    for package in ("fallkonferenz", "consent", "agenda", "minutes", "backlog"):
        for source in (root / package).rglob("*.py"):
            codes |= set(re.findall(r"audit\.record\(\s*\"([a-z_]+\.[a-z_]+)\"", source.read_text()))
    assert len(codes) > 40 and codes <= set(ACTIONS), sorted(codes - set(ACTIONS))


def test_the_request_log_leaves_out_query_strings():
    """A name search puts a client's name into the query string; the server's request log must not keep it."""
    handler = NoDelayRequestHandler.__new__(NoDelayRequestHandler)  # no connection needed to log a request
    handler.command, handler.request_version = "GET", "HTTP/1.1"
    lines = []
    handler.log = lambda _kind, message, *args: lines.append(message % args)
    for path in ("/faelle?q=Amiri", "/faelle"):
        handler.path = path
        handler.log_request(200, 512)
        assert handler.path == path  # the request itself is untouched
    assert lines == ['"GET /faelle?… HTTP/1.1" 200 512', '"GET /faelle HTTP/1.1" 200 512']
