"""Dashboard, health check, audit page (data-protection officer), user administration, API tokens."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import text

from consent import service as consent_service
from consent.policy import may_manage_users, may_read_audit, viewer_of

from . import audit, localtime, mail, web
from .auth import service as auth_service
from .cases import service as case_service
from .errors import InvalidInput, NotFound, db_id
from .extensions import db
from .forms import parse_date
from .vocab import CATEGORIES

bp = Blueprint("main", __name__)


@bp.get("/")
def dashboard():
    expiring = consent_service.expiring_consents(g.user)
    # Packages above the core (conferences, …) contribute panels through the app factory.
    # A panel that could not read its part of the address says so itself, and sets g.refused_input.
    panels = [panel(g.user) for panel in current_app.extensions.get("fk_dashboard_panels", ())]
    return render_template("dashboard.html", expiring=expiring, panels=panels), 400 if g.get("refused_input") else 200


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
    before = db_id(request.args.get("vor", ""))
    args = _audit_args()
    errors = {}
    try:
        found = audit.recent(before, f=_event_filter(args))
    except InvalidInput as exc:
        found, errors = [], exc.errors
    findings = None
    if request.args.get("pruefen"):
        findings = audit.verify_all()
        # The result is itself on record: the page says when the log was last checked, by whom, with what outcome.
        audit.record("audit.verify", actor=g.user, detail={"findings": len(findings)})
    audit.record("audit.read", actor=g.user, detail={"verified": findings is not None, "filtered": any(args.values())})
    filters = {k: v for k, v in args.items() if v}
    return (
        render_template(
            "audit/index.html",
            rows=found,
            before=before,
            last_check=audit.last_verification(),
            subjects=audit.subjects([row[0] for row in found]),
            agencies=auth_service.list_agencies(active_only=False),
            findings=findings,
            args=args,
            filters=filters,
            errors=errors,
            ACTIONS=audit.ACTIONS,
            ACTION_GROUPS=audit.ACTION_GROUPS,
        ),
        422 if errors else 200,
    )


AUDIT_EXPORT_MAX = 20_000
AUDIT_EXPORT_HEADER = [
    "Nr.",
    "Zeit",
    "Konto",
    "Stelle",
    "Aktion",
    "Aktionscode",
    "Fall",
    "Gegenstand",
    "Kategorien",
    "Zweck",
    "Einzelheiten",
]


@bp.get("/protokollierung/export.csv")
def audit_export():
    """The entries the filter finds, newest first, as a file for an inspection or a request for access (Art. 15
    DSGVO); the export is on record with its filter. More than the limit are refused: nothing is cut off unsaid."""
    _require(may_read_audit)
    args = _audit_args()
    try:
        rows = audit.recent(limit=AUDIT_EXPORT_MAX + 1, f=_event_filter(args))
    except InvalidInput as exc:
        raise InvalidInput(" ".join(exc.errors.values())) from exc
    if len(rows) > AUDIT_EXPORT_MAX:
        raise InvalidInput(
            f"Der Filter findet mehr als {AUDIT_EXPORT_MAX} Einträge; bitte grenzen Sie ihn ein (etwa nach Zeitraum)."
        )
    subjects = audit.subjects([row[0] for row in rows])
    body = web.csv_document(
        AUDIT_EXPORT_HEADER,
        (
            [
                ev.id,
                localtime.to_local(ev.created_at).strftime("%d.%m.%Y %H:%M:%S"),
                username or "",
                agency or "",
                audit.action_label(ev.action),
                ev.action,
                number or ev.case_id or "",
                subjects.get(ev.id, ""),
                ", ".join(CATEGORIES.get(c, c) for c in ev.categories.split(",") if c),
                ev.purpose,
                audit.detail_text(ev.detail),
            ]
            for ev, username, agency, number in rows
        ),
    )
    filters = {k: v for k, v in args.items() if v}
    audit.record("audit.export", actor=g.user, detail={"format": "csv", "listed": len(rows), **filters})
    return web.attachment(body, "text/csv", f"protokollierung-{localtime.today().isoformat()}.csv")


def _audit_args() -> dict:
    return {k: request.args.get(k, "").strip()[:80] for k in ("konto", "stelle", "aktion", "fall", "von", "bis")}


def _event_filter(args: dict) -> audit.EventFilter:
    """The audit page's filter from its query string: dates are local days (from the start of `von` to the end of
    `bis`); a case is given by its internal id or by its case number (an identifier, not content)."""
    errors, bounds = {}, {}
    for key, shift in (("von", 0), ("bis", 1)):
        try:
            day = parse_date(args[key])
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if day is not None:
            bounds[key] = localtime.to_utc(datetime.combine(day + timedelta(days=shift), time()))
    if "von" in bounds and "bis" in bounds and bounds["von"] >= bounds["bis"]:
        errors["bis"] = "„bis“ darf nicht vor „von“ liegen."
    case_id = None
    if args["fall"]:
        if args["fall"].isascii() and args["fall"].isdigit():
            case_id = db_id(args["fall"]) or -1  # digits no case id can have: no events
        else:
            case_id = case_service.case_id_of(args["fall"])
            if case_id is None:
                errors["fall"] = "Diese Fallnummer gibt es nicht."
    if errors:
        raise InvalidInput(errors=errors)
    return audit.EventFilter(
        username=args["konto"],
        agency=args["stelle"],
        action=args["aktion"],
        case_id=case_id,
        since=bounds.get("von"),
        until=bounds.get("bis"),
    )


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
                must_change_password=True,
            )
            flash(
                "Das Konto wurde angelegt. Bei der ersten Anmeldung wählt die Person ein eigenes Passwort.", "success"
            )
            return redirect(url_for("main.users"))
        except InvalidInput as exc:
            errors, status = exc.errors, 422
    chosen = {k: request.args.get(k, "").strip()[:40] for k in ("stelle", "rolle", "stand")}
    filter_errors = {}
    try:
        accounts = auth_service.list_users(chosen["stelle"], chosen["rolle"], chosen["stand"])
    except InvalidInput as exc:  # the filter's fields marked, and every account shown
        filter_errors, status = exc.errors, 400
        accounts = auth_service.list_users()
    return (
        render_template(
            "admin/users.html",
            users=accounts,
            last_logins=auth_service.last_logins(accounts),
            agencies=auth_service.list_agencies(),
            all_agencies=auth_service.list_agencies(active_only=False),
            chosen=chosen,
            filtered=any(chosen.values()),
            filter_errors=filter_errors,
            USER_STANDS=auth_service.USER_STANDS,
            errors=errors,
        ),
        status,
    )


def _user_page(user, errors=None, status=200):
    return render_template(
        "admin/user_edit.html",
        user=user,
        # her own agency is offered even when it is deactivated: saving an address must not move her out of it
        agencies=[a for a in auth_service.list_agencies(active_only=False) if a.active or a.id == user.agency_id],
        locked_until=auth_service.locked_until(user),
        api_tokens=auth_service.list_api_tokens(user),
        last_login=auth_service.last_logins([user]).get(user.id),
        errors=errors or {},
        # Packages above the core (the conferences a person moderates) contribute sections through the factory.
        panels=[panel(user) for panel in current_app.extensions.get("fk_account_panels", ())],
    ), status


@bp.route("/verwaltung/benutzer/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    _require(may_manage_users)
    user = auth_service.get_user(user_id)
    if request.method == "GET":
        return _user_page(user)
    try:
        with web.atomic():
            _, changed = auth_service.update_user(
                g.user,
                user.id,
                display_name=request.form.get("display_name", ""),
                email=request.form.get("email") or None,
                agency_code=request.form.get("agency", ""),
                role=request.form.get("role", ""),
            )
    except InvalidInput as exc:
        return _user_page(user, exc.errors or {"": exc.message}, exc.status)
    if not changed:
        flash("Keine Änderung – das Konto war schon so gespeichert.", "info")
    elif changed & {"agency", "role"}:
        flash("Das Konto wurde geändert. Die Person muss sich neu anmelden; ihre Anmeldungen sind beendet.", "success")
    else:
        flash("Das Konto wurde geändert.", "success")
    return redirect(url_for("main.user_edit", user_id=user.id))


@bp.post("/verwaltung/benutzer/<int:user_id>/passwort")
def user_password(user_id: int):
    _require(may_manage_users)
    user = auth_service.get_user(user_id)
    try:
        auth_service.reset_password(g.user, user.id, request.form.get("password", "")[: auth_service.MAX_PASSWORD + 1])
    except InvalidInput as exc:
        return _user_page(user, exc.errors or {"password": exc.message}, exc.status)
    flash(
        "Das neue Passwort gilt. Teilen Sie es der Person auf sicherem Weg mit; bei der nächsten Anmeldung wählt sie "
        "ein eigenes.",
        "success",
    )
    return redirect(url_for("main.user_edit", user_id=user.id))


@bp.post("/verwaltung/benutzer/<int:user_id>/token/<int:token_id>/widerrufen")
def user_token_revoke(user_id: int, token_id: int):
    """An account's API token, revoked by the administration (misuse suspected, a device lost)."""
    _require(may_manage_users)
    user = auth_service.get_user(user_id)
    name = auth_service.revoke_api_token(user, token_id, by=g.user)
    flash(f"Das Zugangstoken „{name}“ ist widerrufen und gilt ab sofort nicht mehr.", "success")
    return redirect(url_for("main.user_edit", user_id=user.id, _anchor="zugangstoken"))


@bp.post("/verwaltung/benutzer/<int:user_id>/entsperren")
def user_unlock(user_id: int):
    _require(may_manage_users)
    auth_service.unlock(g.user, user_id)
    flash("Die Anmeldesperre ist aufgehoben; das Konto kann sich wieder anmelden.", "success")
    return redirect(url_for("main.user_edit", user_id=user_id))


def _active_choice(what: str) -> bool:
    """The form's `active`: "1" activates, "0" deactivates; anything else is refused in German."""
    if request.form.get("active") not in ("0", "1"):
        raise InvalidInput(f"Ungültige Angabe: {what} wird aktiviert (1) oder deaktiviert (0).")
    return request.form.get("active") == "1"


@bp.post("/verwaltung/benutzer/<int:user_id>/aktiv")
def user_active(user_id: int):
    _require(may_manage_users)
    active = _active_choice("das Konto")
    user = auth_service.set_user_active(g.user, user_id, active)
    if active and not user.agency.active:
        flash(
            f"Das Konto wurde aktiviert; anmelden kann sich die Person erst, wenn die Stelle {user.agency.code} wieder "
            "aktiv ist.",
            "warning",
        )
    else:
        flash("Das Konto wurde " + ("aktiviert." if active else "deaktiviert."), "success")
    back = request.form.get("next", "")  # the list, or the account's own page
    return redirect(back if web.is_safe_next(back) else url_for("main.users"))


@bp.route("/verwaltung/stellen", methods=["GET", "POST"])
def agencies():
    """The agencies of the network: add one (a Sozialamt, a Jugendmigrationsdienst), see how many accounts each
    has. A refused new agency comes back with what was typed."""
    _require(may_manage_users)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            agency = auth_service.create_agency(
                request.form.get("code", ""),
                request.form.get("name", ""),
                request.form.get("color", "") or "#1f4e79",
                actor=g.user,
            )
        except InvalidInput as exc:
            errors, status = exc.errors, 422
        else:
            flash(f"Die Stelle {agency.code} ist angelegt. Legen Sie nun ihre Konten an.", "success")
            return redirect(url_for("main.agencies"))
    page = render_template(
        "admin/agencies.html",
        agencies=auth_service.list_agencies(active_only=False),
        accounts=auth_service.agency_accounts(),
        errors=errors,
    )
    return page, status


@bp.post("/verwaltung/stellen/<code>/aktiv")
def agency_active(code: str):
    _require(may_manage_users)
    active = _active_choice("die Stelle")
    agency, ended = auth_service.set_agency_active(code, active, actor=g.user)
    if active:
        flash(f"Die Stelle {agency.code} ist wieder aktiv; ihre Konten können sich wieder anmelden.", "success")
    else:
        flash(f"Die Stelle {agency.code} ist deaktiviert; {ended} Anmeldung(en) ihrer Konten beendet.", "success")
    return redirect(url_for("main.agencies"))


@bp.route("/verwaltung/postausgang", methods=["GET", "POST"])
def outbox():
    """The admin's view of outgoing mail; in development and tests it is the only mailbox."""
    _require(may_manage_users)
    if request.method == "POST":
        delivered, failed = mail.deliver_pending()
        if delivered or failed:
            flash(f"{delivered} zugestellt, {failed} fehlgeschlagen.", "success" if not failed else "warning")
        else:
            flash("Keine E-Mail war fällig: wartende Wiederholungen kommen zu ihrer Zeit dran.", "success")
        return redirect(url_for("main.outbox"))
    stand = request.args.get("stand", "")
    before = db_id(request.args.get("vor", ""))
    refused = stand not in ("", *mail.OUTBOX_STANDS)
    messages = mail.recent(before, "" if refused else stand)
    page = render_template(
        "admin/outbox.html",
        messages=messages,
        stand="" if refused else stand,
        refused=stand[:40] if refused else None,
        before=before,
        more=len(messages) == mail.OUTBOX_PAGE,
        STANDS=mail.OUTBOX_STANDS,
        gave_up=mail.gave_up,
    )
    return page, 400 if refused else 200


@bp.post("/verwaltung/postausgang/<int:message_id>/erneut")
def outbox_resend(message_id: int):
    _require(may_manage_users)
    msg = mail.resend(g.user, message_id)
    flash(f"Die E-Mail wird erneut an {msg.to_address} gesendet.", "success")
    return redirect(url_for("main.outbox", stand=request.form.get("stand") or None))


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
    name = auth_service.revoke_api_token(g.user, token_id)
    flash(f"Das Token „{name}“ wurde widerrufen; wer es benutzt, hat ab sofort keinen Zugriff mehr.", "success")
    return redirect(url_for("main.tokens"))


def register_health(app) -> None:
    app.add_url_rule("/health", "health", health)
