"""Browser tests: the real app in a waitress process, Debian's Chromium driven by Playwright, axe-core on every page.

One server and one browser per test session; every test gets a fresh browser context (no cookies). Every page a
test opens must pass `check_a11y` (tests/e2e/helpers.py); a page left unchecked fails the test, and so do
Content-Security-Policy violations and script errors in the page.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from fallkonferenz import create_app
from fallkonferenz.demo import seed as seed_demo
from fallkonferenz.demo_data import CASES
from fallkonferenz.extensions import db
from fallkonferenz.models import Case

from .helpers import AXE, ROOT, Server, close_watched_page, open_watched_page
from .wsgi import INSTANCE_VARIABLE, e2e_config

HOST = "127.0.0.1"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright's own browser download is not used
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


@pytest.fixture(autouse=True)
def clean():
    """Replaces the per-test wipe of tests/conftest.py: the browser tests never touch the suite's database."""
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_call_passed = report.passed
    return report


# --- the server ---------------------------------------------------------------------------------------------


def seed_instance(instance: Path) -> dict[str, str]:
    """Create the tables, seed the demo data and return the case numbers by the client's family name."""
    app = create_app(e2e_config(instance))
    try:
        with app.app_context():
            db.create_all()
            seed_demo()
            db.session.commit()
            numbers = db.session.scalars(select(Case.number).order_by(Case.id)).all()
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {spec["family_name"]: number for spec, number in zip(CASES, numbers, strict=True)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_ready(proc: subprocess.Popen, port: int, log: Path, timeout: float = 30.0) -> None:
    """Poll /health until the server answers (the only waiting done outside the browser)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the test server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.05)
    raise RuntimeError(f"the test server did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """The app with the demo data in a waitress process of its own, for the whole session."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    cases = seed_instance(instance)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # own SQLite file, see tests/e2e/wsgi.py
    env[INSTANCE_VARIABLE] = str(instance)
    log = instance / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "waitress",
        f"--listen={HOST}:{port}",
        "--threads=4",
        "--call",
        "tests.e2e.wsgi:create_e2e_app",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(proc, port, log)
        yield Server(url=f"http://{HOST}:{port}", cases=cases)
    finally:
        stop(proc)


# --- the browser --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing; `make e2e-deps` installs Debian's chromium package.")
    if not AXE.is_file():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing; `make setup` installs the npm packages.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(request, browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh browser context and page, with axe-core in every document and a watch on what happens."""
    page = open_watched_page(browser, server.url, TIMEOUT_MS)
    passed = False
    try:
        yield page
        passed = getattr(request.node, "e2e_call_passed", False)
    finally:
        problems = close_watched_page(page)
    # Reported only when the test itself passed; a failed test has already said what went wrong.
    if passed and problems:
        pytest.fail("\n".join(problems), pytrace=False)
