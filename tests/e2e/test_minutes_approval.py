"""The approval of the minutes in the browser: the moderator closes the October minutes, every participating
agency approves, the minutes become final, and the PDF downloads — with only what the reader's agency may see."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .helpers import HELD_MEETING, Server, check_a11y, click_to, login, visit

RECORDS = re.compile(r"/konferenzen/(\d+)/protokoll/ergebnisse#genehmigung$")
APPROVERS = ("jc.fallmanagement", "aa.beratung", "abh.sachbearbeitung", "ja.asd")


def _records_of_october(page: Page) -> str:
    visit(page, "/konferenzen")
    click_to(page, page.get_by_role("link", name=HELD_MEETING), re.compile(r"/konferenzen/\d+$"))
    path = page.url.split("://", 1)[1].split("/", 1)[1]
    records = f"/{path}/protokoll/ergebnisse"
    visit(page, records)
    return records


def _approve(page: Page, username: str) -> None:
    login(page, username)
    _records_of_october(page)
    page.get_by_label("Genehmigen").check()
    click_to(page, page.get_by_role("button", name="Entscheidung speichern"), RECORDS)
    expect(page.locator(".flash")).to_contain_text("Entscheidung wurde gespeichert")
    click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")


def test_closing_approving_and_downloading_the_final_minutes(page: Page, server: Server):
    login(page, "ki.koordination")
    _records_of_october(page)
    page.once("dialog", lambda dialog: dialog.accept())  # closing freezes the text: the page asks first
    click_to(page, page.get_by_role("button", name="Protokoll abschließen und zur Genehmigung geben"), RECORDS)
    expect(page.get_by_role("note")).to_contain_text("abgeschlossen")
    page.get_by_label("Genehmigen").check()
    click_to(page, page.get_by_role("button", name="Entscheidung speichern"), RECORDS)
    click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")

    for username in APPROVERS[:-1]:
        _approve(page, username)
        login(page, "ki.koordination")
        _records_of_october(page)
        expect(page.get_by_role("note")).not_to_contain_text("endgültig")
        click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")
    _approve(page, APPROVERS[-1])

    # The last approval makes the minutes final: no more editing, an addendum form instead, and the PDF.
    login(page, "jc.fallmanagement")
    records = _records_of_october(page)
    expect(page.get_by_role("note")).to_contain_text("endgültig")
    expect(page.get_by_role("button", name="Entscheidung speichern")).to_have_count(0)
    expect(page.get_by_role("button", name="Nachtrag speichern")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Als PDF herunterladen").click()
    download = info.value
    assert re.fullmatch(r"protokoll-\d{4}-\d\d-\d\d-fallkonferenz-oktober\.pdf", download.suggested_filename)
    body = Path(download.path()).read_bytes()
    assert body.startswith(b"%PDF-")
    assert len(body) > 1000
    check_a11y(page)
    # the minutes page shows the frozen text: no editor to type into (it would only be refused)
    visit(page, records.removesuffix("/ergebnisse"))
    expect(page.locator("#minutes-status")).to_contain_text("eingefroren")
    expect(page.locator(".minutes-editor")).to_have_count(0)
    expect(page.locator("pre.frozen").first).to_be_visible()
