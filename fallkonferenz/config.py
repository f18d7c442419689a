"""Configuration from environment variables with safe development defaults."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 (refused outside development)
ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe for the chosen mode."""


def load_config(overrides: dict | None = None) -> dict:
    """Build the config dict from the environment, then apply overrides."""
    env = os.environ.get("FK_ENV", "development")
    instance = Path(os.environ.get("FK_INSTANCE_PATH", ROOT / "instance"))
    cfg = {
        "ENV_NAME": env,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'fallkonferenz.db'}"),
        "FK_MASTER_KEY": os.environ.get("FK_MASTER_KEY"),
        "FK_KEYRING_FILE": os.environ.get("FK_KEYRING_FILE", str(instance / "keyring.json")),
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024 + 64 * 1024,
        "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
        # A PDF of the whole backlog takes WeasyPrint about 17 s for 2,000 items; the CSV has no limit.
        "BACKLOG_PDF_MAX_ITEMS": 500,
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_NAME": "fk_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env not in ("development", "testing"),
        "SESSION_IDLE_MINUTES": int(os.environ.get("FK_SESSION_IDLE_MINUTES", "480")),
        "LOGIN_MAX_FAILURES_ACCOUNT": 5,
        "LOGIN_MAX_FAILURES_ADDRESS": 20,
        "LOGIN_WINDOW_MINUTES": 15,
        "PAGE_SIZE": 50,
        "ARGON2_TIME_COST": int(os.environ.get("FK_ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_KIB": int(os.environ.get("FK_ARGON2_MEMORY_KIB", "65536")),
        "TESTING": env == "testing",
        # E-mail: "outbox" keeps mail in the app (development, tests); "smtp" sends it.
        "MAIL_BACKEND": os.environ.get("FK_MAIL_BACKEND", "outbox" if env in ("development", "testing") else "smtp"),
        "MAIL_HOST": os.environ.get("FK_MAIL_HOST", "localhost"),
        "MAIL_PORT": int(os.environ.get("FK_MAIL_PORT", "25")),
        "MAIL_TLS": os.environ.get("FK_MAIL_TLS", "starttls"),  # starttls, ssl or none
        "MAIL_USERNAME": os.environ.get("FK_MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("FK_MAIL_PASSWORD", ""),
        "MAIL_SENDER": os.environ.get("FK_MAIL_SENDER", "Fallkonferenz <fallkonferenz@localhost>"),
        "MAIL_TIMEOUT": float(os.environ.get("FK_MAIL_TIMEOUT", "10")),
        "BASE_URL": os.environ.get("FK_BASE_URL", "http://127.0.0.1:5000"),
        # Pages, forms and e-mails speak this local time; the database, calendar files and the API keep UTC.
        "TIMEZONE": os.environ.get("FK_TIMEZONE", "Europe/Berlin"),
        # With Redis, several server processes share Socket.IO rooms; without it, one process is enough.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Days after a case was closed until `flask cases erase-due` erases it (crypto-shredding).
        "RETENTION_DAYS": os.environ.get("FK_RETENTION_DAYS", "1095"),
    }
    if overrides:
        cfg.update(overrides)
    check_config(cfg)
    return cfg


def check_config(cfg: dict) -> None:
    """Refuse an unknown time zone, and unsafe settings outside development and tests."""
    try:
        ZoneInfo(cfg["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"FK_TIMEZONE: unknown time zone {cfg['TIMEZONE']!r} (e.g. Europe/Berlin).") from None
    try:
        cfg["RETENTION_DAYS"] = int(cfg["RETENTION_DAYS"])
    except (TypeError, ValueError):
        cfg["RETENTION_DAYS"] = 0
    if not 1 <= cfg["RETENTION_DAYS"] <= 36500:
        raise ConfigError("FK_RETENTION_DAYS: the retention period in days after a case is closed, 1 to 36500.")
    if cfg["ENV_NAME"] in ("development", "testing"):
        return
    if not cfg["SECRET_KEY"] or cfg["SECRET_KEY"] == DEFAULT_SECRET or len(cfg["SECRET_KEY"]) < 32:
        raise ConfigError("SECRET_KEY must be set to a random value of at least 32 characters.")
    if not cfg.get("FK_MASTER_KEY") and not Path(cfg["FK_KEYRING_FILE"]).is_file():
        raise ConfigError("A master key is required: set FK_MASTER_KEY or provide FK_KEYRING_FILE.")
