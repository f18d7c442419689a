"""Live-server helpers for the socket tests: a seeded instance, server processes, real Socket.IO editors."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import socketio
from pycrdt import Awareness, Doc, Text

from agenda import items
from agenda import service as agenda_service
from fallkonferenz import create_app
from fallkonferenz.extensions import db
from tests.conftest import instance_config
from tests.factories import PASSWORD, all_categories, make_case, make_consent, make_world

ROOT = Path(__file__).resolve().parents[2]
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_instance(instance: Path) -> dict:
    """Seed a SQLite instance: five agencies, a case with consent for AA only, a conference with two items."""
    app = create_app(instance_config(instance, "sockets.db", shared_db=False))
    with app.app_context():
        db.create_all()
        users = make_world()
        ki = users["KI"]
        closed = make_case(ki, given="Senait", family="Tesfay")  # consent for AA only
        consent = make_consent(closed, ki, all_categories("AA"))
        conference = agenda_service.create_conference(
            ki,
            agenda_service.ConferenceInput(
                "Fallkonferenz Sockets", "fallkonferenz", *_hours_ahead(), location="Raum 1"
            ),
            [u.id for code, u in users.items() if code != "KI"],
        )
        closed_item = items.add_item(
            ki, conference.id, items.ItemInput("", "fallbesprechung", 20, closed.number), confirmed=True
        )
        general = items.add_item(ki, conference.id, items.ItemInput("Verschiedenes", "verschiedenes", 10))
        db.session.commit()
        info = {
            "closed": closed_item.id,
            "general": general.id,
            "consent": consent.id,
            "case": closed.number,
            "users": {code: u.username for code, u in users.items()},
            "conference": conference.id,
            "ja_id": users["JA"].id,
            "ids": {code: u.id for code, u in users.items()},
            "names": {code: u.display_name for code, u in users.items()},
        }
        db.session.remove()
        db.engine.dispose()
    info["instance"] = instance
    return info


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A seeded SQLite instance and the app serving it with Socket.IO in its own process."""
    instance = tmp_path_factory.mktemp("sockets")
    info = seed_instance(instance)
    with serving(instance) as url:
        yield url, info


@contextmanager
def serving(instance: Path, redis_url: str | None = None, name: str = "server"):
    """Run one server process on the instance; stopped by its PID even when the test fails."""
    port = free_port()
    log_path = instance / f"{name}.log"
    args = [sys.executable, "-m", "tests.minutes.serve", str(instance), str(port)] + ([redis_url] if redis_url else [])
    with log_path.open("w") as log:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if requests.get(url + "/health", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(log_path.read_text())
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def two_processes(instance: Path):
    """Two server processes on the instance sharing rooms through Redis (REDIS_URL, else the local default)."""
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    with serving(instance, redis_url, "one") as one, serving(instance, redis_url, "two") as two:
        yield one, two


def _hours_ahead():
    from datetime import timedelta

    from fallkonferenz.models import utcnow

    start = utcnow().replace(microsecond=0) + timedelta(days=1)
    return start, start + timedelta(hours=2)


SESSIONS: list[requests.Session] = []


def login(url: str, username: str) -> requests.Session:
    """Log in through the form; the session is closed after the test (see conftest)."""
    http = requests.Session()
    SESSIONS.append(http)
    token = CSRF_RE.search(http.get(url + "/anmelden").text).group(1)
    resp = http.post(
        url + "/anmelden", data={"username": username, "password": PASSWORD, "csrf_token": token}, allow_redirects=False
    )
    assert resp.status_code == 302
    return http


def _in_order(client: socketio.Client, wire: list | None = None) -> None:
    """Handle incoming messages one after another, as a browser does; keep each raw message in `wire` if given.

    The Python client hands each Engine.IO message to a new thread, so a binary attachment can overtake the
    packet it belongs to; the server (and socket.io in the browser) process a connection's messages in order.
    """
    eio = client.eio
    trigger = eio._trigger_event

    def ordered(event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
            if wire is not None:
                wire.extend(args)
        return trigger(event, *args, **kwargs)

    eio._trigger_event = ordered


class Editor:
    """A real Socket.IO client with a local Yjs document, recording every event it receives."""

    def __init__(self, url: str, http: requests.Session, origin: str | None = None):
        self.sio = socketio.Client(reconnection=False)
        self.wire: list[str | bytes] = []  # every Engine.IO message received, as it came over the connection
        _in_order(self.sio, self.wire)
        self.doc = Doc()
        self.text = self.doc.get("text", type=Text)
        self.events: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        for name in ("update", "evicted", "awareness", "record", "attendance", "hint", "closing"):
            self.sio.on(name, self._record(name), namespace="/minutes")
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        headers = {"Cookie": cookie}
        # The WebSocket client sends the page's own Origin; a foreign one is added on top, and the
        # long-polling transport sends none at all.
        transports = ["polling"] if origin == "" else ["websocket"]
        if origin:
            headers["Origin"] = origin
        self.sio.connect(url, namespaces=["/minutes"], headers=headers, transports=transports, wait_timeout=5)

    def _record(self, name):
        def handler(data):
            with self.lock:
                self.events.append((name, data))
            if name == "update":
                self.doc.apply_update(data["update"])

        return handler

    def received(self, name: str) -> list[dict]:
        with self.lock:
            return [data for event, data in self.events if event == name]

    def heard(self, text: str) -> bool:
        """Whether `text` came over this connection at all, in any message."""
        needles = {text.encode(), json.dumps(text)[1:-1].encode()}  # as is, or JSON-escaped
        raw = [m if isinstance(m, bytes) else str(m).encode() for m in list(self.wire)]
        return any(needle in message for needle in needles for message in raw)

    def call(self, event: str, data: dict):
        return self.sio.call(event, data, namespace="/minutes", timeout=10)

    def join(self, item: int) -> dict:
        ack = self.call("join", {"item": item, "sv": self.doc.get_state()})
        if ack.get("ok"):
            self.doc.apply_update(ack["update"])
        return ack

    def type(self, item: int, text: str, uid: str) -> dict:
        before = self.doc.get_state()
        self.text.insert(len(str(self.text)), text)
        return self.call("update", {"item": item, "id": uid, "update": self.doc.get_update(before)})

    def close(self):
        """Disconnect and close the WebSocket underneath (after a killed server it would stay open)."""
        with contextlib.suppress(Exception):
            self.sio.disconnect()
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()


def wait_for(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@contextmanager
def editors(url: str, info: dict, *codes: str):
    """Logged-in editors of these agencies' users, closed after the block even when it fails."""
    opened = [Editor(url, login(url, info["users"][code])) for code in codes]
    try:
        yield opened
    finally:
        for editor in opened:
            editor.close()


def awareness_update(client_id: int, state: dict | None) -> bytes:
    """What a browser sends as its presence: a y-protocols awareness update of one Yjs client id."""
    awareness = Awareness(Doc(client_id=client_id))
    awareness.set_local_state(state)
    return awareness.encode_awareness_update([client_id])


def presence_seen(editor: Editor) -> dict:
    """The presence states an editor holds after every awareness update it received."""
    awareness = Awareness(Doc())
    for data in editor.received("awareness"):
        awareness.apply_awareness_update(data["state"], "remote")
    return awareness.states
