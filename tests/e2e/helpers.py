"""What the browser tests do in a page: open it, click on, log in, and check every page with axe-core."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from agenda.demo import meeting_title, meeting_titles
from backlog.demo import STEERING_SERIES, steering_meeting_day
from fallkonferenz.demo import DEMO_PASSWORD
from fallkonferenz.models import utcnow

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


# The demo's held and next case conference, named after their months as the demo seeds them today.
HELD_MEETING, NEXT_MEETING = meeting_titles(utcnow().date())
# The demo's next Lenkungsgruppe-Sitzung, named the same way.
STEERING_MEETING = meeting_title(steering_meeting_day(utcnow().date()), STEERING_SERIES)


@dataclass(frozen=True)
class Server:
    """The running test server and the demo case numbers by the client's family name."""

    url: str
    cases: dict[str, str]

    def case(self, family_name: str) -> str:
        return self.cases[family_name]


@dataclass
class PageWatch:
    """What happened in one page: documents loaded but not checked with axe, CSP violations, script errors."""

    unchecked: str | None = None
    missed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def loaded(self, url: str) -> None:
        if self.unchecked is not None:
            self.missed.append(self.unchecked)
        self.unchecked = url

    def report(self) -> list[str]:
        missed = self.missed + ([self.unchecked] if self.unchecked else [])
        return self.problems + [f"page not checked with check_a11y: {url}" for url in missed]


# Filled by the `page` fixture (tests/e2e/conftest.py) and `open_watched_page`, one entry per open page.
WATCHES: dict[int, PageWatch] = {}


def open_watched_page(browser: Browser, base_url: str, timeout_ms: int) -> Page:
    """One more person at the same time: a fresh context and page set up like the `page` fixture.

    axe-core is in every document and CSP violations and script errors are watched; `close_watched_page`
    closes it and returns what went wrong (pages not checked with axe included).
    """
    context = browser.new_context(base_url=base_url, locale="de-DE", viewport=OFFICE_SCREEN)
    context.set_default_timeout(timeout_ms)
    context.add_init_script(path=AXE)
    page = context.new_page()
    watch = WATCHES[id(page)] = PageWatch()

    def console(msg) -> None:
        if msg.type == "error" and "Content Security Policy" in msg.text:
            watch.problems.append(f"{page.url}: {msg.text}")

    page.on("load", lambda p: watch.loaded(p.url))
    page.on("pageerror", lambda exc: watch.problems.append(f"script error on {page.url}: {exc}"))
    page.on("console", console)
    return page


def close_watched_page(page: Page) -> list[str]:
    """Close a page of `open_watched_page` with its context; returns its problems (empty when all was well)."""
    watch = WATCHES.pop(id(page), None)
    try:
        return watch.report() if watch is not None else []
    finally:
        page.context.close()


# The screen the issue names for everyday office work: every page checked must fit its width.
OFFICE_SCREEN = {"width": 1366, "height": 768}

SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && e.getClientRects().length)
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className ? "." + e.className : ""}`);
}"""


def check_a11y(page: Page) -> None:
    """Run axe-core on the current page; fail on any violation of impact "serious" or "critical", and on a page
    wider than the office screen.

    axe-core is in every page already: the `page` fixture adds it as an init script, which the app's
    Content-Security-Policy (no inline scripts) does not block, unlike a script tag added afterwards.
    """
    page.wait_for_load_state("load")
    violations = page.evaluate(AXE_RUN)
    watch = WATCHES.get(id(page))
    if watch is not None:
        watch.unchecked = None
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe-core: {len(blocking)} serious or critical accessibility violation(s) on {page.url}"]
        for v in blocking:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['url']}>")
            lines.extend(f"    at {target}" for target in v["targets"])
        raise AssertionError("\n".join(lines))
    wide = page.evaluate(SIDEWAYS)
    assert not wide, f"{page.url} scrolls sideways at {OFFICE_SCREEN['width']} px; too wide: {wide}"


def visit(page: Page, path: str, status: int = 200) -> None:
    """Open a page by its address (redirects are followed), expect the HTTP status and check the page with axe."""
    response = page.goto(path)
    assert response is not None, path
    assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
    check_a11y(page)


def click_to(page: Page, control: Locator, path: str | re.Pattern) -> None:
    """Click a link or a form's button, wait for the page it leads to and check that page with axe.

    `path` is where the browser must end up: path, query and fragment exactly, or a pattern searched in the URL.
    """
    with page.expect_event("load"):
        control.click()
    if isinstance(path, str):
        path = re.compile("^https?://[^/]+" + re.escape(path) + "$")
    expect(page).to_have_url(path)
    check_a11y(page)


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the form like a person; ends on the dashboard (checked with axe like the login page)."""
    visit(page, "/anmelden")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    click_to(page, page.get_by_role("button", name="Anmelden"), "/")
