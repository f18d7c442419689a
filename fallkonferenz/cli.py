"""Command line: users, agencies, key rotation, audit verification, demo data."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from . import audit, demo, mail
from .auth import service as auth_service
from .casecrypto import keyring, rewrap_batch
from .cases import retention
from .cases import service as case_service
from .errors import Conflict, InvalidInput
from .extensions import db
from .localtime import datum

users_cli = AppGroup("users", help="Benutzerkonten verwalten.")
agencies_cli = AppGroup("agencies", help="Stellen verwalten.")
keys_cli = AppGroup("keys", help="Schlüssel verwalten.")
audit_cli = AppGroup("audit", help="Protokollierung prüfen.")
demo_cli = AppGroup("demo", help="Demodaten.")
mail_cli = AppGroup("mail", help="E-Mail-Postausgang.")
cases_cli = AppGroup("cases", help="Fälle: Aufbewahrung und Löschung.")


@mail_cli.command("send")
def send_mail():
    """Deliver queued and failed e-mails that are due (run from cron)."""
    delivered, failed = mail.deliver_pending()
    db.session.commit()
    click.echo(f"{delivered} zugestellt, {failed} fehlgeschlagen (werden erneut versucht).")
    if failed:
        raise SystemExit(1)


def _fail(exc: InvalidInput) -> None:
    for field, msg in exc.errors.items():
        click.echo(f"{field}: {msg}", err=True)
    raise SystemExit(exc.message if not exc.errors else 2)


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--agency", required=True)
@click.option("--role", required=True, type=click.Choice(["case_worker", "moderator", "steering", "dpo", "admin"]))
@click.option("--email", default=None)
@click.password_option(prompt="Passwort (mind. 12 Zeichen)")
def create_user(username, display_name, agency, role, email, password):
    """Create a user account."""
    try:
        user = auth_service.create_user(
            username=username, display_name=display_name, agency_code=agency, role=role, password=password, email=email
        )
    except InvalidInput as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"Konto {user.username} angelegt.")


@agencies_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--color", default="#1f4e79")
def create_agency(code, name, color):
    """Add an agency (e.g. Sozialamt, JMD, Berufskolleg)."""
    try:
        agency = auth_service.create_agency(code, name, color)
    except InvalidInput as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"Stelle {agency.code} angelegt.")


@agencies_cli.command("deactivate")
@click.argument("code")
def deactivate_agency(code):
    """Deactivate an agency: its users' sessions end now, and they cannot log in until it is active again."""
    _set_agency_active(code, False)


@agencies_cli.command("activate")
@click.argument("code")
def activate_agency(code):
    """Make a deactivated agency active again."""
    _set_agency_active(code, True)


def _set_agency_active(code: str, active: bool) -> None:
    try:
        agency, ended = auth_service.set_agency_active(code, active)
    except InvalidInput as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    if active:
        click.echo(f"Stelle {agency.code} ist wieder aktiv.")
    else:
        click.echo(f"Stelle {agency.code} deaktiviert; {ended} Sitzung(en) beendet.")


@keys_cli.command("rotate")
@click.option("--batch", default=500, show_default=True)
@click.option("--retire-old/--keep-old", default=False, help="Drop old master keys afterwards.")
def rotate(batch, retire_old):
    """Re-wrap all case keys under a new master key, batch by batch, without downtime."""
    ring = keyring()
    version = ring.add_version()
    total = 0
    while True:
        done = rewrap_batch(version, batch)
        db.session.commit()  # per batch: readers never wait on one long transaction
        total += done
        if done == 0:
            break
    if retire_old:
        ring.drop_versions_except(version)
    audit.record("keys.rotate", detail={"version": version, "case_keys": total})
    db.session.commit()
    click.echo(f"Hauptschlüssel-Version {version}: {total} Fallschlüssel neu verpackt.")


@audit_cli.command("verify")
def verify():
    """Check the audit chain and the keyed hashes of closed minutes; exit 1 and name what was tampered with."""
    findings = audit.verify_all()
    if not findings:
        click.echo("Protokollierung unverändert: Kette vollständig, abgeschlossene Protokolle unverändert.")
        return
    for f in findings:
        click.echo(f"{f.label}: {f.problem}", err=True)
    raise SystemExit(1)


@cases_cli.command("erase-due")
@click.option("--dry-run", is_flag=True, help="Only list the cases that are due.")
def erase_due(dry_run):
    """Erase every case closed longer ago than the retention period (run daily from cron; running it twice erases
    nothing twice)."""
    due = [(case.id, case.number, datum(case.closed_on)) for case in retention.due_for_erasure()]
    db.session.rollback()
    for case_id, number, closed in due:
        if dry_run:
            click.echo(f"{number}: abgeschlossen am {closed}, zur Löschung fällig")
            continue
        # one case at a time, each checked again under a lock: one reopened meanwhile is kept
        erased = retention.erase_if_due(case_id, f"Aufbewahrungsfrist abgelaufen (abgeschlossen am {closed})")
        db.session.commit()
        click.echo(f"{number}: gelöscht (abgeschlossen am {closed})" if erased else f"{number}: nicht mehr fällig")
    if not due:
        click.echo("Keine Fälle zur Löschung fällig.")


@cases_cli.command("erase")
@click.argument("number")
@click.option("--reason", required=True, help="Why now, e.g. a request under Art. 17 GDPR; names no person.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase(number, reason, yes):
    """Erase one case now, closed or not: its data key is destroyed, nothing of it can be read again."""
    case_id = case_service.case_id_of(number)
    if case_id is None:
        raise SystemExit(f"Fall {number} nicht gefunden.")
    if not yes:
        click.confirm(f"Fall {number.strip().upper()} unwiderruflich löschen?", abort=True)
    try:
        case = retention.erase_case(case_id, reason)
    except InvalidInput as exc:
        _fail(exc)
    except Conflict as exc:
        raise SystemExit(exc.message) from None
    db.session.commit()
    click.echo(f"{case.number}: gelöscht.")


@demo_cli.command("seed")
def seed():
    """Seed the demo data when the database is empty."""
    if not demo.is_empty():
        click.echo("Datenbank enthält bereits Daten – Demodaten werden nicht angelegt.")
        return
    count = demo.seed()
    db.session.commit()
    click.echo(f"Demodaten angelegt: {count} Fälle.")


def register_cli(app: Flask) -> None:
    for group in (users_cli, agencies_cli, keys_cli, audit_cli, demo_cli, mail_cli, cases_cli):
        app.cli.add_command(group)
