"""Live minutes benchmark: fan-out latency, two processes over Redis, cold join, persistence on and off.

Every figure is a ratio to a baseline measured in the same run:

1. fan-out: five authors type five real Yjs updates per second each into the general item, 10 / 25 / 50
   receivers on the same item; delivery latency (author's send → receiver's arrival, one process clock) of the
   app against a bare Flask-SocketIO relay (same async mode, same server, same clients, same rates);
2. the fan-out at 25 receivers over two app processes sharing rooms through Redis, against (1);
3. the first join of an item whose log held 50,000 updates, after compaction, in a fresh server process, and
   in one that has served another join, against loading the snapshot alone with pycrdt;
4. the fan-out at 25 receivers with the database on disk (on) against the same server with its database
   on tmpfs (off: nothing waits for the disk; see bench/MINUTES.md).

Run: python -m bench.minutes  (about three minutes on two cores; writes bench/results/minutes.json).
Exit code 0 when the run completed, also when a target is missed (printed as MISSED); 1 when the run failed.
The bare relay is served by this module, too: python -m bench.minutes --relay <port>.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import secrets
import selectors
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "minutes.json"
NAMESPACE = "/minutes"

AUTHORS = 5
RATE = 5.0  # updates per second and author
RECEIVER_COUNTS = (10, 25, 50)
SPLIT_RECEIVERS = 25
EXTRA_USERS_PER_AGENCY = 3  # receivers log in as these 15 case workers; several sockets per user
COLD_UPDATES = 50_000
COLD_REPEATS = 5
DRAIN_SECONDS = 5.0
TARGETS = {
    "fanout_p95": 1.5,  # app p95 / relay p95, at each receiver count
    "fanout_p99": 2.0,  # app p99 / relay p99
    "redis_p95": 1.3,  # two processes p95 / one process p95 at 25 receivers
    "cold_join": 1.5,  # first join ack of an item the server has not loaded / loading the snapshot alone
    "persistence_p95": 1.1,  # database on disk p95 / database on tmpfs p95 at 25 receivers
}


# -- the bare relay (baseline) --------------------------------------------------------------------------


def serve_relay(port: int) -> None:
    """A bare Flask-SocketIO relay: 'join' joins the room, 'update' re-emits to the room (not the sender) and acks."""
    from flask import Flask, request
    from flask_socketio import Namespace, SocketIO, join_room

    from fallkonferenz.serving import serve

    app = Flask("relay")
    sio = SocketIO(app, async_mode="threading", manage_session=False, max_http_buffer_size=2 * 1024 * 1024)

    class Relay(Namespace):
        def on_connect(self, auth=None):
            return True

        def on_join(self, data):
            join_room(f"item:{data['item']}")
            return {"ok": True, "item": data["item"]}

        def on_update(self, data):
            sio.emit("update", data, to=f"item:{data['item']}", skip_sid=request.sid, namespace=NAMESPACE)
            return {"ok": True, "id": data["id"]}

    sio.on_namespace(Relay(NAMESPACE))
    app.add_url_rule("/health", "health", lambda: "ok")
    # The app's own server settings: TCP_NODELAY on every connection, startup objects frozen for the collector.
    serve(app, "127.0.0.1", port, log_output=False, sio=sio)


# -- server processes ---------------------------------------------------------------------------------


@contextmanager
def server(module: str, before: list[str], log_path: Path, after: tuple[str, ...] = ()):
    """Start `python -m module *before <port> *after`, wait for /health, yield (pid, url); stopped by its PID."""
    from tests.minutes.live import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        args = [sys.executable, "-m", module, *before, str(port), *after]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
                try:
                    if requests.get(url + "/health", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not come up: {log_path.read_text()[-2000:]}")
                time.sleep(0.05)
            yield proc.pid, url
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def app_server(instance: Path, log_name: str, redis_url: str | None = None):
    """The app as the socket tests serve it: tests.minutes.serve <instance> <port> [redis url]."""
    after = (redis_url,) if redis_url else ()
    return server("tests.minutes.serve", [str(instance)], instance / f"{log_name}.log", after)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy so far (Linux /proc/stat): to see load from elsewhere."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def filesystem_of(path: Path) -> str:
    """The filesystem type of the mount a path lives on (from /proc/mounts)."""
    best, kind = "", "unknown"
    with contextlib.suppress(OSError), open("/proc/mounts") as fh:
        for line in fh:
            parts = line.split()
            mount, fstype = parts[1], parts[2]
            if str(path.resolve()).startswith(mount) and len(mount) > len(best):
                best, kind = mount, fstype
    return kind


# -- the seeded instance ------------------------------------------------------------------------------


def instance_app(instance: Path):
    from fallkonferenz import create_app
    from tests.conftest import instance_config

    return create_app(instance_config(instance, "sockets.db", shared_db=False))


def author_updates(count: int, authors: int, seed: int = 7) -> list[bytes]:
    """Real small Yjs updates: `authors` documents typing words, nine in ten at their end, one anywhere."""
    from pycrdt import Doc, Text

    rng = random.Random(seed)
    docs = [Doc(client_id=1000 + i) for i in range(authors)]
    texts = [d.get("text", type=Text) for d in docs]
    lengths = [0] * authors
    updates = []
    for n in range(count):
        i = n % authors
        before = docs[i].get_state()
        pos = lengths[i] if rng.random() < 0.9 else rng.randrange(lengths[i] + 1)
        word = rng.choice(("Hilfeplan ", "Termin ", "Sprachkurs ", "Wohnung ", "Schule ", "vereinbart. "))
        texts[i].insert(pos, word)
        lengths[i] += len(word)
        updates.append(docs[i].get_update(before))
    return updates


def extend_instance(app, info: dict, cold_updates: int) -> dict:
    """Fifteen more case workers as participants; a report item whose log held `cold_updates` updates, compacted."""
    from sqlalchemy import insert, select

    from agenda import items
    from agenda import service as agenda_service
    from fallkonferenz.auth import service as auth_service
    from fallkonferenz.extensions import db
    from fallkonferenz.models import User
    from minutes import service
    from minutes.models import MinutesSnapshot, MinutesUpdate
    from tests.factories import CODES, PASSWORD

    out: dict = {}
    with app.app_context():
        ki = db.session.scalar(select(User).where(User.username == info["users"]["KI"]))
        extra = [
            auth_service.create_user(
                username=f"{code.lower()}.protokoll{k}",
                display_name=f"Protokoll {code} {k}",
                agency_code=code,
                role="case_worker",
                password=PASSWORD,
            )
            for code in CODES
            for k in range(1, EXTRA_USERS_PER_AGENCY + 1)
        ]
        db.session.flush()
        agenda_service.add_participants(ki, info["conference"], [u.id for u in extra])
        report = items.add_item(ki, info["conference"], items.ItemInput("Bericht der Steuerungsgruppe", "bericht", 10))
        db.session.commit()
        out["receivers"] = [u.username for u in extra]
        out["report"] = report.id
        names = list(info["users"].values())
        author_ids = [db.session.scalar(select(User.id).where(User.username == name)) for name in names]

        started = time.perf_counter()
        updates = author_updates(cold_updates, AUTHORS)
        out["generate_s"] = time.perf_counter() - started
        started = time.perf_counter()
        chunk = 5000
        for first in range(0, len(updates), chunk):
            rows = [
                {
                    "agenda_item_id": report.id,
                    "client_update_id": f"seed-{n}",
                    "user_id": author_ids[n % len(author_ids)],
                    "data": updates[n],
                }
                for n in range(first, min(first + chunk, len(updates)))
            ]
            db.session.execute(insert(MinutesUpdate), rows)
            db.session.commit()
        out["insert_s"] = time.perf_counter() - started
        started = time.perf_counter()
        service.compact(report.id)
        db.session.commit()
        out["compact_s"] = time.perf_counter() - started
        out["pending_after_compaction"] = service.pending_count(report.id)
        out["snapshot"] = db.session.scalar(
            select(MinutesSnapshot.state)
            .where(MinutesSnapshot.agenda_item_id == report.id)
            .order_by(MinutesSnapshot.upto_update_id.desc())
            .limit(1)
        )
        out["updates"] = updates
        db.session.remove()
    return out


def compact_general(app, item_id: int) -> None:
    """Fold the general item's log before a scenario, so none of them crosses the background compaction."""
    from fallkonferenz.extensions import db
    from minutes import service

    with app.app_context():
        service.compact(item_id)
        db.session.commit()
        db.session.remove()


def checkpoint(instance: Path) -> int:
    """Fold the write-ahead log that seeding left into the database file; returns the log's size before, in KB.

    Seeding writes some 50,000 rows and deletes them again, and the benchmark process keeps its connections open,
    so that log can still be there when the servers start. The first commit past SQLite's checkpoint threshold
    would then write it all back and sync the file, in the middle of a measured round.
    """
    wal = instance / "sockets.db-wal"
    before = wal.stat().st_size // 1024 if wal.exists() else 0
    con = sqlite3.connect(instance / "sockets.db")
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return before


def copy_instance(source: Path, target: Path) -> None:
    """A consistent copy of the instance's database (SQLite backup API) and its keyring."""
    target.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source / "sockets.db")
    dst = sqlite3.connect(target / "sockets.db")
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    shutil.copy2(source / "keyring.json", target / "keyring.json")


# -- clients ------------------------------------------------------------------------------------------


class Refused(RuntimeError):
    """The server refused the namespace connection or closed it."""


class Wire:
    """A Socket.IO (protocol 5, Engine.IO 4) client on one WebSocket, read only by the thread that owns it.

    The python-socketio client handles every incoming message in a new thread; a binary event's header and its
    attachment can then be taken in the wrong order (the update is lost at the client, not at the server), and
    dozens of such clients in one process queue on the GIL. This client reads its frames in order and notes
    the arrival time of each 'update' when its attachment (the Yjs update) has arrived.
    """

    def __init__(self, url: str, http: requests.Session | None = None):
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items()) if http is not None else ""
        host = url.split("//", 1)[1]
        self.ws = websocket.create_connection(
            f"ws://{host}/socket.io/?EIO=4&transport=websocket",
            header=[f"Cookie: {cookie}"] if cookie else [],
            origin=url,  # the page's own origin, as the browser sends it
            timeout=10,
        )
        self.arrivals: dict[str, float] = {}
        self.duplicates = 0
        self.evicted = 0
        self.next_id = 0
        self._pending = None  # a binary packet waiting for its attachments
        if not self.ws.recv().startswith("0"):
            raise Refused("no Engine.IO handshake")
        self.ws.send(f"40{NAMESPACE},")
        while True:
            text = self.ws.recv()
            if text.startswith(f"40{NAMESPACE}"):
                break
            if text.startswith(f"44{NAMESPACE}") or text.startswith("1"):
                raise Refused(text)
            self._text(text, time.perf_counter())

    # -- sending ------------------------------------------------------------------------------------

    def emit(self, event: str, data: dict) -> int:
        """Send an event with an acknowledgement id; bytes values travel as binary attachments."""
        self.next_id += 1
        attachments: list[bytes] = []
        body = {}
        for key, value in data.items():
            if isinstance(value, bytes | bytearray):
                body[key] = {"_placeholder": True, "num": len(attachments)}
                attachments.append(bytes(value))
            else:
                body[key] = value
        payload = json.dumps([event, body], separators=(",", ":"))
        if attachments:
            self.ws.send(f"45{len(attachments)}-{NAMESPACE},{self.next_id}{payload}")
            for blob in attachments:
                self.ws.send_binary(blob)
        else:
            self.ws.send(f"42{NAMESPACE},{self.next_id}{payload}")
        return self.next_id

    def call(self, event: str, data: dict):
        """Emit and read until the acknowledgement comes (other frames are handled on the way)."""
        wanted = self.emit(event, data)
        while True:
            done = self.read()
            if done is not None and done[0] == wanted:
                return done[1]

    # -- receiving ----------------------------------------------------------------------------------

    def read(self):
        """Read one frame; returns (ack id, ack data) when an acknowledgement is complete, else None."""
        opcode, data = self.ws.recv_data()
        at = time.perf_counter()
        if opcode == websocket.ABNF.OPCODE_BINARY:
            if self._pending is None:
                raise Refused("binary frame without a header")
            kind, ack, payload, blobs, need = self._pending
            blobs.append(data)
            if len(blobs) < need:
                return None
            self._pending = None
            return self._complete(kind, ack, _fill(payload, blobs), at)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise Refused("connection closed")
        return self._text(data.decode() if isinstance(data, bytes) else data, at)

    def _text(self, text: str, at: float):
        if text.startswith("2"):  # Engine.IO ping
            self.ws.send("3")
            return None
        if text.startswith("1"):
            raise Refused("connection closed by the server")
        if not text.startswith("4"):
            return None
        kind, ack, count, payload = _parse(text[1:])
        if kind in (1, 4):
            raise Refused(text)
        if kind in (5, 6) and count:
            self._pending = (kind, ack, payload, [], count)
            return None
        return self._complete(kind, ack, payload, at)

    def _complete(self, kind: int, ack, payload, at: float):
        if kind in (3, 6):
            return ack, (payload[0] if payload else None)
        if kind in (2, 5):  # an update has arrived when its last attachment has: then it can be applied
            self._note(kind, payload, at)
        return None

    def _note(self, kind: int, payload, at: float) -> None:
        if kind not in (2, 5) or not payload:
            return
        if payload[0] == "evicted":
            self.evicted += 1
        elif payload[0] == "update" and len(payload) > 1 and isinstance(payload[1], dict):
            uid = payload[1].get("id")
            if uid in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[uid] = at

    def join(self, item: int) -> dict:
        from pycrdt import Doc

        return self.call("join", {"item": item, "sv": Doc().get_state()})

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.send(f"41{NAMESPACE},")
        with contextlib.suppress(Exception):
            self.ws.close(timeout=1)


def _parse(packet: str):
    """A Socket.IO packet: (type, ack id, attachment count, JSON data); the namespace is always ours."""
    kind, i, count = int(packet[0]), 1, 0
    if kind in (5, 6):
        dash = packet.index("-", i)
        count, i = int(packet[i:dash]), dash + 1
    if packet.startswith("/", i):
        comma = packet.find(",", i)
        i = len(packet) if comma == -1 else comma + 1
    j = i
    while j < len(packet) and packet[j].isdigit():
        j += 1
    ack = int(packet[i:j]) if j > i else None
    return kind, ack, count, (json.loads(packet[j:]) if j < len(packet) else None)


def _fill(value, blobs: list[bytes]):
    if isinstance(value, dict):
        if value.get("_placeholder") is True and "num" in value:
            return blobs[value["num"]]
        return {k: _fill(v, blobs) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, blobs) for v in value]
    return value


class Pump:
    """One thread reads every receiver's socket as frames arrive (selectors), noting arrival times."""

    def __init__(self, wires: list[Wire]):
        self.wires = wires
        self.failures: list[str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for wire in self.wires:
            selector.register(wire.ws.sock, selectors.EVENT_READ, wire)
        try:
            while not self.stopping.is_set():
                for key, _ in selector.select(0.05):
                    try:
                        key.data.read()
                    except Exception as exc:  # noted as a failure; its missing updates count as lost
                        self.failures.append(repr(exc))
                        selector.unregister(key.fileobj)
        finally:
            selector.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=5)


def connect_all(specs: list[tuple[str, requests.Session | None]]) -> list[Wire]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda spec: Wire(*spec), specs))


def close_all(wires: list[Wire]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(Wire.close, wires))


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fanout(
    label: str,
    item: int,
    authors: list[tuple[str, requests.Session | None]],
    receivers: list[tuple[str, requests.Session | None]],
    pids: list[int],
    warmup: float,
    window: float,
) -> dict:
    """Authors type at RATE each; every receiver must get every acknowledged update; latencies after the warm-up."""
    from pycrdt import Doc, Text

    run = secrets.token_hex(3)
    writers: list[Wire] = []
    readers: list[Wire] = []
    try:
        readers = connect_all(receivers)
        writers = connect_all(authors)
        for wire in readers + writers:
            ack = wire.join(item)
            if not ack.get("ok"):
                raise RuntimeError(f"{label}: join refused: {ack}")
        time.sleep(0.5)

        sent: dict[str, float] = {}
        acks: dict[str, tuple[bool, float, str]] = {}
        period = 1.0 / RATE
        start = time.perf_counter() + 0.2
        stop = start + warmup + window

        def type_loop(index: int, wire: Wire) -> None:
            doc = Doc()  # the author's own document: a real Yjs update per keystroke batch
            text = doc.get("text", type=Text)
            k = 0
            while True:
                at = start + index * period / len(writers) + k * period
                if at >= stop:
                    return
                delay = at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                before = doc.get_state()
                text.insert(len(text), f"w{k} ")
                update = doc.get_update(before)
                uid = f"b{run}-{index}-{k}"
                sent_at = time.perf_counter()
                sent[uid] = sent_at
                try:
                    ack = wire.call("update", {"item": item, "id": uid, "update": update})
                    acks[uid] = (bool(ack.get("ok")), time.perf_counter() - sent_at, "" if ack.get("ok") else str(ack))
                except Exception as exc:  # a timeout or a lost connection is a result, not a crash
                    acks[uid] = (False, time.perf_counter() - sent_at, repr(exc))
                    return
                k += 1

        with Pump(readers) as pump:
            cpu_before = [cpu_seconds(pid) for pid in pids]
            own_before, busy_before, wall_before = own_cpu_seconds(), busy_cpu_seconds(), time.perf_counter()
            threads = [threading.Thread(target=type_loop, args=(i, w)) for i, w in enumerate(writers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - wall_before
            server_cpu = sum(cpu_seconds(pid) for pid in pids) - sum(cpu_before)
            client_cpu = own_cpu_seconds() - own_before
            other_cpu = busy_cpu_seconds() - busy_before - server_cpu - client_cpu

            delivered = [uid for uid, (ok, _, _) in acks.items() if ok]
            deadline = time.monotonic() + DRAIN_SECONDS
            while time.monotonic() < deadline and not all(all(uid in r.arrivals for uid in delivered) for r in readers):
                time.sleep(0.05)

        measured = {uid for uid in delivered if sent[uid] >= start + warmup}
        latencies = [(r.arrivals[uid] - sent[uid]) * 1000 for r in readers for uid in measured if uid in r.arrivals]
        lost = sum(1 for r in readers for uid in delivered if uid not in r.arrivals)
        errors = [msg for ok, _, msg in acks.values() if not ok]
        ack_ms = [seconds * 1000 for uid, (ok, seconds, _) in acks.items() if ok and uid in measured]
        return {
            "label": label,
            "receivers": len(readers),
            "authors": len(writers),
            "sent": len(sent),
            "acked": len(delivered),
            "measured": len(measured),
            "latencies": latencies,
            "ack_ms": ack_ms,
            "lost": lost,
            "errors": errors + pump.failures,
            "duplicates": sum(r.duplicates for r in readers),
            "evicted": sum(w.evicted for w in readers + writers),
            "server_cpu_s": server_cpu,
            "client_cpu_s": client_cpu,
            "other_cpu_s": other_cpu,
            "wall_s": wall,
        }
    finally:
        close_all(readers + writers)
        time.sleep(0.3)


def summarize(label: str, rounds: list[dict]) -> dict:
    """Pool the rounds of one scenario: percentiles over every measured delivery of every round."""
    latencies = [x for r in rounds for x in r["latencies"]]
    ack_ms = [x for r in rounds for x in r["ack_ms"]]
    wall = sum(r["wall_s"] for r in rounds)
    errors = [e for r in rounds for e in r["errors"]]
    return {
        "label": label,
        "rounds": len(rounds),
        "receivers": rounds[0]["receivers"],
        "authors": rounds[0]["authors"],
        "updates_sent": sum(r["sent"] for r in rounds),
        "updates_acked": sum(r["acked"] for r in rounds),
        "updates_measured": sum(r["measured"] for r in rounds),
        "deliveries_measured": len(latencies),
        "lost": sum(r["lost"] for r in rounds),
        "errors": len(errors),
        "error_sample": errors[:3],
        "duplicates": sum(r["duplicates"] for r in rounds),
        "evicted": sum(r["evicted"] for r in rounds),
        "p50_ms": _round(percentile(latencies, 50)),
        "p95_ms": _round(percentile(latencies, 95)),
        "p99_ms": _round(percentile(latencies, 99)),
        "max_ms": _round(max(latencies, default=None)),
        "p95_ms_per_round": [_round(percentile(r["latencies"], 95)) for r in rounds],
        "ack_p50_ms": _round(percentile(ack_ms, 50)),
        "ack_p95_ms": _round(percentile(ack_ms, 95)),
        "server_cpu_cores": round(sum(r["server_cpu_s"] for r in rounds) / wall, 2),
        "client_cpu_cores": round(sum(r["client_cpu_s"] for r in rounds) / wall, 2),
        # everything else on the machine meanwhile (Redis in scenario 2); well above 0.1 means a disturbed run
        "other_cpu_cores": round(sum(r["other_cpu_s"] for r in rounds) / wall, 2),
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else round(a / b, 2)


def redis_available(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


# -- the run ------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--relay", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of typing before measuring (default 1)")
    parser.add_argument("--window", type=float, default=7.0, help="measured seconds of typing per scenario (7)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds per scenario, pooled (4)")
    parser.add_argument("--cold-updates", type=int, default=COLD_UPDATES, help="updates in the compacted log")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--keep", action="store_true", help="keep the instance directory (database, server logs)")
    args = parser.parse_args(argv)
    if args.relay:
        serve_relay(args.relay)
        return 0
    instance = Path(tempfile.mkdtemp(prefix="fk-minutes-bench-"))
    shm = Path(tempfile.mkdtemp(prefix="fk-minutes-bench-", dir="/dev/shm")) if Path("/dev/shm").is_dir() else None
    failed = False
    try:
        report = run(instance, shm, args)
    except Exception as exc:
        print(f"FAILED: {exc!r}", file=sys.stderr)
        failed = True  # the servers' logs say why: keep them
        return 1
    finally:
        if shm is not None:
            shutil.rmtree(shm, ignore_errors=True)
        if args.keep or failed:
            print(f"instance kept in {instance}")
        else:
            shutil.rmtree(instance, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(report)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0


def run(instance: Path, shm: Path | None, args) -> dict:
    from tests.minutes.live import login, seed_instance

    began = time.perf_counter()
    print(f"seeding {instance} ({filesystem_of(instance)}) …", flush=True)
    info = seed_instance(instance)
    app = instance_app(instance)
    extra = extend_instance(app, info, args.cold_updates)
    general = info["general"]
    author_names = list(info["users"].values())  # KI, JC, AA, ABH, JA: one author per agency
    print(
        f"  {args.cold_updates} updates generated in {extra['generate_s']:.1f} s,"
        f" inserted in {extra['insert_s']:.1f} s, compacted in {extra['compact_s']:.1f} s"
        f" (snapshot {len(extra['snapshot'])} bytes)",
        flush=True,
    )
    print(f"  write-ahead log left by seeding: {checkpoint(instance)} KB, checkpointed", flush=True)
    off_app = None
    if shm is not None:
        compact_general(app, general)
        copy_instance(instance, shm)
        off_app = instance_app(shm)
    report: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.system(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "authors": AUTHORS,
            "updates_per_second_per_author": RATE,
            "warmup_s": args.warmup,
            "window_s": args.window,
            "rounds": args.rounds,
            "drain_s": DRAIN_SECONDS,
            "participants": len(author_names) + len(extra["receivers"]),
            "instance_filesystem": filesystem_of(instance),
            "off_filesystem": filesystem_of(shm) if shm else None,
        },
        "targets": TARGETS,
        "seeding": {
            "cold_updates": args.cold_updates,
            "generate_s": round(extra["generate_s"], 2),
            "insert_s": round(extra["insert_s"], 2),
            "compact_s": round(extra["compact_s"], 2),
        },
    }

    def specs(urls: list[str], sessions: dict | None, names: list[str], count: int):
        return [(urls[i % len(urls)], sessions[names[i % len(names)]] if sessions else None) for i in range(count)]

    def app_sessions(url: str) -> dict[str, requests.Session]:
        return {name: login(url, name) for name in author_names + extra["receivers"]}

    def measure(label, url_authors, url_receivers, sessions, count, pids):
        return fanout(
            label,
            general,
            specs(url_authors, sessions, author_names, AUTHORS),
            specs(url_receivers, sessions, extra["receivers"], count),
            pids,
            args.warmup,
            args.window,
        )

    # 1 and 4. Fan-out: relay, app and (at 25 receivers) the app on tmpfs, interleaved round by round.
    raw: dict[str, list[dict]] = {}
    with contextlib.ExitStack() as stack:
        relay_pid, relay_url = stack.enter_context(server("bench.minutes", ["--relay"], instance / "relay.log"))
        app_pid, app_url = stack.enter_context(app_server(instance, "app"))
        sessions = app_sessions(app_url)
        if shm is not None:
            off_pid, off_url = stack.enter_context(app_server(shm, "tmpfs"))
            off_sessions = app_sessions(off_url)
        for count in RECEIVER_COUNTS:
            for round_ in range(args.rounds):
                print(f"fan-out, {count} receivers, round {round_ + 1}: relay, app", end="", flush=True)
                raw.setdefault(f"relay {count}", []).append(
                    measure(f"relay {count}", [relay_url], [relay_url], None, count, [relay_pid])
                )
                compact_general(app, general)
                raw.setdefault(f"app {count}", []).append(
                    measure(f"app {count}", [app_url], [app_url], sessions, count, [app_pid])
                )
                if count == SPLIT_RECEIVERS and shm is not None:
                    print(", tmpfs", end="", flush=True)
                    compact_general(off_app, general)
                    raw.setdefault("tmpfs", []).append(
                        measure(f"tmpfs {count}", [off_url], [off_url], off_sessions, count, [off_pid])
                    )
                print(flush=True)
    report["fanout"] = []
    for count in RECEIVER_COUNTS:
        relay, real = summarize(f"relay {count}", raw[f"relay {count}"]), summarize(f"app {count}", raw[f"app {count}"])
        report["fanout"].append(
            {
                "receivers": count,
                "relay": relay,
                "app": real,
                "p95_ratio": ratio(real["p95_ms"], relay["p95_ms"]),
                "p99_ratio": ratio(real["p99_ms"], relay["p99_ms"]),
            }
        )
    single = next(row["app"] for row in report["fanout"] if row["receivers"] == SPLIT_RECEIVERS)
    if shm is not None:
        off = summarize(f"tmpfs {SPLIT_RECEIVERS}", raw["tmpfs"])
        report["persistence"] = {"on": single, "off": off, "p95_ratio": ratio(single["p95_ms"], off["p95_ms"])}
    else:
        report["persistence"] = {"skipped": "no /dev/shm"}

    # 2. Two processes sharing rooms through Redis: authors on A, receivers alternately on A and B.
    if redis_available(args.redis_url):
        rounds = []
        with (
            app_server(instance, "redis-a", args.redis_url) as (a_pid, a_url),
            app_server(instance, "redis-b", args.redis_url) as (b_pid, b_url),
        ):
            sessions = app_sessions(a_url)  # the session lives in the shared database: valid on B as well
            for round_ in range(args.rounds):
                print(f"two processes over Redis, {SPLIT_RECEIVERS} receivers, round {round_ + 1}", flush=True)
                compact_general(app, general)
                label, count = f"redis {SPLIT_RECEIVERS}", SPLIT_RECEIVERS
                rounds.append(measure(label, [a_url], [a_url, b_url], sessions, count, [a_pid, b_pid]))
        split = summarize(f"redis {SPLIT_RECEIVERS}", rounds)
        report["redis"] = {
            "two_processes": split,
            "one_process_p95_ms": single["p95_ms"],
            "p95_ratio": ratio(split["p95_ms"], single["p95_ms"]),
        }
    else:
        report["redis"] = {"skipped": f"no Redis at {args.redis_url}"}

    # 3. Cold join of the compacted report item, each time in a fresh server process.
    print(f"cold join ({args.cold_updates} updates, compacted)", flush=True)
    report["cold_join"] = cold_join(instance, info, extra, login)

    for each in (app, off_app):
        if each is not None:
            with each.app_context():
                from fallkonferenz.extensions import db

                db.session.remove()
                db.engine.dispose()
    report["verdicts"] = verdicts(report)
    report["seconds"] = round(time.perf_counter() - began, 1)
    return report


def cold_join(instance: Path, info: dict, extra: dict, login) -> dict:
    """First join of the report item in a fresh process against loading its snapshot alone (same bytes)."""
    from pycrdt import Doc

    snapshot = extra["snapshot"]
    loads = []
    for _ in range(15):
        started = time.perf_counter()
        doc = Doc()
        doc.apply_update(snapshot)
        doc.get_update()
        loads.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    doc = Doc()
    for update in extra["updates"]:
        doc.apply_update(update)
    replay_ms = (time.perf_counter() - started) * 1000
    cold, warm, item_cold = [], [], []
    for repeat in range(COLD_REPEATS * 2):
        with app_server(instance, f"cold-{repeat}") as (_pid, url):
            client = Wire(url, login(url, info["users"]["KI"]))
            try:
                if repeat % 2:  # the process has served a join already; only this item is cold
                    assert client.join(info["general"])["ok"]
                started = time.perf_counter()
                ack = client.join(extra["report"])
                elapsed = (time.perf_counter() - started) * 1000
                if not ack.get("ok") or len(ack["update"]) < len(snapshot) // 2:
                    raise RuntimeError(f"cold join failed: {str(ack)[:200]}")
                (item_cold if repeat % 2 else cold).append(elapsed)
                started = time.perf_counter()
                assert client.join(extra["report"])["ok"]
                warm.append((time.perf_counter() - started) * 1000)
            finally:
                client.close()
    load = statistics.median(loads)
    return {
        "snapshot_bytes": len(snapshot),
        "snapshot_load_ms": round(load, 2),
        "replay_log_ms": round(replay_ms, 1),
        "first_join_fresh_process_ms": round(statistics.median(cold), 2),
        "first_join_fresh_process_all_ms": [round(x, 2) for x in cold],
        "item_cold_after_other_join_ms": round(statistics.median(item_cold), 2),
        "item_cold_after_other_join_all_ms": [round(x, 2) for x in item_cold],
        "warm_join_ms": round(statistics.median(warm), 2),
        "ratio": ratio(statistics.median(cold), load),
        "item_cold_ratio": ratio(statistics.median(item_cold), load),
    }


def verdicts(report: dict) -> list[dict]:
    rows = []

    def add(name, value, target, extra_ok=True, note=""):
        met = value is not None and value <= target and extra_ok
        rows.append({"target": name, "value": value, "limit": target, "met": met, "note": note})

    for row in report["fanout"]:
        clean = all(row[k]["lost"] == 0 and row[k]["errors"] == 0 for k in ("app", "relay"))
        note = "" if clean else f"lost {row['app']['lost']}, errors {row['app']['errors']}"
        add(f"fan-out {row['receivers']} p95 / relay", row["p95_ratio"], TARGETS["fanout_p95"], clean, note)
        add(f"fan-out {row['receivers']} p99 / relay", row["p99_ratio"], TARGETS["fanout_p99"], clean, note)
    redis = report["redis"]
    if "skipped" not in redis:
        two = redis["two_processes"]
        clean = two["lost"] == 0 and two["errors"] == 0
        add("Redis, 2 processes p95 / 1 process", redis["p95_ratio"], TARGETS["redis_p95"], clean)
    persistence = report["persistence"]
    if "skipped" not in persistence:
        clean = persistence["off"]["lost"] == 0 and persistence["off"]["errors"] == 0
        add("persistence on p95 / off (tmpfs)", persistence["p95_ratio"], TARGETS["persistence_p95"], clean)
    cold = report["cold_join"]
    add("cold join / snapshot load", cold["item_cold_ratio"], TARGETS["cold_join"])
    # Also the very first join of a fresh process (a target again since the server prepares the join's statements
    # before its first client; from 2026-11-29 until then, shown for reference only).
    add("cold join, fresh process / snapshot load", cold["ratio"], TARGETS["cold_join"])
    return rows


def print_table(report: dict) -> None:
    def fmt(value, suffix=""):
        return "—" if value is None else f"{value:.2f}{suffix}"

    print("\nFan-out (5 authors × 5 updates/s; latency author send → receiver arrival, ms)")
    header = f"{'scenario':<14}{'recv':>5}{'deliv':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}{'lost':>6}"
    header += f"{'err':>5}{'ack p95':>9}{'srv cpu':>9}{'cli cpu':>9}{'other':>7}"
    print(header)
    rows = []
    for row in report["fanout"]:
        rows += [row["relay"], row["app"]]
    if "two_processes" in report["redis"]:
        rows.append(report["redis"]["two_processes"])
    if "off" in report["persistence"]:
        rows.append(report["persistence"]["off"])
    for r in rows:
        print(
            f"{r['label']:<14}{r['receivers']:>5}{r['deliveries_measured']:>8}{fmt(r['p50_ms']):>8}"
            f"{fmt(r['p95_ms']):>8}{fmt(r['p99_ms']):>8}{fmt(r['max_ms']):>9}{r['lost']:>6}{r['errors']:>5}"
            f"{fmt(r['ack_p95_ms']):>9}{fmt(r['server_cpu_cores']):>9}{fmt(r['client_cpu_cores']):>9}"
            f"{fmt(r['other_cpu_cores']):>7}"
        )
    disturbed = [r["label"] for r in rows if r["other_cpu_cores"] > 0.25 and not r["label"].startswith("redis")]
    if disturbed:
        print(f"WARNING: other load on the machine during {', '.join(disturbed)}: figures not representative")
    cold = report["cold_join"]
    print(
        f"\nCold join ({report['seeding']['cold_updates']} updates, compacted;"
        f" snapshot {cold['snapshot_bytes']} bytes):"
        f" first join in a fresh process {cold['first_join_fresh_process_ms']:.2f} ms,"
        f" item cold after another join {cold['item_cold_after_other_join_ms']:.2f} ms,"
        f" warm {cold['warm_join_ms']:.2f} ms; snapshot load alone {cold['snapshot_load_ms']:.2f} ms"
        f" (replaying the log instead: {cold['replay_log_ms']:.0f} ms)"
    )
    print("\nTargets")
    for v in report["verdicts"]:
        status = "ok" if v["met"] else "MISSED"
        note = f"  ({v['note']})" if v["note"] else ""
        print(f"  {v['target']:<40} {fmt(v['value'], '×'):>8}  ≤ {v['limit']:.1f}×  {status}{note}")
    for name in ("redis", "persistence"):
        if "skipped" in report[name]:
            print(f"  {name}: skipped – {report[name]['skipped']}")
    print(f"\n{report['seconds']:.0f} s in all")


if __name__ == "__main__":
    sys.exit(main())
