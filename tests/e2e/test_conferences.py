"""The KI coordinator plans a conference through the date poll; a participant without consent sees a closed item."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from .helpers import NEXT_MEETING, Server, check_a11y, click_to, login, visit

CONFERENCE = re.compile(r"/konferenzen/\d+(#.*)?$")


def _slot(days: int, hour: int) -> tuple[str, str]:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M"), (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")


def _logout(page: Page) -> None:
    click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")


def _add_item(page: Page, kind: str, *, case: str = "", title: str = "", minutes: str = "20") -> None:
    form = page.get_by_role("region", name="Tagesordnung").locator("form").last
    form.get_by_label("Art").select_option(kind)
    form.get_by_label("Fallnummer (bei Fallbesprechung)").fill(case)
    form.get_by_label("Titel").fill(title)
    form.get_by_label("Zeit (Minuten)").fill(minutes)
    click_to(page, form.get_by_role("button", name="Hinzufügen", exact=True), re.compile(r"/konferenzen/\d+"))


def test_coordinator_plans_through_the_poll_and_closed_items_stay_closed(page: Page, server: Server):
    open_case, closed_case = server.case("Tesfay"), server.case("Amiri")  # JC has consent for the first only
    login(page, "ki.koordination")
    click_to(page, page.get_by_role("link", name="Konferenzen", exact=True), "/konferenzen")
    click_to(page, page.get_by_role("link", name="Neue Konferenz planen"), "/konferenzen/neu")
    start, end = _slot(10, 9)
    page.get_by_label("Titel").fill("Fallkonferenz Testlauf")
    page.get_by_label("Beginn", exact=True).fill(start)
    page.get_by_label("Ende", exact=True).fill(end)
    page.get_by_label("Ort").fill("Kreishaus, Raum 2.14")
    for agency in ("JC", "AA", "ABH"):
        page.get_by_label(re.compile(f"^{agency} – ")).check()
    click_to(page, page.get_by_role("button", name="Speichern"), CONFERENCE)
    conference_url = page.url

    # Date poll with two slots.
    for i, (slot_start, slot_end) in enumerate((_slot(11, 9), _slot(12, 13)), start=1):
        page.get_by_label(f"Termin {i}: Beginn").fill(slot_start)
        page.get_by_label(f"Termin {i}: Ende").fill(slot_end)
    click_to(page, page.get_by_role("button", name="Terminumfrage verschicken"), CONFERENCE)
    expect(page.get_by_role("region", name="Terminumfrage")).to_be_visible()
    _logout(page)

    # The Jobcenter answers the poll.
    login(page, "jc.fallmanagement")
    visit(page, conference_url)
    poll = page.get_by_role("region", name="Terminumfrage")
    poll.get_by_role("group").nth(0).get_by_label("nein").check()
    poll.get_by_role("group").nth(1).get_by_label("ja", exact=True).check()
    click_to(page, poll.get_by_role("button", name="Antworten speichern"), CONFERENCE)
    _logout(page)

    # The coordinator sees the answers, fixes the second slot and builds the agenda.
    login(page, "ki.koordination")
    visit(page, conference_url)
    table = page.get_by_role("table", name="Antworten je Termin")
    expect(table).to_contain_text("nein")
    asked = []  # fixing the date invites everyone at once: the page asks first
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    click_to(page, page.get_by_role("button", name=re.compile("^Festlegen")).nth(1), CONFERENCE)
    assert asked and "alle Teilnehmenden werden sofort eingeladen" in asked[0]
    expect(page.get_by_text("Der Termin steht fest. Alle Teilnehmenden wurden eingeladen.")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("eingeladen")

    _add_item(page, "fallbesprechung", case=open_case)
    for case in (open_case, closed_case):
        if page.get_by_role("heading", name="Einwilligung fehlt").count():
            click_to(page, page.get_by_role("button", name=re.compile("^Trotzdem hinzufügen")), CONFERENCE)
        if case == open_case:
            _add_item(page, "fallbesprechung", case=closed_case)
    expect(page.get_by_role("heading", name="Einwilligung fehlt")).to_have_count(0)
    _add_item(page, "verschiedenes", title="Verschiedenes", minutes="10")
    agenda = page.get_by_role("region", name="Tagesordnung")
    expect(agenda.locator("ol.agenda > li")).to_have_count(3)  # the items; a Wiedervorlage has lists of its own
    # The open case was discussed in the demo's last held conference: its decision and open task come back.
    expect(agenda.locator(".follow-up").first).to_contain_text("Offene Aufgaben:")
    expect(agenda).to_contain_text(closed_case)
    expect(agenda).to_contain_text("Geschlossen für:")

    # Reordering with the keyboard: the focus stays on the moved item's button, and its new place is announced.
    agenda.get_by_role("button", name="nach oben (TOP 3)").focus()
    with page.expect_event("load"):
        page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Der Punkt ist jetzt TOP 2.")).to_be_visible()
    expect(page.get_by_role("button", name="nach oben (TOP 2)")).to_be_focused()
    expect(page.get_by_role("heading", name="TOP 2 – Verschiedenes")).to_be_visible()
    check_a11y(page)
    page.keyboard.press("Tab")  # to "nach unten" of the same item, and back down
    with page.expect_event("load"):
        page.keyboard.press("Enter")
    # now the last item: it has no "nach unten", and the focus waits on its "nach oben"
    expect(page.get_by_role("button", name="nach unten (TOP 3)")).to_have_count(0)
    expect(page.get_by_role("button", name="nach oben (TOP 3)")).to_be_focused()
    expect(page.get_by_role("button", name="nach oben (TOP 1)")).to_have_count(0)
    expect(page.get_by_role("heading", name="TOP 3 – Verschiedenes")).to_be_visible()
    check_a11y(page)

    # Removing an item asks first; "Abbrechen" keeps it.
    _add_item(page, "bericht", title="Bericht: doppelt angelegt", minutes="5")
    expect(agenda.locator("ol.agenda > li")).to_have_count(4)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    agenda.get_by_role("button", name="Entfernen (TOP 4)").click()
    expect(agenda.locator("ol.agenda > li")).to_have_count(4)
    assert asked == ["TOP 4 von der Tagesordnung nehmen?"]
    page.once("dialog", lambda dialog: dialog.accept())
    click_to(
        page, agenda.get_by_role("button", name="Entfernen (TOP 4)"), re.compile(r"/konferenzen/\d+#tagesordnung$")
    )
    expect(page.get_by_role("status").filter(has_text="Der Tagesordnungspunkt wurde entfernt.")).to_be_visible()
    expect(agenda.locator("ol.agenda > li")).to_have_count(3)
    expect(agenda).not_to_contain_text("doppelt angelegt")
    # The agenda changed after the invitation: the participants are told once, on the moderator's word.
    click_to(
        page,
        agenda.get_by_role("button", name="Teilnehmende benachrichtigen"),
        re.compile(r"/konferenzen/\d+#tagesordnung$"),
    )
    expect(page.get_by_role("status").filter(has_text="über die geänderte Tagesordnung benachrichtigt")).to_be_visible()
    expect(agenda.get_by_role("button", name="Teilnehmende benachrichtigen")).to_have_count(0)
    _logout(page)

    # The Jobcenter sees its consented case in full and the other only as a confidential item.
    login(page, "jc.fallmanagement")
    visit(page, conference_url)
    agenda = page.get_by_role("region", name="Tagesordnung")
    expect(agenda).to_contain_text(open_case)
    expect(agenda.get_by_role("heading", name="TOP 2 – vertraulicher Fall")).to_be_visible()
    expect(agenda).not_to_contain_text(closed_case)
    expect(agenda).not_to_contain_text("Amiri")
    expect(agenda).to_contain_text("TOP 3 – Verschiedenes")


def test_participant_answers_the_invitation(page: Page, server: Server):
    login(page, "aa.beratung")
    # the start page says that an answer is expected, and leads to the answer form
    waiting = page.get_by_role("region", name="Ihre Antwort wird erwartet")
    click_to(
        page,
        waiting.get_by_role("link", name=f"Einladung: {NEXT_MEETING}"),
        re.compile(r"/konferenzen/\d+#antwort-h$"),
    )
    page.get_by_label("Zusage").check()
    click_to(page, page.get_by_role("button", name="Antwort senden"), CONFERENCE)
    expect(page.get_by_text("Ihre Antwort wurde gespeichert.")).to_be_visible()
    expect(page.get_by_role("region", name="Ihre Antwort", exact=True)).to_contain_text("Bisher: Zusage")
    visit(page, "/")  # answered: no longer waiting (other tests may have invited AA elsewhere)
    expect(page.get_by_role("link", name=f"Einladung: {NEXT_MEETING}")).to_have_count(0)
