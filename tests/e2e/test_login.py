"""Logging in and out, the German login error, and the keyboard path past the header."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .helpers import check_a11y, click_to, login, visit


def test_login_dashboard_and_logout(page: Page):
    visit(page, "/anmelden")
    expect(page).to_have_title("Anmelden – Fallkonferenz")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    expect(page.get_by_label("Benutzername")).to_be_focused()

    login(page, "ki.koordination")
    expect(page.get_by_role("heading", level=1)).to_have_text("Guten Tag, Katrin Imhoff")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav.get_by_role("link", name="Übersicht")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="Fälle")).to_be_visible()
    expect(page.get_by_role("heading", name="Einwilligungen, die in den nächsten 30 Tagen ablaufen")).to_be_visible()

    click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")
    expect(page.get_by_role("status")).to_have_text("Sie wurden abgemeldet.")
    expect(nav).to_have_count(0)
    # The session is gone: a protected page leads back to the login form.
    visit(page, "/faelle/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")


def test_wrong_password_shows_german_error(page: Page):
    visit(page, "/anmelden")
    page.get_by_label("Benutzername").fill("jc.fallmanagement")
    page.get_by_label("Passwort").fill("falsches-passwort-123")
    click_to(page, page.get_by_role("button", name="Anmelden"), "/anmelden")
    expect(page.get_by_role("alert")).to_have_text("Benutzername oder Passwort ist falsch.")
    # The user name stays (no need to type it again), the password does not; the cursor waits in the password.
    expect(page.get_by_label("Benutzername")).to_have_value("jc.fallmanagement")
    expect(page.get_by_label("Passwort")).to_have_value("")
    expect(page.get_by_label("Passwort")).to_be_focused()
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_have_count(0)


def test_login_returns_to_the_page_asked_for(page: Page):
    visit(page, "/faelle/")
    expect(page).to_have_url(re.compile(r"/anmelden\?next=/faelle/"))
    page.get_by_label("Benutzername").fill("aa.beratung")
    page.get_by_label("Passwort").fill("demo-fallkonferenz")
    click_to(page, page.get_by_role("button", name="Anmelden"), re.compile(r"/faelle/\??$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Fälle")


def test_skip_link_is_first_and_moves_focus_to_main(page: Page):
    login(page, "ki.koordination")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    check_a11y(page)  # the skip link is on screen now, so its contrast counts
    page.keyboard.press("Enter")
    expect(page.locator("main#inhalt")).to_be_focused()
    # The next Tab goes on from the start of the main content, not from the top of the page.
    page.keyboard.press("Tab")
    expect(page.get_by_role("main").get_by_role("link").first).to_be_focused()


def test_the_main_navigation_wraps_on_a_phone_screen(page: Page):
    """On a 375 px screen the main navigation wraps instead of cutting off its last links."""
    login(page, "ki.koordination")
    page.set_viewport_size({"width": 375, "height": 740})
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    for name in ("Übersicht", "Fälle", "Lenkungsgruppe"):
        box = nav.get_by_role("link", name=name).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (name, box)
    page.set_viewport_size({"width": 1366, "height": 768})
    check_a11y(page)


# Pages whose table is wider than a phone screen, with the table's caption (which also names its scrolling region).
WIDE_TABLES = {"/faelle/": "Fälle, die Ihre Stelle sehen darf", "/lenkungsgruppe/themen": "Einträge im Themenspeicher"}


def test_wide_tables_scroll_within_themselves_on_a_phone_screen(page: Page):
    """On a 375 px screen the case list, the conference list and the backlog do not widen the page: their tables
    scroll sideways by themselves, in a region reached with Tab and scrolled with the arrow keys, and the rest of
    the page stays in view."""
    login(page, "ki.koordination")
    page.set_viewport_size({"width": 375, "height": 740})
    for path in ("/faelle/", "/konferenzen", "/lenkungsgruppe/themen"):
        visit(page, path)  # checked with axe at this width too
        expect(page.get_by_role("table").first).to_be_visible()  # still a table to assistive technology
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        if path not in WIDE_TABLES:
            continue
        region = page.get_by_role("region", name=WIDE_TABLES[path], exact=True)
        expect(region.get_by_role("table", name=WIDE_TABLES[path], exact=True)).to_be_visible()
        assert region.evaluate("e => e.scrollWidth > e.clientWidth"), f"{path}: the table fits, nothing to scroll"
        # Tab from the control before it lands on the region, which shows the focus ring and scrolls by keyboard.
        region.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        expect(region).to_be_focused()
        expect(region).to_have_css("outline-style", "solid")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("e => e.scrollLeft > 0", arg=region.element_handle())

    # The data-protection officer's filters (an agency's full name in a select) fit the screen as well.
    click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")
    login(page, "dsb")
    visit(page, "/protokollierung")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_new_account_chooses_its_own_password_at_the_first_login(page: Page):
    """The administrator creates an account with an initial password; its holder is led to "Mein Konto" until she
    has chosen her own, and then works as usual."""
    login(page, "admin")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    click_to(page, nav.get_by_role("link", name="Benutzer"), "/verwaltung/benutzer")
    page.get_by_label("Benutzername").fill("ja.erstanmeldung")
    page.get_by_label("Name", exact=True).fill("Jana Neumann")
    new_account = page.locator("form", has=page.get_by_role("button", name="Konto anlegen"))
    new_account.get_by_label("Stelle").select_option("JA")
    page.get_by_label("Erstpasswort").fill("erstpasswort-2026")
    click_to(page, page.get_by_role("button", name="Konto anlegen"), "/verwaltung/benutzer")
    click_to(
        page, page.get_by_role("link", name="ja.erstanmeldung", exact=True), re.compile(r"/verwaltung/benutzer/\d+$")
    )
    expect(page.get_by_text("wählt bei der nächsten Anmeldung ein eigenes Passwort")).to_be_visible()
    click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")

    page.get_by_label("Benutzername").fill("ja.erstanmeldung")
    page.get_by_label("Passwort").fill("erstpasswort-2026")
    click_to(page, page.get_by_role("button", name="Anmelden"), "/konto")
    expect(page.get_by_text("Bitte wählen Sie jetzt ein eigenes")).to_be_visible()
    expect(page.get_by_role("navigation", name="Hauptnavigation")).to_have_count(0)
    page.get_by_label("Bisheriges Passwort").fill("erstpasswort-2026")
    page.get_by_label("Neues Passwort", exact=True).fill("mein eigener langer satz")
    page.get_by_label("Neues Passwort wiederholen").fill("mein eigener langer satz!")
    click_to(page, page.get_by_role("button", name="Passwort ändern"), "/konto")
    expect(page.get_by_role("alert")).to_contain_text("Die Wiederholung stimmt nicht")
    page.get_by_label("Bisheriges Passwort").fill("erstpasswort-2026")
    page.get_by_label("Neues Passwort", exact=True).fill("mein eigener langer satz")
    page.get_by_label("Neues Passwort wiederholen").fill("mein eigener langer satz")
    click_to(page, page.get_by_role("button", name="Passwort ändern"), "/")
    expect(page.get_by_role("status")).to_have_text("Ihr Passwort wurde geändert.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Guten Tag, Jana Neumann")
