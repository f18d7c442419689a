"""Authentication: Argon2id passwords, throttled logins, server-side sessions, API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, delete, func, or_, select

from consent.policy import may_manage_users, viewer_of

from .. import audit
from ..errors import DomainError, InvalidInput, NotFound, TooManyAttempts
from ..extensions import db
from ..models import Agency, ApiToken, LoginAttempt, User, UserSession, utcnow
from ..vocab import ROLES

_HASHERS: dict[tuple[int, int], tuple[PasswordHasher, str]] = {}


def _hasher() -> tuple[PasswordHasher, str]:
    """Argon2id with configured cost, and a dummy hash of the same cost to even out timing."""
    params = (current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_KIB"])
    if params not in _HASHERS:
        h = PasswordHasher(time_cost=params[0], memory_cost=params[1])
        _HASHERS[params] = (h, h.hash("a password nobody has, used to even out timing"))
    return _HASHERS[params]


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # the login form reads no more than this
# One address, no spaces or line breaks (it becomes an e-mail header); the mail server is the real test.
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TOUCH_EVERY = timedelta(seconds=60)


class InvalidCredentials(DomainError):
    status = 401
    message = "Benutzername oder Passwort ist falsch."


def token_hash(token: str) -> str:
    """How a session or access token is stored and looked up: its SHA-256, never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def _recent_failures(column, value: str) -> int:
    since = utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    return db.session.scalar(
        select(func.count()).where(column == value, LoginAttempt.success.is_(False), LoginAttempt.created_at >= since)
    )


def authenticate(username: str, password: str, address: str) -> User:
    """Check credentials; unknown user and wrong password answer alike, in the same time class."""
    username = (username or "").strip().lower()[:80]
    cfg = current_app.config
    # A failure is on record under the account it named, if there is one: the data-protection officer looks up
    # an account's failed and throttled logins by its name (which does not mean its holder made them).
    user = db.session.scalar(select(User).where(User.username == username))
    if (
        _recent_failures(LoginAttempt.username, username) >= cfg["LOGIN_MAX_FAILURES_ACCOUNT"]
        or _recent_failures(LoginAttempt.address, address) >= cfg["LOGIN_MAX_FAILURES_ADDRESS"]
    ):
        audit.record("auth.throttled", actor=user, detail={"address": address})
        raise TooManyAttempts()
    hasher, dummy = _hasher()
    ok = False
    try:
        ok = hasher.verify(user.password_hash if user else dummy, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.may_log_in
    db.session.add(LoginAttempt(username=username, address=address, success=ok))
    if not ok:
        audit.record("auth.login_failed", actor=user, detail={"address": address, "user": user.id if user else None})
        raise InvalidCredentials()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    audit.record("auth.login", actor=user, detail={"address": address})
    return user


def start_session(user: User) -> str:
    """Create a fresh server-side session; the returned token goes into the signed cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=token_hash(token), user_id=user.id))
    return token


# Looked up on every request; built once, because building a statement costs more than running these.
_SESSION = select(UserSession).where(UserSession.id == bindparam("id"))
_API_TOKEN = select(ApiToken).where(ApiToken.token_hash == bindparam("hash"))
_SESSIONS_SEEN = select(UserSession.id, UserSession.last_seen).where(
    UserSession.id.in_(bindparam("keys", expanding=True))
)
_API_TOKENS_OF = select(ApiToken).where(ApiToken.user_id == bindparam("user_id")).order_by(ApiToken.id)


def idle_deadline(last_seen):
    """When a session last seen then ends, unless it is seen again before."""
    return last_seen + timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def open_sessions(keys, now) -> dict[str, object]:
    """Of these sessions (by stored key), those still open at `now`: not ended, not idle for too long; each with
    the time it idles out unless it is seen again (one query, for the live minutes' sweep)."""
    seen = db.session.execute(_SESSIONS_SEEN, {"keys": list(keys)})
    return {key: deadline for key, last_seen in seen if now <= (deadline := idle_deadline(last_seen))}


def user_for_session(token: str | None) -> User | None:
    """Return the user of a live session, ending it after the idle timeout."""
    if not token:
        return None
    row = db.session.scalar(_SESSION, {"id": token_hash(token)})
    if row is None:
        return None
    now = utcnow()
    if now > idle_deadline(row.last_seen):
        db.session.delete(row)
        return None
    if not row.user.active or not row.user.agency.active:
        return None
    if now - row.last_seen > TOUCH_EVERY:
        row.last_seen = now
    return row.user


def end_session(token: str | None, user: User | None) -> None:
    if token:
        db.session.query(UserSession).filter(UserSession.id == token_hash(token)).delete()
    if user is not None:
        audit.record("auth.logout", actor=user)


def user_for_token(token: str) -> User | None:
    """Resolve a personal access token (Bearer) to its active user."""
    row = db.session.scalar(_API_TOKEN, {"hash": token_hash(token)})
    if row is None or row.revoked_at is not None or not row.user.active or not row.user.agency.active:
        return None
    if row.last_used_at is None or utcnow() - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = utcnow()
    return row.user


def create_api_token(user: User, name: str) -> str:
    """Issue a token; it is shown once and only its hash is kept."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(errors={"name": "Bitte geben Sie eine Bezeichnung (höchstens 100 Zeichen) an."})
    token = "fk_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, name=name, token_hash=token_hash(token)))
    audit.record("auth.token_create", actor=user)
    return token


def list_api_tokens(user: User) -> list[ApiToken]:
    return db.session.scalars(_API_TOKENS_OF, {"user_id": user.id}).all()


def revoke_api_token(user: User, token_id: int, by: User | None = None) -> str:
    """Revoke one of the user's tokens at once, by herself or (`by`) the administration; returns its name (her
    own label, for the message)."""
    if by is not None and not may_manage_users(viewer_of(by)):  # others' tokens: the administration only
        raise NotFound("Token nicht gefunden.")
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("Token nicht gefunden.")
    row.revoked_at = row.revoked_at or utcnow()
    audit.record("auth.token_revoke", actor=by or user, detail={"user": user.id, "token": row.id})
    return row.name


def _password_error(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD:
        return f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen lang sein."
    if len(password) > MAX_PASSWORD:
        return f"Das Passwort darf höchstens {MAX_PASSWORD} Zeichen lang sein."
    return None


def _check_profile(
    display_name: str, email: str | None, agency_code: str, role: str, current_agency_id: int | None = None
) -> tuple[dict, Agency, str]:
    """Check what an account says about its holder; return the errors, the agency and the e-mail address. Nobody
    is moved into a deactivated agency (an account of one keeps it: it is shut out until the agency returns)."""
    errors = {}
    if not (display_name or "").strip() or len(display_name) > 200 or not display_name.isprintable():
        errors["display_name"] = "Bitte geben Sie einen Namen (eine Zeile, höchstens 200 Zeichen) an."
    email = (email or "").strip() or None
    if email is not None and (len(email) > 254 or not EMAIL_RE.fullmatch(email)):
        errors["email"] = "Bitte geben Sie eine gültige E-Mail-Adresse an (name@stelle.de)."
    agency = db.session.scalar(select(Agency).where(Agency.code == (agency_code or "").upper()))
    if agency is None:
        errors["agency"] = "Unbekannte Stelle."
    elif not agency.active and agency.id != current_agency_id:
        errors["agency"] = "Diese Stelle ist deaktiviert; ihr wird niemand zugeordnet."
    if role not in ROLES:
        errors["role"] = "Unbekannte Rolle."
    return errors, agency, email


def create_user(
    *,
    username: str,
    display_name: str,
    agency_code: str,
    role: str,
    password: str,
    email: str | None = None,
    actor=None,
    must_change_password: bool = False,
) -> User:
    """Create a user account (admin or CLI). An administrator's initial password is to be replaced by the user's
    own at the first login (`must_change_password`)."""
    username = (username or "").strip().lower()
    errors, agency, email = _check_profile(display_name, email, agency_code, role)
    if not username or len(username) > 80 or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = "Benutzername: 1–80 Zeichen, nur Buchstaben, Ziffern, Punkt, Binde- und Unterstrich."
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = "Diesen Benutzernamen gibt es schon."
    if problem := _password_error(password):
        errors["password"] = problem
    if errors:
        raise InvalidInput(errors=errors)
    user = User(
        username=username,
        display_name=display_name.strip(),
        agency_id=agency.id,
        role=role,
        email=email,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, detail={"user": user.id, "role": role})
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("Benutzer nicht gefunden.")
    return user


def update_user(actor: User, user_id: int, *, display_name: str, email: str | None, agency_code: str, role: str):
    """The administrator corrects an account: name, e-mail address, agency, role.

    A new agency or role changes what the account may see and do; its sessions end at once (its live minutes
    leave their rooms with them), and its holder logs in again under the new rights. The administrator cannot
    change her own agency or role: another administrator must, so that the system is never left without one.
    """
    user = get_user(user_id)
    errors, agency, email = _check_profile(display_name, email, agency_code, role, user.agency_id)
    if user.id == actor.id and not errors and (agency.id != user.agency_id or role != user.role):
        errors["role"] = "Ihre eigene Stelle und Rolle kann nur ein anderes Administrationskonto ändern."
    if errors:
        raise InvalidInput(errors=errors)
    changed = {
        name
        for name, old, new in (
            ("display_name", user.display_name, display_name.strip()),
            ("email", user.email, email),
            ("agency", user.agency_id, agency.id),
            ("role", user.role, role),
        )
        if old != new
    }
    user.display_name, user.email, user.agency_id, user.role = display_name.strip(), email, agency.id, role
    ended = _end_sessions_of([user.id]) if changed & {"agency", "role"} else 0
    if changed:
        audit.record(
            "user.update",
            actor=actor,
            detail={"user": user.id, "fields": sorted(changed), "role": role, "sessions_ended": ended},
        )
    return user, changed


def reset_password(actor: User, user_id: int, password: str) -> User:
    """The administrator sets a new password for someone who lost hers: her sessions end, and she must choose her
    own at the next login. Her access tokens stay valid (deactivate the account if it may have been misused)."""
    user = get_user(user_id)
    if user.id == actor.id:
        raise InvalidInput("Ihr eigenes Passwort ändern Sie unter „Mein Konto“.")
    if problem := _password_error(password):
        raise InvalidInput(errors={"password": problem})
    user.password_hash, user.must_change_password = hash_password(password), True
    ended = _end_sessions_of([user.id])
    audit.record("user.password_reset", actor=actor, detail={"user": user.id, "sessions_ended": ended})
    return user


def locked_until(user: User):
    """Until when the login throttle refuses this account (too many failures in the window), or None."""
    cfg = current_app.config
    window = timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    failures = db.session.scalars(
        select(LoginAttempt.created_at)
        .where(
            LoginAttempt.username == user.username,
            LoginAttempt.success.is_(False),
            LoginAttempt.created_at >= utcnow() - window,
        )
        .order_by(LoginAttempt.created_at)
    ).all()
    limit = cfg["LOGIN_MAX_FAILURES_ACCOUNT"]
    # it can try again once so many of the failures have left the window that fewer than the limit remain
    return failures[len(failures) - limit] + window if len(failures) >= limit else None


def unlock(actor: User, user_id: int) -> int:
    """The administrator lifts the login throttle of an account (its holder called: she is herself and knows her
    password again). Its failed attempts are forgotten; returns how many. The limit per address stays."""
    user = get_user(user_id)
    forgotten = db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.username == user.username, LoginAttempt.success.is_(False))
    ).rowcount
    audit.record("user.unlock", actor=actor, detail={"user": user.id, "failures": forgotten})
    return forgotten


class WrongPassword(InvalidInput):
    # The failed try is recorded (it counts towards the login throttle) and kept although the change is refused.
    keeps_audit = True


def change_password(user: User, current: str, new: str, repeated: str, address: str, session_token: str) -> int:
    """The user replaces her password. The current one is asked first, and wrong answers count towards the same
    throttle as failed logins. Every other session of hers ends; returns how many did."""
    cfg = current_app.config
    if (
        _recent_failures(LoginAttempt.username, user.username) >= cfg["LOGIN_MAX_FAILURES_ACCOUNT"]
        or _recent_failures(LoginAttempt.address, address) >= cfg["LOGIN_MAX_FAILURES_ADDRESS"]
    ):
        audit.record("auth.throttled", actor=user, detail={"address": address})
        raise TooManyAttempts("Zu viele Fehlversuche. Bitte warten Sie 15 Minuten.")
    errors = {}
    if problem := _password_error(new):
        errors["new"] = problem
    elif new == current:
        errors["new"] = "Das neue Passwort muss sich vom bisherigen unterscheiden."
    elif new.strip().lower() == user.username:
        errors["new"] = "Der Benutzername taugt nicht als Passwort."
    elif new != repeated:
        errors["repeated"] = "Die Wiederholung stimmt nicht mit dem neuen Passwort überein."
    if not current:
        errors = {"current": "Bitte geben Sie Ihr bisheriges Passwort ein."} | errors
    if errors:
        raise InvalidInput(errors=errors)
    hasher = _hasher()[0]
    try:
        ok = hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        db.session.add(LoginAttempt(username=user.username, address=address, success=False))
        audit.record("auth.password_change_failed", actor=user, detail={"address": address})
        raise WrongPassword(errors={"current": "Das bisherige Passwort stimmt nicht."})
    user.password_hash, user.must_change_password = hasher.hash(new), False
    ended = db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.id != token_hash(session_token or ""))
    ).rowcount
    audit.record("auth.password_change", actor=user, detail={"sessions_ended": ended})
    return ended


def _end_sessions_of(user_ids) -> int:
    """End the sessions of these users (a list or a select of ids) at once; return how many."""
    return db.session.execute(delete(UserSession).where(UserSession.user_id.in_(user_ids))).rowcount


def set_user_active(actor: User, user_id: int, active: bool) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    user = get_user(user_id)
    if user.id == actor.id and not active:
        raise InvalidInput(
            "Ihr eigenes Konto können Sie nicht deaktivieren; das muss ein anderes Administrationskonto tun."
        )
    user.active = active
    if not active:
        _end_sessions_of([user.id])
    audit.record("user.activate" if active else "user.deactivate", actor=actor, detail={"user": user.id})
    return user


def set_agency_active(code: str, active: bool, actor: User | None = None) -> tuple[Agency, int]:
    """Activate or deactivate an agency (it left the network, say). Deactivation ends its users' sessions at once;
    its users can neither log in nor use their access tokens until it is active again. Its entries in cases,
    consents and minutes stay, as records must. Returns the agency and how many sessions were ended."""
    agency = db.session.scalar(select(Agency).where(Agency.code == (code or "").strip().upper()))
    if agency is None:
        raise InvalidInput(errors={"code": "Diese Stelle gibt es nicht."})
    if actor is not None and not active and actor.agency_id == agency.id:
        raise InvalidInput(
            "Ihre eigene Stelle können Sie nicht deaktivieren: Sie wären selbst ausgesperrt. Das muss die "
            "Administration einer anderen Stelle tun."
        )
    agency.active = active
    ended = 0 if active else _end_sessions_of(select(User.id).where(User.agency_id == agency.id))
    audit.record("agency.update", actor=actor, detail={"agency": agency.id, "active": active, "sessions_ended": ended})
    return agency, ended


# The administration's list: what it may be narrowed to (`stand`).
USER_STANDS = {
    "aktiv": "kann sich anmelden",
    "gesperrt": "deaktiviert oder Stelle deaktiviert",
    "ohne_email": "ohne E-Mail-Adresse",
}


def last_logins(users) -> dict[int, datetime]:
    """When each of these accounts last logged in (from the successful login attempts, which are kept: the
    account rows themselves are not written at a login, so that the live minutes' access check is not woken)."""
    by_name = {u.username: u.id for u in users}
    if not by_name:
        return {}
    rows = db.session.execute(
        select(LoginAttempt.username, func.max(LoginAttempt.created_at))
        .where(LoginAttempt.success.is_(True), LoginAttempt.username.in_(by_name))
        .group_by(LoginAttempt.username)
    ).all()
    return {by_name[name]: at for name, at in rows}


def list_users(agency: str = "", role: str = "", stand: str = "") -> list[User]:
    """Accounts by username, narrowed to an agency (code), a role and a stand (see USER_STANDS); an unknown value
    is refused, not taken as "all"."""
    errors = {}
    if agency and not db.session.scalar(select(Agency.id).where(Agency.code == agency.upper())):
        errors["stelle"] = "Diese Stelle gibt es nicht."
    if role and role not in ROLES:
        errors["rolle"] = "Diese Rolle gibt es nicht."
    if stand and stand not in USER_STANDS:
        errors["stand"] = "Diese Auswahl gibt es nicht."
    stmt = select(User).join(Agency, Agency.id == User.agency_id).order_by(User.username)
    if agency:
        stmt = stmt.where(Agency.code == agency.upper())
    if role:
        stmt = stmt.where(User.role == role)
    if stand == "aktiv":
        stmt = stmt.where(User.active.is_(True), Agency.active.is_(True))
    elif stand == "gesperrt":
        stmt = stmt.where(or_(User.active.is_(False), Agency.active.is_(False)))
    elif stand == "ohne_email":
        stmt = stmt.where(or_(User.email.is_(None), User.email == ""))
    if errors:
        raise InvalidInput(errors=errors)
    return db.session.scalars(stmt).all()


COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")


def create_agency(code: str, name: str, color: str = "#1f4e79", actor: User | None = None) -> Agency:
    """A new agency of the network (its code as the pages show it, its name, the colour of its people in the live
    minutes); every problem of the three at once."""
    code = (code or "").strip().upper()
    errors = {}
    if not code or len(code) > 16 or not code.isascii() or not code.isalnum():
        errors["code"] = "Kürzel: 1–16 Buchstaben oder Ziffern."
    elif db.session.scalar(select(Agency.id).where(Agency.code == code)):
        errors["code"] = "Diese Stelle gibt es schon."
    name = (name or "").strip()
    if len(name) > 200 or not name.isprintable():
        errors["name"] = "Der Name ist eine Zeile mit höchstens 200 Zeichen."
    if not COLOR_RE.fullmatch(color or ""):
        errors["color"] = "Die Farbe wird als #RRGGBB angegeben, etwa #1f4e79."
    if errors:
        raise InvalidInput(errors=errors)
    agency = Agency(code=code, name=name or code, color=color.lower())
    db.session.add(agency)
    db.session.flush()
    audit.record("agency.create", actor=actor, detail={"agency": agency.id})
    return agency


def agency_accounts() -> dict[int, int]:
    """How many accounts each agency has (for the administration's list of agencies)."""
    return dict(db.session.execute(select(User.agency_id, func.count()).group_by(User.agency_id)).all())


_AGENCIES = select(Agency).order_by(Agency.code)
_ACTIVE_AGENCIES = _AGENCIES.where(Agency.active.is_(True))


_AGENCY_CODES = select(Agency.id, Agency.code)
_USER_NAMES = select(User.id, User.display_name).where(User.id.in_(bindparam("ids", expanding=True)))


def list_agencies(active_only: bool = True) -> list[Agency]:
    return db.session.scalars(_ACTIVE_AGENCIES if active_only else _AGENCIES).all()


def agency_codes() -> dict[int, str]:
    """Every agency's code by id (for lists that show who wrote or answers for something)."""
    return dict(db.session.execute(_AGENCY_CODES).all())


def user_names(ids) -> dict[int, str]:
    """Display names of these users (None and 0 are skipped), in one query."""
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return dict(db.session.execute(_USER_NAMES, {"ids": ids}).all())
