"""Decisions and tasks recorded during the meeting, from the minutes page, appear live for the others.

Served with WebSocket support like tests/e2e/test_minutes.py (its `server` fixture, one instance for this module:
the decisions recorded here stay out of that module's pages).
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from . import test_minutes
from .helpers import HELD_MEETING, check_a11y, click_to, login
from .test_minutes import ONLINE, _item, _open_minutes

server = test_minutes.server  # WebSocket-capable, an instance of its own for this module
other_page = test_minutes.other_page

VERSCHIEDENES = re.compile(r"^TOP \d+ – Verschiedenes$")


def _mark(page: Page) -> None:
    """A flag in the window: gone if the page is loaded again."""
    page.evaluate("window.stillTheSamePage = true")


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("window.stillTheSamePage === true")


def test_a_decision_and_a_task_recorded_in_the_minutes_appear_for_the_other_without_reloading(
    page: Page, other_page: Page
):
    ki, aa = page, other_page
    _open_minutes(ki, "ki.koordination")
    _open_minutes(aa, "aa.beratung")
    _mark(aa)
    item = _item(aa, VERSCHIEDENES)
    decisions = item.get_by_role("list", name="Beschlüsse")
    expect(item.get_by_text("Noch keine Beschlüsse.")).to_be_visible()

    # The moderator records a decision under the item's editor; the form is sent in the background, so her
    # editors stay open, and says that it was stored.
    _mark(ki)
    form = _item(ki, VERSCHIEDENES)
    form.locator("summary").filter(has_text="Beschluss oder Aufgabe festhalten").click()
    form.get_by_label("Beschluss", exact=True).fill("Nächste Konferenz am 14. Januar.")
    form.get_by_role("button", name=re.compile("^Beschluss speichern")).click()
    expect(form.get_by_text("Der Beschluss wurde festgehalten.")).to_be_visible()
    expect(form.get_by_label("Beschluss", exact=True)).to_have_value("")  # ready for the next one
    expect(_item(ki, VERSCHIEDENES).get_by_role("list", name="Beschlüsse")).to_contain_text(
        "Nächste Konferenz am 14. Januar."
    )
    expect(ki.locator("#minutes-status")).to_have_text(ONLINE)
    assert _not_reloaded(ki)

    # The AA sees it appear in the item's list, announced politely, without a reload.
    expect(decisions.get_by_role("listitem")).to_have_text(["Nächste Konferenz am 14. Januar."])
    expect(item.get_by_text("Noch keine Beschlüsse.")).to_be_hidden()
    news = aa.locator("#records-news")
    expect(news).to_have_attribute("aria-live", "polite")
    expect(news).to_have_text(re.compile(r"^Neuer Beschluss zu TOP \d+: Nächste Konferenz am 14\. Januar\.$"))
    assert _not_reloaded(aa)
    check_a11y(aa)

    # Then a task for the AA, with person and due date, in the same open form.
    expect(form.locator("details.record-forms")).to_have_attribute("open", "")
    form.get_by_label("Aufgabe", exact=True).fill("Kursplätze an alle Stellen melden")
    people = form.get_by_label("Verantwortliche Person (optional)")
    form.get_by_label("Verantwortliche Stelle").select_option("KI")
    assert "AA – Anna Albers" not in people.locator("option:not([disabled])").all_inner_texts()
    form.get_by_label("Verantwortliche Stelle").select_option("AA")
    # only the chosen agency's people are offered
    offered = people.locator("option:not([disabled])").all_inner_texts()
    assert offered[0] == "—" and offered[1:] and all(text.startswith("AA – ") for text in offered[1:])
    people.select_option(label="AA – Anna Albers")
    form.get_by_label("Bis", exact=True).fill("2030-01-10")
    form.get_by_role("button", name=re.compile("^Aufgabe speichern")).click()
    expect(form.get_by_text("Die Aufgabe wurde festgehalten.")).to_be_visible()
    check_a11y(ki)
    tasks = item.get_by_role("list", name="Aufgaben")
    expect(tasks.get_by_role("listitem")).to_have_text(
        [re.compile(r"^Kursplätze an alle Stellen melden – AA, Anna Albers, bis 10\.01\.2030 \(offen\)")]
    )
    expect(news).to_have_text(re.compile(r"^Neue Aufgabe zu TOP \d+: Kursplätze an alle Stellen melden \(AA\)$"))
    assert _not_reloaded(aa)

    # The moderator moves its deadline on the task's own page (another tab): the AA's line follows, live.
    task_id = _item(aa, VERSCHIEDENES).get_by_role("list", name="Aufgaben").get_by_role("listitem").first
    task_id = task_id.get_attribute("data-entry")
    tab = ki.context.new_page()
    tab.goto(f"{ki.url.split('/konferenzen')[0]}/aufgaben/{task_id}/aendern")
    tab.get_by_label("Bis", exact=True).fill("2030-02-14")
    tab.get_by_role("button", name="Änderungen speichern").click()
    expect(tab.get_by_text("Die Aufgabe wurde geändert.")).to_be_visible()
    tab.close()
    expect(_item(aa, VERSCHIEDENES).get_by_role("list", name="Aufgaben").get_by_role("listitem")).to_have_text(
        [re.compile(r"^Kursplätze an alle Stellen melden – AA, Anna Albers, bis 14\.02\.2030 \(offen\)")]
    )
    expect(news).to_have_text(re.compile(r"^Aufgabe geändert \(TOP \d+\): Kursplätze an alle Stellen melden \(AA\)$"))
    assert _not_reloaded(aa)

    # The task came live with its "Erledigt" button, as the AA's reloaded page would render it; the AA ticks it
    # off and the moderator's page shows it done, live.
    done = _item(aa, VERSCHIEDENES).get_by_role("button", name=re.compile("^Erledigt.*Kursplätze an alle Stellen"))
    expect(done).to_be_visible()
    assert _not_reloaded(aa)
    check_a11y(aa)
    _item(aa, VERSCHIEDENES).get_by_role(
        "button", name=re.compile("^Erledigt.*Kursplätze an alle Stellen melden$")
    ).click()
    expect(_item(aa, VERSCHIEDENES).get_by_role("list", name="Aufgaben")).to_contain_text("(erledigt)")
    assert _not_reloaded(aa)
    ki_tasks = _item(ki, VERSCHIEDENES).get_by_role("list", name="Aufgaben")
    expect(ki_tasks.get_by_role("listitem")).to_have_text(
        [re.compile(r"Kursplätze an alle Stellen melden.*\(erledigt\)")]
    )
    expect(ki.locator("#records-news")).to_have_text(
        re.compile(r"^Aufgabe erledigt \(TOP \d+\): Kursplätze an alle Stellen melden$")
    )
    assert _not_reloaded(ki)
    check_a11y(ki)

    # A decision recorded by mistake: the moderator takes it back on the results page (another tab), and it
    # leaves the AA's list, said so.
    form.get_by_label("Beschluss", exact=True).fill("Versehentlich erfasst.")
    form.get_by_role("button", name=re.compile("^Beschluss speichern")).click()
    expect(decisions.get_by_role("listitem")).to_have_count(2)
    tab = ki.context.new_page()
    tab.goto(ki.url.split("#")[0] + "/ergebnisse")
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.get_by_role("button", name=re.compile("^Zurückziehen.*Versehentlich erfasst")).click()
    expect(tab.get_by_text("Der Beschluss wurde zurückgezogen.")).to_be_visible()
    tab.close()
    expect(decisions.get_by_role("listitem")).to_have_text(["Nächste Konferenz am 14. Januar."])
    expect(aa.locator("#records-news")).to_have_text(re.compile(r"^Beschluss zurückgezogen \(TOP \d+\)$"))
    assert _not_reloaded(aa)


def test_a_page_that_was_offline_catches_up_on_the_records_it_missed(page: Page, other_page: Page):
    ki, aa = page, other_page
    _open_minutes(ki, "ki.koordination")
    _open_minutes(aa, "aa.beratung")
    _mark(aa)
    aa.context.set_offline(True)
    expect(aa.locator("#minutes-status")).to_have_text(re.compile("^Offline"))

    form = _item(ki, VERSCHIEDENES)
    form.locator("summary").filter(has_text="Beschluss oder Aufgabe festhalten").click()
    form.get_by_label("Beschluss", exact=True).fill("Während der Funkstille beschlossen.")
    form.get_by_role("button", name=re.compile("^Beschluss speichern")).click()
    expect(form.get_by_text("Der Beschluss wurde festgehalten.")).to_be_visible()
    decisions = _item(aa, VERSCHIEDENES).get_by_role("list", name="Beschlüsse")
    expect(decisions).not_to_contain_text("Während der Funkstille")

    aa.context.set_offline(False)  # socket.io reconnects and joins again: the join brings the item's records
    expect(aa.locator("#minutes-status")).to_have_text(ONLINE)
    expect(decisions.get_by_role("listitem").last).to_have_text("Während der Funkstille beschlossen.")
    assert _not_reloaded(aa)
    check_a11y(aa)


def test_a_refused_or_unsent_entry_says_why_in_its_form_and_keeps_what_was_typed(page: Page):
    ki = page
    _open_minutes(ki, "ki.koordination")
    _mark(ki)
    form = _item(ki, VERSCHIEDENES)
    form.locator("summary").filter(has_text="Beschluss oder Aufgabe festhalten").click()
    form.get_by_label("Aufgabe", exact=True).fill("Fahrtkosten klären")
    form.get_by_label("Bis", exact=True).fill("2020-01-10")
    form.get_by_role("button", name=re.compile("^Aufgabe speichern")).click()
    expect(form.get_by_text(re.compile("Vergangenheit"))).to_be_visible()
    expect(form.get_by_label("Aufgabe", exact=True)).to_have_value("Fahrtkosten klären")
    check_a11y(ki)

    ki.context.set_offline(True)
    form.get_by_label("Beschluss", exact=True).fill("Ohne Verbindung beschlossen.")
    form.get_by_role("button", name=re.compile("^Beschluss speichern")).click()
    expect(form.get_by_text(re.compile("^Nicht gespeichert: keine Verbindung"))).to_be_visible()
    expect(form.get_by_label("Beschluss", exact=True)).to_have_value("Ohne Verbindung beschlossen.")
    ki.context.set_offline(False)
    expect(ki.locator("#minutes-status")).to_have_text(ONLINE)
    form.get_by_role("button", name=re.compile("^Beschluss speichern")).click()
    expect(form.get_by_text("Der Beschluss wurde festgehalten.")).to_be_visible()
    expect(form.get_by_role("list", name="Beschlüsse")).to_contain_text("Ohne Verbindung beschlossen.")
    assert _not_reloaded(ki)


KITA = "Platz in der Kindertagespflege prüfen und dem Jobcenter melden"  # the demo's overdue task, the JA's


def test_an_overdue_task_ticked_off_and_opened_again_elsewhere_keeps_its_mark_right_without_reloading(
    page: Page, other_page: Page
):
    ki, ja = page, other_page
    # The moderator has the held conference's minutes open: the JA's task from it is past its due date.
    _open_minutes(ki, "ki.koordination", HELD_MEETING)
    task = ki.locator("section.minutes-item").get_by_role("listitem").filter(has_text=KITA)
    expect(task).to_contain_text("(offen) (überfällig)")
    _mark(ki)

    # The JA ticks it off in "Meine Aufgaben": done is not overdue, on the moderator's page at once.
    login(ja, "ja.asd")
    click_to(ja, ja.get_by_role("button", name=re.compile(f"^Erledigt.*{KITA}$")), "/")
    expect(task).to_contain_text("(erledigt)")
    expect(task).not_to_contain_text("überfällig")
    assert _not_reloaded(ki)

    # A slip of the finger: she opens it again, and it is overdue again, marked as the page renders it.
    click_to(ja, ja.get_by_role("button", name=re.compile(f"^Wieder öffnen.*{KITA}$")), "/")
    expect(task).to_contain_text("(offen) (überfällig)")
    expect(task.locator("strong.overdue")).to_have_count(1)
    assert _not_reloaded(ki)
    check_a11y(ki)
