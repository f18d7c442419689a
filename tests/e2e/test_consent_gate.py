"""What the Jobcenter sees: only cases its consents (or its own work) allow, and only the consented categories."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .helpers import Server, click_to, login, visit

# From fallkonferenz/demo_data.py: JC leads, is granted by an active consent, or wrote a note.
VISIBLE_TO_JC = ["Al-Khatib", "Tesfay", "Warsame", "Moradi", "Hasan", "Suleiman", "Tkachuk", "Al-Hamwi"]
# JC is neither lead nor in the consent nor a note author (or the consent has expired or was revoked).
HIDDEN_FROM_JC = ["Amiri", "Ceesay", "Hashimi", "Bah", "Nwosu", "Yıldız"]


def test_case_list_shows_only_permitted_cases(page: Page, server: Server):
    login(page, "jc.fallmanagement")
    click_to(page, page.get_by_role("link", name="Fälle", exact=True), "/faelle/")
    links = page.get_by_role("table", name="Fälle, die Ihre Stelle sehen darf").locator("tbody tr td:first-child a")
    expect(links).to_have_count(len(VISIBLE_TO_JC))
    assert sorted(links.all_inner_texts()) == sorted(server.case(name) for name in VISIBLE_TO_JC)
    assert len(server.cases) == len(VISIBLE_TO_JC) + len(HIDDEN_FROM_JC)


def test_case_without_consent_is_not_found(page: Page, server: Server):
    login(page, "jc.fallmanagement")
    number = server.case("Amiri")  # KI leads; the consent shares it with ABH and AA only
    visit(page, f"/faelle/{number}", status=404)
    expect(page).to_have_title("Fehler 404 – Fallkonferenz")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fall nicht gefunden.")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Fehlercode 404.")
    expect(main).not_to_contain_text("Amiri")
    visit(page, f"/faelle/{number}/einwilligungen", status=404)


def test_partial_consent_hides_the_category(page: Page, server: Server):
    number = server.case("Suleiman")  # KI leads; the consent grants JC everything but Gesundheit
    login(page, "jc.fallmanagement")
    click_to(page, page.get_by_role("link", name="Fälle", exact=True), "/faelle/")
    click_to(page, page.get_by_role("link", name=number, exact=True), f"/faelle/{number}")
    notice = page.get_by_role("note")
    expect(notice).to_contain_text("Keine Einwilligung für: Gesundheit (Art. 9 DSGVO).")
    expect(notice).to_contain_text("Die geltende Einwilligung gibt JC diese Kategorien nicht frei.")
    expect(notice.get_by_role("link", name="Einwilligungen ansehen")).to_be_visible()
    expect(page.get_by_role("region", name="Stammdaten")).to_contain_text("Rami Suleiman")
    notes = page.get_by_role("region", name="Vermerke")
    expect(notes.get_by_role("article").first).to_be_visible()
    expect(notes.get_by_role("article").filter(has_text="Gesundheit (Art. 9 DSGVO)")).to_have_count(0)
