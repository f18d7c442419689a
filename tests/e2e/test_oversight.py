"""The data-protection officer's audit log with the chain check, and the account administration."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from fallkonferenz.demo import USERS

from .helpers import click_to, login


def test_dpo_reads_the_audit_log_and_checks_the_chain(page: Page):
    login(page, "dsb")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav.get_by_role("link", name="Fälle")).to_have_count(0)
    click_to(page, nav.get_by_role("link", name="Protokollierung"), "/protokollierung")
    expect(page.get_by_role("heading", level=1)).to_have_text("Protokollierung")
    log = page.get_by_role("table", name="Protokolleinträge, neueste zuerst")
    expect(log.locator("tbody tr").first).to_contain_text("dsb")

    click_to(page, page.get_by_role("button", name="Kette und Protokolle jetzt prüfen"), "/protokollierung?pruefen=1")
    expect(page.get_by_role("status")).to_contain_text("Geprüft: Die Kette ist vollständig und unverändert")
    expect(page.get_by_role("alert")).to_have_count(0)


def test_admin_manages_accounts(page: Page):
    login(page, "admin")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav.get_by_role("link", name="Fälle")).to_have_count(0)
    click_to(page, nav.get_by_role("link", name="Benutzer"), "/verwaltung/benutzer")
    expect(page.get_by_role("heading", level=1)).to_have_text("Benutzerkonten")
    accounts = page.get_by_role("table", name="Alle Konten")
    for username, display_name, _agency, _role in USERS:
        expect(accounts.get_by_role("row", name=re.compile(f"^{re.escape(username)} "))).to_contain_text(display_name)
    expect(accounts.get_by_role("row", name=re.compile("^jc.fallmanagement "))).to_contain_text("aktiv")

    page.get_by_label("Benutzername").fill("ja.neu")
    page.get_by_label("Name", exact=True).fill("Jana Neumann (ASD Jugendamt)")
    new_account = page.locator("form", has=page.get_by_role("button", name="Konto anlegen"))
    new_account.get_by_label("Stelle").select_option("JA")
    new_account.get_by_label("Rolle").select_option(label="Fallbearbeitung")
    page.get_by_label(re.compile(r"^Erstpasswort \(mind\. 12 Zeichen")).fill("ein-sicheres-erstpasswort")
    click_to(page, page.get_by_role("button", name="Konto anlegen"), "/verwaltung/benutzer")
    expect(page.get_by_role("status")).to_have_text(
        "Das Konto wurde angelegt. Bei der ersten Anmeldung wählt die Person ein eigenes Passwort."
    )
    expect(accounts.get_by_role("row", name=re.compile("^ja.neu "))).to_contain_text("Jana Neumann")
