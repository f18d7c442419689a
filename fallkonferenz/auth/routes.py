"""Login and logout views."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for

from .. import web  # the module, not the name: web imports this package while it starts
from ..errors import InvalidInput, TooManyAttempts
from . import bp, service


@bp.route("/anmelden", methods=["GET", "POST"])
def login():
    if g.user is not None and request.method == "GET":
        return redirect(url_for("main.dashboard"))
    error, status = None, 200
    if request.method == "POST":
        username = request.form.get("username", "")[:200]
        password = request.form.get("password", "")[: service.MAX_PASSWORD]
        try:
            user = service.authenticate(username, password, request.remote_addr or "-")
        except service.InvalidCredentials as exc:
            error, status = exc.message, 401
        except TooManyAttempts as exc:
            error, status = exc.message, 429
        else:
            # A fresh session id at login: the old cookie content is dropped entirely.
            session.clear()
            session["sid"] = service.start_session(user)
            return redirect(_next_or_dashboard())
    return render_template("auth/login.html", error=error), status


def _next_or_dashboard() -> str:
    """Where the user wanted to go before the login or the change of a password given to her, if it is ours."""
    target = request.args.get("next")
    return target if web.is_safe_next(target) else url_for("main.dashboard")


@bp.post("/abmelden")
def logout():
    service.end_session(session.get("sid"), g.user)
    session.clear()
    flash("Sie wurden abgemeldet.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/konto", methods=["GET", "POST"])
def account():
    """The user's own account: what it says about her, and her password."""
    errors, status = {}, 200
    if request.method == "POST":
        try:
            ended = service.change_password(
                g.user,
                request.form.get("current", "")[: service.MAX_PASSWORD + 1],
                request.form.get("new", "")[: service.MAX_PASSWORD + 1],
                request.form.get("repeated", "")[: service.MAX_PASSWORD + 1],
                request.remote_addr or "-",
                session.get("sid"),
            )
        except TooManyAttempts as exc:
            errors, status = {"current": exc.message}, exc.status
        except InvalidInput as exc:
            errors, status = exc.errors, exc.status
        else:
            others = {0: "", 1: " Ihre Anmeldung auf einem anderen Gerät wurde beendet."}.get(
                ended, f" Ihre {ended} Anmeldungen auf anderen Geräten wurden beendet."
            )
            flash("Ihr Passwort wurde geändert." + others, "success")
            return redirect(_next_or_dashboard())
    return render_template("auth/account.html", errors=errors), status
