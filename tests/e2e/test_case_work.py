"""Case work of the lead agency (KI): case list, case page, notes, the consent form with its matrix, revocation."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from .helpers import Server, check_a11y, click_to, login


def open_case_from_list(page: Page, number: str) -> None:
    click_to(page, page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Fälle"), "/faelle/")
    click_to(page, page.get_by_role("link", name=number, exact=True), f"/faelle/{number}")


def test_case_list_and_case_page(page: Page, server: Server):
    login(page, "ki.koordination")
    number = server.case("Amiri")
    click_to(page, page.get_by_role("link", name="Zur Fallübersicht"), "/faelle/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fälle")
    table = page.get_by_role("table", name="Fälle, die Ihre Stelle sehen darf")
    expect(table.get_by_role("row").filter(has_text=number)).to_contain_text("Sohrab Amiri")

    page.get_by_label("Fallnummer oder Name").fill("Amiri")
    # the name stays out of the address (and so out of the history): it travels sealed to this login
    click_to(page, page.get_by_role("button", name="Suchen"), re.compile(r"/faelle/\?suche=[A-Za-z0-9_-]{40,}$"))
    assert "Amiri" not in page.url
    expect(page.get_by_label("Fallnummer oder Name")).to_have_value("Amiri")
    expect(table.locator("tbody tr")).to_have_count(1)

    click_to(page, table.get_by_role("link", name=number), f"/faelle/{number}")
    expect(page).to_have_title(f"Fall {number} – Fallkonferenz")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Fall {number} – Sohrab Amiri")
    expect(page.get_by_text("Keine Einwilligung für:")).to_have_count(0)
    for region in ("Stammdaten", "Aufenthalt", "Ziele des Integrationsplans", "Vermerke"):
        expect(page.get_by_role("region", name=region, exact=True)).to_be_visible()
    facts = page.get_by_role("region", name="Stammdaten")
    expect(facts).to_contain_text("Sohrab Amiri")
    expect(page.get_by_role("region", name="Aufenthalt")).not_to_contain_text("Ausgeblendet")
    notes = page.get_by_role("region", name="Vermerke").get_by_role("article")
    for agency in ("KI", "AA", "ABH"):  # the other agencies' notes, shared by the consent
        expect(notes.filter(has=page.locator(f'.agency-badge[data-agency="{agency}"]')).first).to_be_visible()
    subnav = page.get_by_role("navigation", name="Fallbereiche")
    expect(subnav.get_by_role("link")).to_have_text(
        ["Einwilligungen", "Konferenzen", "Vermerk schreiben", "Stammdaten bearbeiten", "Zugriffsbericht"]
    )
    subnav.get_by_role("link", name="Vermerk schreiben").click()  # to the form, above the notes
    expect(page.get_by_label("Kategorie")).to_be_in_viewport()

    click_to(page, subnav.get_by_role("link", name="Zugriffsbericht"), f"/faelle/{number}/zugriffe")
    expect(page.get_by_role("table", name="Zugriffe auf den Fall")).to_contain_text("Katrin Imhoff")


def test_add_a_note(page: Page, server: Server):
    number = server.case("Amiri")
    login(page, "ki.koordination")
    open_case_from_list(page, number)
    form = page.locator("form", has=page.get_by_role("button", name="Vermerk speichern"))

    # Sent empty: the error summary takes the focus and the field says what is wrong.
    click_to(page, form.get_by_role("button", name="Vermerk speichern"), f"/faelle/{number}/vermerke")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("Vermerk", exact=True)).to_have_attribute("aria-invalid", "true")

    text = "Praktikumsplatz in der Kfz-Werkstatt zugesagt; Beginn nach den Sommerferien."
    page.get_by_label("Datenkategorie").select_option(label="Bildung/Arbeit")
    page.get_by_label("Vermerk", exact=True).fill(text)
    click_to(page, form.get_by_role("button", name="Vermerk speichern"), f"/faelle/{number}#vermerke")
    expect(page.get_by_role("status")).to_have_text("Der Vermerk wurde gespeichert.")
    expect(page.get_by_role("status")).to_be_in_viewport()  # beside the notes the page went back to
    note = page.get_by_role("region", name="Vermerke").get_by_role("article").filter(has_text=text)
    expect(note).to_have_count(1)
    expect(note).to_contain_text("KI")
    expect(note).to_contain_text("Bildung/Arbeit")
    expect(note).to_contain_text("Katrin Imhoff")


def test_consent_matrix_and_revocation(page: Page, server: Server):
    number = server.case("Yıldız")  # no consent yet: only KI, the lead agency, sees the case
    login(page, "ki.koordination")
    open_case_from_list(page, number)
    click_to(page, page.get_by_role("link", name="Einwilligungen"), f"/faelle/{number}/einwilligungen")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Einwilligungen für Fall {number}")
    expect(page.get_by_text("Für diesen Fall liegt keine Einwilligung vor.")).to_be_visible()

    matrix = page.get_by_role("group", name="Freigaben: welche Stelle darf welche Datenkategorie sehen?")
    expect(matrix.get_by_role("checkbox")).to_have_count(5 * 6)  # agencies × data categories
    today = date.today()
    page.get_by_label("Erteilt durch").select_option(label="Klient/in selbst")
    page.get_by_label("Unterschrieben am").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Gültig ab").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Gültig bis").fill((today + timedelta(days=365)).isoformat())
    matrix.get_by_role("checkbox", name="AA: Stammdaten").check()
    matrix.get_by_role("checkbox", name="AA: Bildung/Arbeit").check()
    page.get_by_label("Ich habe die unterschriebene Einwilligung geprüft").check()
    click_to(page, page.get_by_role("button", name="Einwilligung speichern"), f"/faelle/{number}/einwilligungen")
    expect(page.get_by_role("status")).to_have_text("Die Einwilligung wurde gespeichert.")
    version = page.get_by_role("article").filter(has=page.get_by_role("heading", name=re.compile("Version 1")))
    expect(version.get_by_role("heading")).to_have_text(re.compile(r"Version 1 –\s+gültig"))
    grants = version.get_by_role("table", name="Freigaben (Stelle × Datenkategorie)")
    expect(grants.get_by_role("row")).to_have_count(2)  # header and AA
    expect(grants.get_by_role("row", name=re.compile("^AA")).get_by_role("cell")).to_have_text(
        re.compile(r"^(Stammdaten, Bildung/Arbeit|Bildung/Arbeit, Stammdaten)$")
    )

    version.get_by_label("Grund des Widerrufs").fill("Widerruf im Beratungsgespräch.")
    page.once("dialog", lambda dialog: dialog.accept())
    click_to(page, version.get_by_role("button", name="Sofort widerrufen"), f"/faelle/{number}/einwilligungen")
    expect(page.get_by_role("status")).to_have_text("Die Einwilligung wurde widerrufen. Der Widerruf gilt ab sofort.")
    expect(version.get_by_role("heading")).to_have_text(re.compile(r"Version 1 –\s+widerrufen"))
    expect(version).to_contain_text("Widerruf im Beratungsgespräch.")
    check_a11y(page)


def test_a_very_long_word_wraps_instead_of_widening_the_case_page(page: Page, server: Server):
    number = server.case("Amiri")
    login(page, "ki.koordination")
    open_case_from_list(page, number)
    page.get_by_text("Ziel hinzufügen").click()
    page.get_by_label("Ziel", exact=True).fill("Sprachkurs" + "x" * 480)
    click_to(page, page.get_by_role("button", name="Ziel speichern"), f"/faelle/{number}#ziele")
    expect(page.get_by_role("status")).to_be_visible()
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # nothing to scroll sideways at 1366 px


def test_closing_a_case_asks_first_shows_the_end_of_retention_and_can_be_undone(page: Page, server: Server):
    number = server.case("Amiri")
    login(page, "ki.koordination")
    open_case_from_list(page, number)
    close = page.get_by_role("button", name="Fall abschließen")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    close.click()
    expect(close).to_be_visible()  # dismissed: nothing was sent
    assert asked and "Aufbewahrungsfrist" in asked[0] and number in asked[0]

    page.once("dialog", lambda dialog: dialog.accept())
    click_to(page, close, f"/faelle/{number}")
    expect(page.get_by_role("status")).to_contain_text("Der Fall ist abgeschlossen. Er wird am")
    notice = page.locator("#abschluss")
    expect(notice).to_contain_text("Abgeschlossen am")
    expect(notice).to_contain_text("endet die Aufbewahrungsfrist")
    click_to(page, page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Fälle"), "/faelle/")
    table = page.get_by_role("table", name="Fälle, die Ihre Stelle sehen darf")
    expect(table.get_by_role("row").filter(has_text=number)).to_have_count(0)  # the everyday list: open cases
    expect(page.get_by_label("Stand")).to_have_value("offen")
    click_to(page, page.get_by_role("link", name="Auch abgeschlossene Fälle anzeigen"), re.compile(r"stand=alle$"))
    row = table.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("abgeschlossen am")
    click_to(page, row.get_by_role("link", name=number, exact=True), f"/faelle/{number}")
    click_to(page, page.get_by_role("button", name="Fall wieder öffnen"), f"/faelle/{number}")
    expect(page.get_by_role("button", name="Fall abschließen")).to_be_visible()
    expect(page.locator("#abschluss")).not_to_contain_text("Abgeschlossen am")
