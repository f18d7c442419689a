"""A small HTTP load generator: threads with keep-alive connections, counting requests per second."""

from __future__ import annotations

import http.client
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
COOKIE = "fk_session"


@dataclass
class Result:
    """Throughput and latency of one target."""

    name: str
    path: str
    requests: int
    errors: int
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    server_cpu: float | None = None  # cores used by the server process during the window
    client_cpu: float | None = None  # cores used by this load generator during the window

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "max_ms": round(max(self.latencies_ms, default=0.0), 2),
            "server_cpu_cores": None if self.server_cpu is None else round(self.server_cpu, 2),
            "client_cpu_cores": None if self.client_cpu is None else round(self.client_cpu, 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class HttpError(RuntimeError):
    """A setup request (login, check) got an unexpected answer."""


def process_cpu_seconds(pid: int) -> float | None:
    """Return the CPU seconds (user + system) a process has used so far; None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of stat(5); index 11 and 12 after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def session_cookie(resp: http.client.HTTPResponse) -> str | None:
    for header in resp.headers.get_all("Set-Cookie") or []:
        morsel = SimpleCookie(header).get(COOKIE)
        if morsel is not None:
            return morsel.value
    return None


def get(conn: http.client.HTTPConnection, path: str, cookie: str | None = None) -> tuple[int, str]:
    """GET a page on a kept-alive connection; return status and body."""
    conn.request("GET", path, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
    resp = conn.getresponse()
    return resp.status, resp.read().decode()


def login(host: str, port: int, username: str, password: str) -> str:
    """Log in like a browser (form with CSRF token); return the session cookie value."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", "/anmelden")
        resp = conn.getresponse()
        page = resp.read().decode()
        match = CSRF_RE.search(page)
        cookie = session_cookie(resp)
        if resp.status != 200 or match is None or cookie is None:
            raise HttpError(f"GET /anmelden: {resp.status}, no form token or cookie")
        body = urlencode({"username": username, "password": password, "csrf_token": match.group(1)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{COOKIE}={cookie}"}
        conn.request("POST", "/anmelden", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        cookie = session_cookie(resp)
        if resp.status != 302 or cookie is None:
            raise HttpError(f"POST /anmelden: {resp.status}, expected a redirect with a session cookie")
        return cookie
    finally:
        conn.close()


def sealed_search(host: str, port: int, cookie: str, text: str) -> str:
    """Search for a name through the case list's form, as a browser does: return the address it leads to, whose
    search is sealed to this client's login (so every client has its own)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", "/faelle/", headers={"Cookie": f"{COOKIE}={cookie}"})
        resp = conn.getresponse()
        match = CSRF_RE.search(resp.read().decode())
        if resp.status != 200 or match is None:
            raise HttpError(f"GET /faelle/: {resp.status}, no form token")
        # the form's token is kept in the session cookie, which the page may have renewed for it
        renewed = session_cookie(resp) or cookie
        body = urlencode({"q": text, "csrf_token": match.group(1)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{COOKIE}={renewed}"}
        conn.request("POST", "/faelle/suche", body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        location = resp.headers.get("Location", "")
        if resp.status != 303 or "suche=" not in location:
            raise HttpError(f"POST /faelle/suche: {resp.status}, expected a redirect to a sealed search")
        return location
    finally:
        conn.close()


def run(
    name: str,
    host: str,
    port: int,
    path: str,
    *,
    cookies: list[str | None],
    paths: list[str] | None = None,
    warmup: float = 2.0,
    duration: float = 8.0,
    server_pid: int | None = None,
) -> Result:
    """Hit one path from one thread per cookie (one client each) and count the answers of the measured window.
    `paths`, if given, is each client's own address of the page (a search sealed to its login)."""
    measuring = threading.Event()
    stop = threading.Event()
    lock = threading.Lock()
    result = Result(name, path, 0, 0, duration)

    def client(cookie: str | None, path: str) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        counted, errors, statuses, latencies = 0, 0, {}, []
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status, _ = get(conn, path, cookie)
            except (OSError, http.client.HTTPException):
                # A dropped connection counts as a failed request; reconnect and go on.
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                status = 0
            elapsed = time.perf_counter() - started
            if measuring.is_set() and not stop.is_set():
                counted += 1
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(elapsed * 1000)
                if status != 200:
                    errors += 1
        conn.close()
        with lock:
            result.requests += counted
            result.errors += errors
            result.latencies_ms += latencies
            for status, n in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + n

    paths = paths or [path] * len(cookies)
    threads = [threading.Thread(target=client, args=(c, p), daemon=True) for c, p in zip(cookies, paths, strict=True)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    server_before = process_cpu_seconds(server_pid) if server_pid else None
    client_before = _own_cpu_seconds()
    measuring.set()
    began = time.perf_counter()
    time.sleep(duration)
    stop.set()
    result.seconds = time.perf_counter() - began
    server_after = process_cpu_seconds(server_pid) if server_pid else None
    result.client_cpu = (_own_cpu_seconds() - client_before) / result.seconds
    if server_before is not None and server_after is not None:
        result.server_cpu = (server_after - server_before) / result.seconds
    for t in threads:
        t.join(timeout=120)
    return result
