"""Command line: reminders (run from cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from fallkonferenz.extensions import db

from . import service

agenda_cli = AppGroup("agenda", help="Konferenzen.")


@agenda_cli.command("send-reminders")
def send_reminders():
    """Queue reminders for conferences in the next 24 hours; safe to run repeatedly."""
    count = service.send_reminders()
    db.session.commit()
    click.echo(f"{count} Erinnerung(en) in den Postausgang gelegt.")
