"""The Lenkungsgruppe in the browser: a case worker reports a structural problem from a case conference (the guard
refuses the client's name first), a second agency adds its case, the steering group triages it, puts it on its
meeting and adopts a recommendation, two agencies report their implementation, and the Kennzahlen follow.

The steering members never see which cases the item affects, only how many; each agency sees only its own cases.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Locator, Page, expect

from .helpers import HELD_MEETING, NEXT_MEETING, STEERING_MEETING, Server, check_a11y, click_to, login, visit

CONFERENCE = re.compile(r"/konferenzen/\d+(#.*)?$")
ITEM = re.compile(r"/lenkungsgruppe/themen/\d+(#.*)?$")
ESCALATE = re.compile(r"/konferenzen/\d+/top/\d+/eskalieren$")
REFERENCE = re.compile(r"LG-\d{4}-\d{3}")

TITLE = "Sprachkurse ohne Abendtermine für Berufstätige"
NAMING = (
    "Frau Tesfay arbeitet tagsüber und findet keinen Integrationskurs am Abend; die Kurse im Kreis laufen nur "
    "vormittags."
)
DESCRIPTION = (
    "Berufstätige Zugewanderte finden keinen Integrationskurs am Abend oder am Wochenende; die Kurse im Kreis "
    "laufen nur vormittags. Wer arbeitet, muss die Arbeit aufgeben oder auf den Kurs verzichten."
)
SOLUTION = "Die Kursträger bieten mindestens einen Abendkurs je Quartal an."
RECOMMENDATION = (
    "Jede Stelle fragt bei Berufstätigen den Bedarf an Abendkursen ab und meldet ihn den Kursträgern; "
    "die Koordinierungsstelle bündelt die Meldungen je Quartal."
)
AA_REASON = "Die Agentur für Arbeit vermittelt keine Integrationskurse; sie verweist an das Jobcenter."


def _logout(page: Page) -> None:
    click_to(page, page.get_by_role("button", name="Abmelden"), "/anmelden")


def _conference(page: Page, title: str) -> None:
    click_to(page, page.get_by_role("link", name="Konferenzen", exact=True), "/konferenzen")
    click_to(page, page.get_by_role("link", name=title, exact=True), CONFERENCE)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def _agenda_item(page: Page, text: str) -> Locator:
    """The agenda item of the conference page that shows this text (a case number or a backlog reference)."""
    agenda = page.get_by_role("region", name="Tagesordnung")
    return agenda.locator("li.agenda-item").filter(has_text=text)


def _open_item(page: Page, reference: str) -> None:
    """From anywhere through the main navigation to the backlog item."""
    click_to(page, page.get_by_role("link", name="Lenkungsgruppe", exact=True), "/lenkungsgruppe/themen")
    click_to(page, page.get_by_role("link", name=reference, exact=True), ITEM)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{reference}: {TITLE}")


def _lead(page: Page) -> Locator:
    return page.locator("p.lead")


def _implementations(page: Page) -> dict[str, dict[str, int]]:
    """The Kennzahlen page's implementations per agency, from the chart (SVG) and from the table.

    Returns {"svg": {"JC": open, ...}, "open": {...}, "done": {...}} for JC and AA. The chart's figure is read
    twice, from the label drawn at the agency's "offen" bar and from the description a screen reader reads; both
    must agree.
    """
    click_to(page, page.get_by_role("link", name="Lenkungsgruppe", exact=True), "/lenkungsgruppe/themen")
    click_to(page, page.get_by_role("link", name="Kennzahlen", exact=True), "/lenkungsgruppe/kennzahlen")
    # the widest table (a column per state) is read whole on the office screen, without scrolling inside it
    region = page.get_by_role("region", name="Einträge nach Kategorie und Status (Zahlen zum Diagramm)")
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), "the status table scrolls sideways"
    chart = page.get_by_role("img", name=re.compile("^Offene Umsetzungen je Stelle"))
    expect(chart).to_be_visible()
    described = chart.locator("desc").text_content() or ""
    drawn = chart.locator("text").all_text_contents()  # per agency: its name, then the value of each bar
    table = page.get_by_role("table", name=re.compile("^Umsetzungen je Stelle"))
    out: dict[str, dict[str, int]] = {"svg": {}, "open": {}, "done": {}}
    for code in ("JC", "AA"):
        found = re.search(rf"\b{code}: offen (\d+), davon überfällig \d+", described)
        assert found, f"{code} missing from the chart's description: {described}"
        assert code in drawn, f"{code} missing from the chart: {drawn}"
        assert drawn[drawn.index(code) + 1] == found.group(1), (code, drawn, described)
        out["svg"][code] = int(found.group(1))
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=code, exact=True))
        cells = row.get_by_role("cell")
        expect(cells).to_have_count(4)
        out["open"][code] = int(cells.nth(0).inner_text())
        out["done"][code] = int(cells.nth(3).inner_text())
    return out


def _report_implementation(page: Page, username: str, reference: str, code: str, status: str, reason: str = ""):
    login(page, username)
    _open_item(page, reference)
    form = page.get_by_role("group", name=f"Stand der Umsetzung für {code} melden")
    form.get_by_label("Stand", exact=True).select_option(label=status)
    if reason:
        form.get_by_label(re.compile("^Begründung")).fill(reason)
    click_to(page, form.get_by_role("button", name=re.compile("^Stand speichern")), ITEM)
    expect(page.locator(".flash")).to_contain_text("Der Stand der Umsetzung wurde gespeichert.")
    row = (
        page.get_by_role("table", name="Umsetzung je Stelle")
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name=code, exact=True))
    )
    expect(row.get_by_role("cell").first).to_have_text(status)
    # Only the own agency's form: the others report theirs.
    expect(page.get_by_role("group", name=re.compile("^Stand der Umsetzung für"))).to_have_count(1)


def test_lenkungsgruppe_from_report_to_implementation(page: Page, server: Server):
    tesfay, amiri = server.case("Tesfay"), server.case("Amiri")
    due = (date.today() + timedelta(days=60)).isoformat()

    # 1. The Jobcenter reports a structural problem from its case on the December conference.
    login(page, "jc.fallmanagement")
    _conference(page, NEXT_MEETING)
    click_to(page, _agenda_item(page, tesfay).get_by_role("link", name=re.compile("^Strukturproblem melden")), ESCALATE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Strukturproblem an die Lenkungsgruppe melden")
    expect(page.locator("p.lead")).to_contain_text(tesfay)
    page.get_by_label("Titel").fill(TITLE)
    page.get_by_label("Beschreibung des Problems").fill(NAMING)
    page.get_by_label("Kategorie").select_option(label="Angebotslücke – Sprache")
    page.get_by_label("SGB II (Jobcenter)").check()
    page.get_by_label("AufenthG (Aufenthaltsrecht)").check()
    for code in ("JC", "AA", "KI"):
        page.get_by_label(re.compile(f"^{code} – ")).check()
    page.get_by_label("Lösungsvorschlag (optional)").fill(SOLUTION)
    click_to(page, page.get_by_role("button", name="An die Lenkungsgruppe melden"), ESCALATE)

    # The guard refuses the client's name: highlighted in the text, the input kept, nothing saved.
    expect(page.get_by_role("alert")).to_contain_text("Bitte prüfen Sie Ihre Angaben")
    expect(page.locator("mark.guard-hit")).to_have_text(["Tesfay"])
    expect(page.get_by_label("Beschreibung des Problems")).to_have_value(NAMING)
    expect(page.get_by_label("Titel")).to_have_value(TITLE)
    expect(page.locator(".flash")).to_have_count(0)

    page.get_by_label("Beschreibung des Problems").fill(DESCRIPTION)
    click_to(page, page.get_by_role("button", name="An die Lenkungsgruppe melden"), ITEM)
    expect(page.locator(".flash")).to_contain_text("an die Lenkungsgruppe gemeldet")
    reference = REFERENCE.search(page.get_by_role("heading", level=1).inner_text()).group(0)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{reference}: {TITLE}")
    expect(_lead(page)).to_contain_text("eingereicht")
    expect(_lead(page)).to_contain_text("betroffene Fälle: 1")
    linked = page.get_by_role("region", name="Ihre verknüpften Fälle")
    expect(linked.get_by_role("link")).to_have_text([tesfay])
    expect(page.locator("main")).not_to_contain_text("Tesfay")

    # Saved once: the refused attempt left nothing behind.
    click_to(page, page.get_by_role("link", name="Zum Themenspeicher"), "/lenkungsgruppe/themen")
    expect(page.get_by_role("row").filter(has_text=TITLE)).to_have_count(1)
    _logout(page)

    # 2. The Agentur für Arbeit adds its case from the October conference: "betrifft uns auch".
    login(page, "aa.beratung")
    _conference(page, HELD_MEETING)
    # She searches the open items from the conference page, reads the item and links her case on its page.
    joining = page.get_by_role("region", name="Betrifft uns auch")
    joining.get_by_label("Suchbegriff").fill("abendtermine SPRACHKURSE")
    click_to(
        page, joining.get_by_role("button", name="Im Themenspeicher suchen"), re.compile(r"/lenkungsgruppe/themen\?")
    )
    expect(page.get_by_role("row").filter(has_text=TITLE)).to_have_count(1)
    click_to(page, page.get_by_role("link", name=reference, exact=True), re.compile(r"\?konferenz=\d+#faelle$"))
    case_choice = page.get_by_label("Fall aus Ihren Konferenzen")
    expect(case_choice.locator("option").first).to_contain_text(HELD_MEETING)  # its cases come first
    case_choice.select_option(value=case_choice.locator("option", has_text=amiri).get_attribute("value"))
    click_to(page, page.get_by_role("button", name="Fall verknüpfen"), ITEM)
    expect(page.locator(".flash")).to_contain_text(f"Ihr Fall wurde mit {reference} verknüpft (2 betroffene Fälle)")
    expect(_lead(page)).to_contain_text("betroffene Fälle: 2")
    expect(_lead(page)).to_contain_text("Unterstützende: 2")
    # The AA sees its own case, not the Jobcenter's (no consent for it).
    linked = page.get_by_role("region", name="Ihre verknüpften Fälle")
    expect(linked.get_by_role("link")).to_have_text([amiri])
    expect(page.locator("main")).not_to_contain_text(tesfay)
    _logout(page)

    # 3. The chair of the steering group triages the item ...
    login(page, "lenkung.vorsitz")
    _open_item(page, reference)
    expect(_lead(page)).to_contain_text("eingereicht")
    expect(_lead(page)).to_contain_text("betroffene Fälle: 2")
    expect(page.get_by_role("region", name="Ihre verknüpften Fälle")).to_have_count(0)
    page.get_by_label("Priorität", exact=True).select_option(label="hoch")
    click_to(page, page.get_by_role("button", name="Sichten"), ITEM)
    expect(page.locator(".flash")).to_contain_text("Priorität und Kategorie wurden gespeichert.")
    expect(_lead(page)).to_contain_text("gesichtet")

    # ... reads the Kennzahlen before the decision ...
    start = _implementations(page)
    assert start["svg"] == start["open"]

    # ... and, as the meeting's moderator, puts it on the agenda from the proposal.
    _conference(page, STEERING_MEETING)
    proposal = page.get_by_role("region", name="Vorschlag für die Tagesordnung")
    proposal.get_by_label(re.compile(f"^{reference} – ")).check()
    click_to(page, proposal.get_by_role("button", name="Auf die Tagesordnung setzen"), CONFERENCE)
    expect(page.locator(".flash")).to_contain_text(f"Auf der Tagesordnung: {reference}.")
    item = _agenda_item(page, reference)
    expect(item).to_contain_text("auf der Tagesordnung, betroffene Fälle: 2, Priorität hoch")

    click_to(page, item.get_by_role("link", name=reference, exact=True), ITEM)
    expect(_lead(page)).to_contain_text("auf der Tagesordnung")
    expect(page.get_by_role("region", name="Beratung in der Lenkungsgruppe")).to_contain_text(STEERING_MEETING)
    body = page.locator("body")
    for secret in (tesfay, amiri, "Tesfay", "Amiri", "Senait", "Sohrab"):
        expect(body).not_to_contain_text(secret)

    # 4. In the meeting, the steering group adopts a recommendation through the decision form.
    click_to(page, page.get_by_role("link", name=STEERING_MEETING), CONFERENCE)
    expect(_agenda_item(page, reference)).to_contain_text("sobald die Sitzung läuft")  # not before it has begun
    asked = []  # the meeting is not set for today: the page asks before it begins
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    click_to(page, page.get_by_role("button", name="Konferenz beginnen"), CONFERENCE)
    assert asked and "nicht für heute" in asked[0]
    item = _agenda_item(page, reference)
    item.get_by_text("Beschluss festhalten").click()
    expect(item.get_by_role("button", name=re.compile("^Beschluss speichern"))).to_be_visible()
    check_a11y(page)  # with the decision form open
    outcome = item.get_by_label("Beschluss", exact=True)
    expect(outcome).to_have_value("")  # nothing chosen for the group: a click alone adopts nothing
    outcome.select_option(label="Empfehlung beschließen")
    item.get_by_label(re.compile("^Beschlusstext")).fill(RECOMMENDATION)
    item.get_by_label(re.compile("^Umsetzungsfrist")).fill(due)
    for code in ("JC", "AA"):
        expect(item.get_by_label(code, exact=True)).to_be_checked()
    asked.clear()  # a recommendation cannot be taken back: the form asks first
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    click_to(page, item.get_by_role("button", name=re.compile("^Beschluss speichern")), CONFERENCE)
    assert asked and asked[0].startswith(f"Für {reference} eine Empfehlung beschließen?"), asked
    expect(page.locator(".flash")).to_contain_text(f"Der Beschluss zu {reference} wurde festgehalten")

    item = _agenda_item(page, reference)
    click_to(page, item.get_by_role("link", name=reference, exact=True), ITEM)
    expect(_lead(page)).to_contain_text("Empfehlung beschlossen")
    recommendation = page.get_by_role("region", name="Empfehlung")
    expect(recommendation).to_contain_text(RECOMMENDATION)
    expect(page.get_by_role("table", name="Umsetzung je Stelle").get_by_role("row")).to_have_count(6)
    for secret in (tesfay, amiri):
        expect(page.locator("body")).not_to_contain_text(secret)

    # 5. The Kennzahlen count one more open implementation for each agency ...
    adopted = _implementations(page)
    for code in ("JC", "AA"):
        assert adopted["svg"][code] == start["svg"][code] + 1, (code, start, adopted)
        assert adopted["open"][code] == start["open"][code] + 1, (code, start, adopted)
        assert adopted["done"][code] == start["done"][code], (code, start, adopted)
    _logout(page)

    # ... the Jobcenter and the Agentur für Arbeit report theirs ...
    _report_implementation(page, "lenkung.jc", reference, "JC", "umgesetzt")
    _logout(page)
    _report_implementation(page, "lenkung.aa", reference, "AA", "nicht umsetzbar", AA_REASON)
    expect(page.get_by_role("region", name="Empfehlung")).to_contain_text(AA_REASON)

    # ... and chart and table show both as done, no longer open.
    done = _implementations(page)
    for code in ("JC", "AA"):
        assert done["svg"][code] == adopted["svg"][code] - 1, (code, adopted, done)
        assert done["open"][code] == adopted["open"][code] - 1, (code, adopted, done)
        assert done["done"][code] == adopted["done"][code] + 1, (code, adopted, done)
    chart = page.get_by_role("img", name=re.compile("^Offene Umsetzungen je Stelle"))
    for code in ("JC", "AA"):
        expect(chart.locator("desc")).to_contain_text(f"{code}: offen {done['svg'][code]},")


def test_closing_an_item_for_good_asks_first(page: Page, server: Server):
    """Only the states that end an item ask; declining leaves the item as it was (the demo data is shared)."""
    login(page, "lenkung.vorsitz")
    visit(page, "/lenkungsgruppe/themen?status=gesichtet")
    first = page.locator("table a").filter(has_text=REFERENCE).first
    reference = first.inner_text()
    click_to(page, first, ITEM)
    status = page.get_by_label("Neuer Status")
    status.select_option(label="abgelehnt")
    page.get_by_label("Begründung (bei „abgelehnt“ erforderlich)").fill("Kein Handlungsbedarf der Lenkungsgruppe.")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Status ändern").click()
    expect(status).to_have_value("abgelehnt")  # still the same page, the choice kept
    assert asked == [
        f"{reference} auf „abgelehnt“ setzen? Damit ist das Thema abgeschlossen; sein Status lässt sich danach "
        "nicht mehr ändern."
    ]
    visit(page, page.url)  # reloaded: still open
    expect(_lead(page)).to_contain_text("gesichtet")
    page.get_by_label("Neuer Status").select_option(label="auf der Tagesordnung")
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_label("Neuer Status").evaluate(
        "select => select.form.dispatchEvent(new Event('submit', {cancelable: true}))"
    )
    assert len(asked) == 1  # a step along the way does not ask
