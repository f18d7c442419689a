"""Request plumbing: protect-by-default authentication, CSRF, security headers, German error pages."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import date
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Response, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import IntegerConverter

from . import mail
from .auth import service as auth_service
from .errors import DB_INT_MAX, DomainError
from .extensions import csrf, db
from .localtime import datum

# The only views reachable without login; a test fails on any other unprotected rule.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health", "api.openapi", "agenda.feed"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What an account whose password an administrator set may open before it has chosen its own.
OWN_PASSWORD_ENDPOINTS = frozenset({"auth.account", "auth.logout"})
MUST_CHANGE_PASSWORD = "Bitte wählen Sie zuerst ein eigenes Passwort; das bisherige hat die Verwaltung vergeben."  # noqa: S105 (a message)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

HTTP_MESSAGES = {
    400: "Die Anfrage ist ungültig.",
    401: "Bitte melden Sie sich an.",
    403: "Dafür fehlt Ihnen die Berechtigung.",
    404: "Die Seite wurde nicht gefunden.",
    405: "Diese Aktion ist hier nicht möglich.",
    409: "Die Daten wurden inzwischen geändert.",
    413: "Die Datei oder Anfrage ist zu groß (höchstens 10 MB).",
    415: "Dieses Format wird nicht unterstützt.",
    422: "Bitte prüfen Sie Ihre Angaben.",
    429: "Zu viele Anfragen. Bitte warten Sie einen Moment.",
    500: "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut.",
}


def wants_json() -> bool:
    """Machine clients (the API and the OParl view), and a page's own script that asks for JSON alone, get JSON
    answers and errors, and 401, never a login redirect."""
    if request.path.startswith(("/api/", "/oparl/")):
        return True
    accepted = request.accept_mimetypes
    return accepted.accept_json and not accepted.accept_html


def is_safe_next(target: str | None) -> bool:
    """An address on this site to go back to: a path, never another host (browsers read "/\\host" as "//host")."""
    if not target or "\\" in target or any(c <= " " or c == "\x7f" for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")


def public_url(endpoint: str, **values) -> str:
    """An address to hand out (a calendar feed to subscribe to, an OParl id), under the configured `BASE_URL`: the
    address users know, which the request may not show behind a proxy (TLS ended there, an inner host name)."""
    path = url_for(endpoint, **values)[len(request.script_root) :]
    return current_app.config["BASE_URL"].rstrip("/") + path


def attachment(body, mimetype: str, filename: str) -> Response:
    """A download: never rendered inline, and sandboxed should a browser try anyway."""
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Content-Security-Policy": "sandbox"},
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell German Excel shows as text: dates as TT.MM.JJJJ, and no formula from a leading = + - @ tab CR."""
    if value is None:
        return ""
    if isinstance(value, date):  # a datetime too: in local time
        value = datum(value)
    text = str(value)
    if text.lstrip().startswith(FORMULA_STARTS) or text.startswith(FORMULA_STARTS):  # " =1+1" too (any blank)
        return "'" + text
    return text


def csv_document(header: list[str], rows) -> str:
    """UTF-8 with BOM and semicolons, as German Excel opens it with a double click."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return "\ufeff" + out.getvalue()


def _undecodable_form() -> bool:
    """A form body whose percent escapes are no UTF-8: no browser sends one, and the form parser would keep the
    escapes as literal text ("%ED%A0%80"), to be stored as if typed. Read before the parser, which does not keep
    the raw body."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return False
    try:
        unquote_to_bytes(request.get_data(cache=True)).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _return_to() -> str | None:
    """The page to come back to after the login or the change of a given password: this GET's address, or nothing
    for the dashboard, where both lead anyway."""
    if request.method != "GET":
        return None
    target = request.full_path if request.query_string else request.path
    return None if target == "/" else target


def authenticate_request():
    """Load the user from a Bearer token or the server-side session; refuse unlisted anonymous access."""
    g.user, g.via_token = None, False
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":  # the scheme is case-insensitive (RFC 9110)
        g.user, g.via_token = auth_service.user_for_token(credentials.strip()), True
    else:
        g.user = auth_service.user_for_session(session.get("sid"))
    public = request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None
    if g.user is None and not public:
        return _login_required()  # before the CSRF check: a caller without a login is told so, not "form expired"
    if request.method not in SAFE_METHODS and _undecodable_form():
        return error_response(422, "Die Eingabe enthält ungültig kodierte Zeichen (kein UTF-8).")
    if not g.via_token and request.method not in SAFE_METHODS and request.endpoint is not None:
        csrf.protect()  # (no endpoint: no view runs, and the answer is the 404 or 405 of the address)
    if request.method not in SAFE_METHODS and any("\x00" in v for v in request.form.values()):
        # No form field takes a NUL byte (no keyboard types one, PostgreSQL stores none)
        return error_response(422, "Die Eingabe enthält ein unzulässiges Steuerzeichen (Nullbyte).")
    if public:
        return None
    if g.user.must_change_password and not g.via_token and request.endpoint not in OWN_PASSWORD_ENDPOINTS:
        if wants_json():
            return jsonify(error=MUST_CHANGE_PASSWORD), 403
        return redirect(url_for("auth.account", next=_return_to()))  # which says why
    return None


def _login_required():
    """The answer to a request without a valid login or token."""
    if g.via_token or request.path.startswith(("/api/", "/oparl/")):
        return jsonify(error="Bitte melden Sie sich an oder senden Sie ein gültiges Token."), 401
    if wants_json():  # a page's script, whose session has ended meanwhile
        return jsonify(error="Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich in einem neuen Tab an."), 401
    return redirect(url_for("auth.login", next=_return_to()))


def security_headers(response):
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        h.setdefault("Cache-Control", "no-store")
    return response


def after_commit(hook) -> None:
    """Run `hook()` once this request's transaction has committed; never when it is rolled back.

    For news about what the request stored (live events to the minutes' rooms): sent before the commit, it
    could announce something that then fails to be stored.
    """
    g.setdefault("after_commit", []).append(hook)


@contextmanager
def atomic():
    """A savepoint: the block's changes are all or nothing, and so are the after-commit hooks it registered."""
    mark = len(g.get("after_commit", ()))
    try:
        with db.session.begin_nested():
            yield
    except Exception:
        del g.get("after_commit", [])[mark:]
        raise


def run_after_commit() -> None:
    """Run the hooks registered with `after_commit`, once the transaction has committed (a request's boundary, or
    a socket event's)."""
    for hook in g.pop("after_commit", None) or ():
        try:
            hook()
        except Exception:  # stored already: a failed notice must not turn the answer into an error
            current_app.logger.exception("after-commit hook failed")


def finish_request(response):
    """Commit once at the boundary, before the answer leaves (error paths rolled back already)."""
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("commit failed")
        response = error_response(
            503, "Die Datenbank ist gerade nicht erreichbar. Nichts wurde gespeichert; bitte erneut versuchen."
        )
    else:
        run_after_commit()
        if request.method not in SAFE_METHODS:
            for hook in current_app.extensions.get("fk_after_write", ()):
                hook()
        response = mail.deliver_after(current_app._get_current_object(), response)
    return security_headers(response)


def error_response(status: int, message: str, errors: dict | None = None, *, keep_audit: bool = False):
    if not keep_audit:  # else only audit records were written, and the request's commit keeps them
        db.session.rollback()
        g.pop("after_commit", None)  # nothing of this request is stored, so nothing is announced
    if wants_json():
        return jsonify(error=message, errors=errors or {}), status
    return render_template("errors/error.html", status=status, message=message, errors=errors or {}), status


class SessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, read once per WSGI environ.

    An environ is one HTTP request, except for a Socket.IO connection: each of its events runs in a request context
    over the environ of the request that opened it, and Flask opens the session for each. Checking the cookie's
    signature again for every keystroke of the live minutes was an eighth of an update's work; the events read the
    session as it was at connect time (they never write it, and a logout closes the sockets).
    """

    KEY = "fallkonferenz.session"

    def open_session(self, app, request):
        opened = request.environ.get(self.KEY)
        if opened is None:
            opened = request.environ[self.KEY] = super().open_session(app, request)
        return opened


class IdConverter(IntegerConverter):
    """`<int:…>` in URLs: ASCII digits only (`\\d` would match "٣" too), no larger than the database's integers,
    so an absurd id is a 404, not an overflow."""

    regex = r"[0-9]+"

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def page_above(path: str) -> str | None:
    """The nearest address above `path` that is a page ("/konferenzen/5/top" → "/konferenzen/5"), or None."""
    adapter = current_app.url_map.bind("localhost")
    parts = path.rstrip("/").split("/")
    for end in range(len(parts) - 1, 0, -1):
        candidate = "/".join(parts[:end]) or "/"
        if not candidate.isprintable():  # a line break can be in a path, never in a redirect's header
            continue
        try:
            adapter.match(candidate, method="GET")
        except HTTPException:  # no page there (or only with a slash added: the next one up will do)
            continue
        return candidate
    return None


def register(app) -> None:
    app.session_interface = SessionInterface()
    app.before_request(authenticate_request)
    app.after_request(finish_request)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return error_response(exc.status, exc.message, exc.errors, keep_audit=exc.keeps_audit)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_response(
            400, "Das Formular ist abgelaufen oder ungültig (Sicherheitstoken). Bitte laden Sie die Seite neu."
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc, MethodNotAllowed) and request.method in ("GET", "HEAD") and g.get("user") is not None:
            # A form's address opened as a page: reloading a refused form's answer, or a bookmark of it.
            page = page_above(request.path)
            if page is not None and not request.path.startswith(("/api/", "/oparl/")):
                flash("Diese Adresse nimmt nur abgeschickte Formulare an; hier ist die Seite dazu.", "warning")
                return redirect(page)
        code = exc.code or 500
        return error_response(code, HTTP_MESSAGES.get(code, exc.description or "Fehler."))

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(exc):
        """A number or date beyond what the database or the calendar holds, from any field of any request."""
        app.logger.warning("value out of range: %s", exc)
        return error_response(
            422, "Eine Zahl oder ein Datum liegt außerhalb des möglichen Bereichs. Bitte prüfen Sie Ihre Eingabe."
        )

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc):
        app.logger.exception("database error")
        return error_response(503, "Die Datenbank ist gerade nicht erreichbar. Bitte versuchen Sie es gleich erneut.")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return error_response(500, HTTP_MESSAGES[500])
