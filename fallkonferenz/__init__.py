"""Fallkonferenz: consent-gated case records and case conferences for agencies serving young refugees."""

from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from . import audit, localtime
from .config import ROOT, load_config
from .crypto import Keyring
from .extensions import csrf, db, migrate, socketio


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: the composition root, the only place that imports every package."""
    cfg = load_config(overrides)
    app = Flask(
        __name__,
        instance_path=cfg["INSTANCE_PATH"],
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(cfg)
    app.json.ensure_ascii = False  # German text stays readable in the API
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.extensions["fk_keyring"] = Keyring(
        master_key=app.config.get("FK_MASTER_KEY"), path=app.config["FK_KEYRING_FILE"]
    )
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)

    from agenda import api as agenda_api
    from agenda import bp as agenda_bp
    from agenda import models as _agenda_models  # noqa: F401  (register tables)
    from agenda import routes as _agenda_routes  # noqa: F401  (attach views)
    from agenda.cli import agenda_cli
    from backlog import api as backlog_api
    from backlog import bp as backlog_bp
    from backlog import models as _backlog_models  # noqa: F401  (register tables)
    from backlog import oparl
    from backlog import reports as _backlog_reports  # noqa: F401  (attach views)
    from backlog import routes as _backlog_routes  # noqa: F401  (attach views)
    from consent import bp as consent_bp
    from consent import models as _consent_models  # noqa: F401  (register tables)
    from consent import routes as _consent_routes  # noqa: F401  (attach views)
    from minutes import api as minutes_api
    from minutes import models as _minutes_models  # noqa: F401  (register tables)
    from minutes.routes import bp as minutes_bp

    from . import epoch as _epoch  # noqa: F401  (its table and triggers)
    from . import web
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .cases import bp as cases_bp
    from .cli import register_cli
    from .views import bp as main_bp
    from .views import register_health

    app.url_map.converters["int"] = web.IdConverter  # before any rule is added
    for blueprint in (auth_bp, main_bp, cases_bp, consent_bp, agenda_bp, minutes_bp, backlog_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(agenda_api.bp, url_prefix="/api/v1/conferences")
    app.register_blueprint(backlog_api.bp, url_prefix="/api/v1/backlog")
    app.register_blueprint(minutes_api.bp, url_prefix="/api/v1/tasks")
    app.register_blueprint(oparl.bp, url_prefix="/oparl/v1")
    app.cli.add_command(agenda_cli)
    from agenda.demo import seed_conferences
    from agenda.routes import dashboard_panel
    from backlog.demo import seed_backlog
    from backlog.routes import dashboard_panel as backlog_panel
    from minutes.demo import seed_minutes

    app.extensions["fk_demo_seeders"] = [seed_conferences, seed_minutes, seed_backlog]
    from backlog.routes import case_panel as backlog_case_panel
    from minutes.routes import case_panel, tasks_panel

    app.extensions["fk_case_panels"] = [case_panel, backlog_case_panel]
    from agenda.items import blank_case_items

    app.extensions["fk_erasure_hooks"] = [blank_case_items]
    from minutes.records import closure_findings

    app.extensions["fk_integrity_checks"] = [closure_findings]

    app.extensions["fk_dashboard_panels"] = [dashboard_panel, tasks_panel, backlog_panel]
    from agenda.routes import account_panel

    app.extensions["fk_account_panels"] = [account_panel]
    from agenda.models import Conference
    from backlog.models import Escalation

    # What events not about a case were about, for the audit page; the most specific first (an event about a
    # backlog item in a meeting names the item). Conference titles never name a case (agenda.service.check_title).
    app.extensions["fk_audit_subjects"] = [
        ("escalation", Escalation, lambda e: f"Thema {e.reference}"),
        ("conference", Conference, lambda c: f"Konferenz „{c.title}“"),
    ]
    register_health(app)
    web.register(app)
    from minutes.sockets import AccessNoticeRedisManager, MinutesNamespace, SharedCursorOwners

    redis_url = app.config["REDIS_URL"]
    queue = {"client_manager": AccessNoticeRedisManager(redis_url, channel="flask-socketio")} if redis_url else {}
    socketio.init_app(
        app,
        async_mode="threading",
        manage_session=False,
        # A connection's events are handled one after the other, in the order they arrived, on the thread that reads
        # the connection: an author's updates are stored in the order typed, and none waits for a new thread (the
        # default starts one per event). Other connections have their own threads.
        async_handlers=False,
        max_http_buffer_size=2 * 1024 * 1024,
        **queue,
    )
    minutes_namespace = MinutesNamespace()
    socketio.on_namespace(minutes_namespace)
    # A write that takes access away (a revoked consent, a participant removed) evicts the sockets before the page
    # answers, not on the sweep's next pass: in this process at once, in the others through the message queue.
    app.extensions["fk_after_write"] = [minutes_namespace.after_write]
    # Run by `serving.serve` before it takes the first request.
    app.extensions["fk_warm_up"] = [minutes_namespace.warm_up]
    if queue:
        queue["client_manager"].on_access_changed = functools.partial(minutes_namespace.check_in, app)
        minutes_namespace.shared_owners = SharedCursorOwners(redis_url)
    register_cli(app)
    register_template_helpers(app)
    return app


def register_template_helpers(app: Flask) -> None:
    from .vocab import CATEGORIES, FIELDS, GOAL_STATUS, RECHTSKREISE, ROLES

    @app.context_processor
    def vocab():
        from flask import g

        return {
            "CATEGORIES": CATEGORIES,
            "FIELDS": FIELDS,
            "GOAL_STATUS": GOAL_STATUS,
            "RECHTSKREISE": RECHTSKREISE,
            "ROLES": ROLES,
            "current_user": g.get("user"),
        }

    @app.template_filter("labels")
    def labels(codes, vocabulary: dict) -> list[str]:
        return [vocabulary.get(c, c) for c in codes if c]

    localtime.register(app)  # datum, uhrzeit, tag: UTC shown as local time
    app.add_template_filter(audit.action_label, "action_label")
    app.add_template_filter(audit.listed_cases, "listed_cases")
    app.add_template_filter(audit.detail_text, "detail_text")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL, full fsync on commit, foreign keys, and a busy timeout."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # Deleted and overwritten content is zeroed, not left in free pages: an erased case's plain-text fields,
        # a minutes log sealed in place by a migration, folded updates.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()
        # lower() for searches that ignore case beyond ASCII ("Übergang" for "übergang"), as PostgreSQL's does
        dbapi_connection.create_function("fk_lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


# SQLite has one writer at a time. Threads of this process queue on a lock instead of polling the
# database's busy handler, whose back-off sleeps would leave the CPU idle and stretch the tail latency.
_SQLITE_WRITER = threading.RLock()


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn):
    """SQLite: take the write lock at BEGIN so the audit chain head is never read stale."""
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        if conn.get_execution_options().get("fk_read_only"):
            _driver_begin(driver, "BEGIN")  # a reader: WAL lets it run beside the writer
            return
        if not _SQLITE_WRITER.acquire(timeout=30):
            raise OperationalError("BEGIN IMMEDIATE", (), TimeoutError("SQLite writer lock not acquired in 30 s"))
        conn.info["fk_writer_lock"] = True
        try:
            _driver_begin(driver, "BEGIN IMMEDIATE")
        except Exception:
            _release_writer(conn)
            raise


def _driver_begin(driver, statement: str) -> None:
    """BEGIN straight on the driver (SQLAlchemy's execution machinery cost more than the statement itself); its
    errors are raised as SQLAlchemy raises them, so a busy database gets the app's 503 answer."""
    try:
        driver.execute(statement)
    except sqlite3.Error as err:
        raise DBAPIError.instance(statement, (), err, sqlite3.Error) from err


def _release_writer(conn) -> None:
    if conn.info.pop("fk_writer_lock", False):
        _SQLITE_WRITER.release()


@event.listens_for(Engine, "commit")
def _sqlite_after_commit(conn):
    _release_writer(conn)


@event.listens_for(Engine, "rollback")
def _sqlite_after_rollback(conn):
    _release_writer(conn)
