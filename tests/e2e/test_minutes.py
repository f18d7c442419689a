"""Live minutes in the browser: two people write one item at once and converge; an agency without consent sees a
case item only as closed; changes made offline follow once the connection is back; a participant taken off the
conference loses every item at once.

The minutes speak Socket.IO over WebSocket only (the server admits a connection only with the page's own Origin,
which the long-polling transport does not send), and waitress, which serves the other browser tests, has no
WebSocket. So this module overrides the `server` fixture: the same seeded app, served by Flask-SocketIO's own
server (Werkzeug with simple-websocket), as `make run` does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from .conftest import HOST, TIMEOUT_MS, free_port, seed_instance, stop, wait_ready
from .helpers import (
    NEXT_MEETING,
    ROOT,
    Server,
    check_a11y,
    click_to,
    close_watched_page,
    login,
    open_watched_page,
    visit,
)
from .wsgi import INSTANCE_VARIABLE

CONFERENCE = re.compile(r"/konferenzen/\d+$")
ONLINE = "Verbunden – Änderungen werden gespeichert."
EDITOR = re.compile(r"^Protokolltext zu TOP \d+$")

SOCKET_SERVER = """
import sys
from fallkonferenz.serving import serve
from tests.e2e.wsgi import create_e2e_app
serve(create_e2e_app(), sys.argv[1], int(sys.argv[2]), log_output=False)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """The demo data served with WebSocket support, for this module's tests."""
    instance = tmp_path_factory.mktemp("e2e-minutes")
    cases = seed_instance(instance)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # own SQLite file, see tests/e2e/wsgi.py
    env[INSTANCE_VARIABLE] = str(instance)
    log = instance / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SOCKET_SERVER, HOST, str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(proc, port, log)
        yield Server(url=f"http://{HOST}:{port}", cases=cases)
    finally:
        stop(proc)


@pytest.fixture
def other_page(request, browser: Browser, server: Server) -> Iterator[Page]:
    """A second person's browser next to `page`, checked the same way (axe-core, CSP, script errors)."""
    page = open_watched_page(browser, server.url, TIMEOUT_MS)
    problems: list[str] = []
    try:
        yield page
    finally:
        problems = close_watched_page(page)
    if problems and getattr(request.node, "e2e_call_passed", False):
        pytest.fail("\n".join(problems), pytrace=False)


def _open_minutes(page: Page, username: str, meeting: str = NEXT_MEETING) -> None:
    """Log in, open the conference (the next one: from the dashboard; another: from the list of conferences) and
    go to its minutes."""
    login(page, username)
    if meeting != NEXT_MEETING:
        click_to(page, page.get_by_role("link", name="Konferenzen", exact=True), "/konferenzen")
    click_to(page, page.get_by_role("link", name=meeting, exact=True), CONFERENCE)
    visit(page, urlsplit(page.url).path + "/protokoll")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Protokoll: {meeting}")
    expect(page.get_by_role("status")).to_have_text(ONLINE)


def _item(page: Page, title: str | re.Pattern) -> Locator:
    return page.locator("section.minutes-item").filter(has=page.get_by_role("heading", level=2, name=title))


def _editor(page: Page, title: str | re.Pattern) -> Locator:
    return _item(page, title).get_by_role("textbox", name=EDITOR)


def _converge(a, b, timeout: float = 10.0) -> str:
    """Wait until two editors show the same text; fail with both texts if they do not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        left, right = a.text_content(), b.text_content()
        if left == right:
            return left
        assert time.monotonic() < deadline, (left, right)
        a.page.wait_for_timeout(100)


def test_two_participants_write_the_same_item_and_see_each_other(page: Page, other_page: Page):
    ki, aa = page, other_page
    _open_minutes(ki, "ki.koordination")
    _open_minutes(aa, "aa.beratung")
    verschiedenes = re.compile(r"^TOP \d+ – Verschiedenes$")

    # CodeMirror's styles arrive as a constructed stylesheet, not as a <style> element the CSP would block.
    expect(_item(ki, verschiedenes).locator(".cm-editor")).to_have_css("display", "flex")
    assert ki.locator("style").count() == 0

    # Both see who is there, with name and agency, as text.
    for viewer in (ki, aa):
        presence = _item(viewer, verschiedenes).get_by_role("list", name=re.compile("^Gerade im Protokoll zu TOP"))
        expect(presence).to_contain_text("Katrin Imhoff (KI)")
        expect(presence).to_contain_text("Anna Albers (AA)")

    # The editors are reached with the keyboard: Tab leads from the previous item's text, past that item's
    # controls (such as "Strukturproblem melden"), into this one.
    _editor(ki, re.compile(r"^TOP \d+ – Bericht aus der Lenkungsgruppe$")).focus()
    target = _editor(ki, verschiedenes)
    for _ in range(10):
        ki.keyboard.press("Tab")
        if target.evaluate("node => node === document.activeElement"):
            break
    expect(target).to_be_focused()
    expect(_item(ki, verschiedenes).locator(".cm-editor")).to_have_class(re.compile(r"\bcm-focused\b"))

    # Both type at the same time, without waiting for each other.
    ki.keyboard.type("Beschluss: nächste Konferenz im Januar.")
    _editor(aa, verschiedenes).click()
    aa.keyboard.press("Control+Home")
    aa.keyboard.type("Nachtrag AA: zwei Kursplätze frei. ")

    first, second = "Beschluss: nächste Konferenz im Januar.", "Nachtrag AA: zwei Kursplätze frei."
    for viewer in (ki, aa):
        expect(_editor(viewer, verschiedenes)).to_contain_text(first)
        expect(_editor(viewer, verschiedenes)).to_contain_text(second)
    # Both hold the same text in the end. Compared as it settles: a moment ago one side may have had both
    # sentences but not yet the other's last keystroke.
    merged = _converge(_editor(ki, verschiedenes), _editor(aa, verschiedenes))

    # Each sees where the other writes, drawn in the other's agency colour and named.
    expect(_item(aa, verschiedenes).locator(".remote-caret")).to_have_attribute("data-label", "Katrin Imhoff (KI)")
    expect(
        _item(ki, verschiedenes).get_by_role("list", name=re.compile("^Gerade im Protokoll zu TOP"))
    ).to_contain_text("Anna Albers (AA) – schreibt hier")

    # Saved on the server: once nothing is pending, a fresh page shows the merged text.
    for viewer in (ki, aa):
        expect(viewer.get_by_role("status")).to_have_attribute("data-pending", "0")
        expect(viewer.get_by_role("status")).to_have_text(ONLINE)
    aa.reload()
    check_a11y(aa)
    expect(aa.get_by_role("status")).to_have_text(ONLINE)
    expect(_editor(aa, verschiedenes)).to_have_text(merged)
    check_a11y(ki)  # with the other's cursor and the presence lists in the page


def test_an_agency_without_consent_sees_the_case_item_only_as_closed(page: Page, server: Server):
    _open_minutes(page, "jc.fallmanagement")
    closed = _item(page, "TOP 1 – vertraulicher Fall")  # the Amiri case: no consent for the Jobcenter
    expect(closed).to_contain_text("Für Ihre Stelle geschlossen (keine Einwilligung).")
    expect(closed.locator(".minutes-editor, [data-presence], pre")).to_have_count(0)
    expect(closed.get_by_role("textbox")).to_have_count(0)
    expect(page.locator("#minutes")).not_to_contain_text("Amiri")
    expect(page.locator("#minutes")).not_to_contain_text(server.case("Amiri"))
    # The items it may see are open for writing.
    expect(_editor(page, re.compile(r"^TOP \d+ – Verschiedenes$"))).to_be_editable()


def test_changes_made_offline_are_sent_when_the_connection_is_back(page: Page, other_page: Page):
    writer, reader = page, other_page
    _open_minutes(writer, "ki.koordination")
    _open_minutes(reader, "aa.beratung")
    report = re.compile(r"^TOP \d+ – Bericht aus der Lenkungsgruppe$")

    writer.context.set_offline(True)
    expect(writer.get_by_role("status")).to_have_text(re.compile("^Offline – Ihre Änderungen werden gesendet"))
    _editor(writer, report).click()
    writer.keyboard.type("Die Lenkungsgruppe tagt im Februar.")
    expect(writer.get_by_role("status")).to_contain_text("(1 Änderung ausstehend)")
    expect(reader.get_by_role("status")).to_have_text(ONLINE)
    expect(_editor(reader, report)).not_to_contain_text("Februar")
    # Leaving now would lose the text: the browser asks first, and staying keeps it.
    asked = []
    writer.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    writer.get_by_role("link", name="Zur Tagesordnung").click()
    expect(writer.get_by_role("status")).to_contain_text("(1 Änderung ausstehend)")
    assert asked == ["beforeunload"] and writer.url.endswith("/protokoll")

    writer.context.set_offline(False)  # socket.io reconnects, joins again and sends what is pending
    expect(_editor(reader, report)).to_contain_text("Die Lenkungsgruppe tagt im Februar.")
    expect(writer.get_by_role("status")).to_have_text(ONLINE)
    expect(writer.get_by_role("status")).to_have_attribute("data-pending", "0")
    check_a11y(writer)


def test_a_participant_removed_from_the_conference_loses_the_minutes_at_once(
    page: Page, other_page: Page, server: Server
):
    reader, moderator = page, other_page
    number = server.case("Amiri")
    case_top = re.compile(r"^TOP 1 – Fallbesprechung$")
    _open_minutes(reader, "aa.beratung")
    case_item = _item(reader, case_top)
    expect(case_item).to_contain_text(number)
    _editor(reader, case_top).click()
    reader.keyboard.type("Vermittlung in den Sprachkurs besprochen.")
    expect(reader.get_by_role("status")).to_have_attribute("data-pending", "0")

    # The moderator takes the AA off the conference while the AA is writing its minutes.
    _open_minutes(moderator, "ki.koordination")
    expect(_editor(moderator, case_top)).to_contain_text("Vermittlung in den Sprachkurs besprochen.")
    click_to(moderator, moderator.get_by_role("link", name="Zur Tagesordnung"), CONFERENCE)
    moderator.once("dialog", lambda dialog: dialog.accept())  # "Anna Albers aus der Konferenz nehmen?"
    click_to(
        moderator,
        moderator.get_by_role("button", name="Entfernen (Anna Albers)"),
        re.compile(r"/konferenzen/\d+(#.*)?$"),
    )

    # Within a second every editor, its text, the people and the case line are gone; the reason is shown. The
    # case item's title goes too, as a reload would show it, and with it the offer to escalate from it.
    expect(reader.get_by_role("heading", name=case_top)).to_have_count(0)
    expect(reader.get_by_role("link", name=re.compile("^Strukturproblem melden"))).to_have_count(0)
    for title in (re.compile(r"^TOP 1 – vertraulicher Fall$"), re.compile(r"^TOP \d+ – Verschiedenes$")):
        item = _item(reader, title)
        expect(item.get_by_role("alert")).to_have_text(
            re.compile("^Sie haben keinen Zugriff mehr auf diesen Tagesordnungspunkt")
        )
        expect(item.get_by_role("textbox")).to_have_count(0)
        expect(item.locator("[data-presence]")).to_be_hidden()
    expect(reader.locator("#minutes")).not_to_contain_text("Sprachkurs")
    expect(reader.locator("#minutes")).not_to_contain_text(number)
    expect(reader.locator("#minutes")).not_to_contain_text("Amiri")
    check_a11y(reader)


def test_a_client_named_in_a_general_item_brings_a_hint_that_goes_with_the_name(page: Page):
    """Everyone reads a general item: the writer is told, once she pauses, that her text names a client."""
    _open_minutes(page, "ki.koordination")
    verschiedenes = re.compile(r"^TOP \d+ – Verschiedenes$")
    hint = _item(page, verschiedenes).locator("[data-name-hint]")
    _editor(page, verschiedenes).click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Herr Amiri fehlt.")
    expect(hint).to_be_visible(timeout=6000)
    expect(hint).to_contain_text("keinen Namen einer Klientin/eines Klienten")
    check_a11y(page)
    for _ in range(len(" Herr Amiri fehlt.")):
        page.keyboard.press("Backspace")
    expect(hint).to_be_hidden(timeout=6000)


def test_closing_the_minutes_reaches_an_open_minutes_page_at_once(page: Page, other_page: Page):
    """Last in this module: the December minutes are closed here. The Jobcenter, still in them, stops typing when
    the moderator closes them, and reads why."""
    reader, moderator = page, other_page
    _open_minutes(reader, "jc.fallmanagement")
    login(moderator, "ki.koordination")
    click_to(moderator, moderator.get_by_role("link", name=NEXT_MEETING, exact=True), CONFERENCE)
    moderator.once("dialog", lambda dialog: dialog.accept())  # begun before its day: the page asks first
    click_to(moderator, moderator.get_by_role("button", name="Konferenz beginnen"), CONFERENCE)
    visit(moderator, urlsplit(moderator.url).path + "/protokoll/ergebnisse")
    moderator.once("dialog", lambda dialog: dialog.accept())
    click_to(
        moderator,
        moderator.get_by_role("button", name="Protokoll abschließen und zur Genehmigung geben"),
        re.compile(r"/protokoll/ergebnisse#genehmigung$"),
    )
    expect(reader.get_by_role("status")).to_contain_text("schreibgeschützt")
    expect(reader.locator(".cm-content").first).to_have_attribute("contenteditable", "false")
    check_a11y(reader)
