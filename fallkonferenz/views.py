"""Dashboard, health check, audit page (data-protection officer), user administration, API tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text

from consent import service as consent_service
from consent.policy import may_manage_users, may_read_audit, viewer_of

from . import audit, mail
from .auth import service as auth_service
from .errors import InvalidInput, NotFound
from .extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
def dashboard():
    expiring = consent_service.expiring_consents(g.user)
    # Packages above the core (conferences, …) contribute panels through the app factory.
    panels = [panel(g.user) for panel in current_app.extensions.get("fk_dashboard_panels", ())]
    return render_template("dashboard.html", expiring=expiring, panels=panels)


def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


def _require(check) -> None:
    if not check(viewer_of(g.user)):
        raise NotFound()


@bp.get("/protokollierung")
def audit_log():
    """The data-protection officer's view: events (ids and metadata) and the chain check."""
    _require(may_read_audit)
    try:
        before = int(request.args.get("vor", "0")) or None
    except ValueError:
        before = None
    rows = audit.recent(before)
    findings = audit.verify() if request.args.get("pruefen") else None
    audit.record("audit.read", actor=g.user, detail={"verified": findings is not None})
    return render_template("audit/index.html", rows=rows, findings=findings)


@bp.route("/verwaltung/benutzer", methods=["GET", "POST"])
def users():
    _require(may_manage_users)
    errors = {}
    status = 200
    if request.method == "POST":
        try:
            auth_service.create_user(
                username=request.form.get("username", ""),
                display_name=request.form.get("display_name", ""),
                agency_code=request.form.get("agency", ""),
                role=request.form.get("role", ""),
                password=request.form.get("password", ""),
                email=request.form.get("email") or None,
                actor=g.user,
            )
            flash("Das Konto wurde angelegt.", "success")
            return redirect(url_for("main.users"))
        except InvalidInput as exc:
            errors, status = exc.errors, 422
    return (
        render_template(
            "admin/users.html", users=auth_service.list_users(), agencies=auth_service.list_agencies(), errors=errors
        ),
        status,
    )


@bp.post("/verwaltung/benutzer/<int:user_id>/aktiv")
def user_active(user_id: int):
    _require(may_manage_users)
    active = request.form.get("active") == "1"
    auth_service.set_user_active(g.user, user_id, active)
    flash("Das Konto wurde " + ("aktiviert." if active else "deaktiviert."), "success")
    return redirect(url_for("main.users"))


@bp.route("/verwaltung/postausgang", methods=["GET", "POST"])
def outbox():
    """The admin's view of outgoing mail; in development and tests it is the only mailbox."""
    _require(may_manage_users)
    if request.method == "POST":
        delivered, failed = mail.deliver_pending()
        flash(f"{delivered} zugestellt, {failed} fehlgeschlagen.", "success" if not failed else "warning")
        return redirect(url_for("main.outbox"))
    return render_template("admin/outbox.html", messages=mail.recent())


@bp.route("/zugangstoken", methods=["GET", "POST"])
def tokens():
    new_token = None
    errors = {}
    if request.method == "POST":
        try:
            new_token = auth_service.create_api_token(g.user, request.form.get("name", ""))
        except InvalidInput as exc:
            errors = exc.errors
    return render_template(
        "auth/tokens.html", tokens=auth_service.list_api_tokens(g.user), new_token=new_token, errors=errors
    ), (422 if errors else 200)


@bp.post("/zugangstoken/<int:token_id>/widerrufen")
def revoke_token(token_id: int):
    auth_service.revoke_api_token(g.user, token_id)
    flash("Das Token wurde widerrufen.", "success")
    return redirect(url_for("main.tokens"))


def register_health(app) -> None:
    app.add_url_rule("/health", "health", health)
