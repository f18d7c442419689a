"""Kill test: the server dies by SIGKILL mid-typing and comes back; every acknowledged edit is there exactly once."""

from __future__ import annotations

import contextlib
import random
import subprocess
import sys
import time

import requests
import socketio

from tests.minutes.live import ROOT, Editor, free_port, login, seed_instance

EDITS = 2000
BATCH = 10


def _start(instance, port) -> subprocess.Popen:
    log = (instance / f"kill-{time.monotonic_ns()}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.minutes.serve", str(instance), str(port)], cwd=ROOT, stdout=log, stderr=log
    )
    proc.log = log
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("server did not come up")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    proc.log.close()


def test_every_acknowledged_edit_survives_a_sigkill_exactly_once(tmp_path):
    info = seed_instance(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [_start(tmp_path, port)]
    kill_at = random.randrange(200, EDITS - 200)  # a random moment in the middle of typing
    killed = False

    try:
        http = login(url, info["users"]["KI"])
        editor = Editor(url, http)
        assert editor.join(info["general"])["ok"]
        pending: dict[str, tuple[bytes, range]] = {}
        acked: list[int] = []
        i = 0
        while len(acked) < EDITS:
            if i < EDITS:
                # Like the browser, ten keystrokes travel as one merged update under one id.
                edits = range(i, min(i + BATCH, EDITS))
                before = editor.doc.get_state()
                for n in edits:
                    editor.text.insert(len(str(editor.text)), f"[{n}]")
                pending[f"e{i}"] = (editor.doc.get_update(before), edits)
                i = edits.stop
                if not killed and i >= kill_at:
                    procs[-1].kill()  # SIGKILL: nothing survives but what was committed
                    killed = True
            try:
                for uid, (update, edits) in list(pending.items()):
                    ack = editor.call("update", {"item": info["general"], "id": uid, "update": update})
                    if not ack["ok"] and ack["status"] == 429:
                        time.sleep(0.05)  # over the rate limit: wait a moment, the loop sends it again
                        break
                    assert ack["ok"], ack
                    del pending[uid]
                    acked.extend(edits)
            except (
                socketio.exceptions.TimeoutError,
                socketio.exceptions.BadNamespaceError,
                socketio.exceptions.DisconnectedError,
            ):
                # The server is gone: bring it back, reconnect, rejoin; the loop resends what is unacknowledged.
                assert killed
                if procs[-1].poll() is not None or not _alive(url):
                    _stop(procs[-1])
                    procs.append(_start(tmp_path, port))
                with contextlib.suppress(Exception):  # already disconnected
                    editor.close()
                editor = _reconnected(url, info, editor)
        assert killed and len(procs) == 2, "the server was killed once and came back once"
        fresh = Editor(url, login(url, info["users"]["AA"]))
        assert fresh.join(info["general"])["ok"]
        text = str(fresh.text)
        for n in range(EDITS):
            assert text.count(f"[{n}]") == 1, n
        fresh.close()
        editor.close()
    finally:
        for proc in procs:
            _stop(proc)


def _alive(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def _reconnected(url, info, old: Editor) -> Editor:
    """A new connection that keeps the old local document (the browser keeps its Yjs doc across reconnects)."""
    editor = Editor(url, login(url, info["users"]["KI"]))
    editor.doc, editor.text = old.doc, old.text
    assert editor.join(info["general"])["ok"]
    return editor
