"""The embedded server: one threaded process with WebSocket support for the live minutes."""

from __future__ import annotations

import contextlib
import gc
import socket

from werkzeug.serving import WSGIRequestHandler

from .extensions import socketio


class NoDelayRequestHandler(WSGIRequestHandler):
    """Send small WebSocket frames at once: without TCP_NODELAY an acknowledgement can wait ~40 ms. The request log
    leaves out query strings: a name search carries a client's name there."""

    def setup(self):
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code="-", size="-") -> None:
        full = getattr(self, "path", None)
        if full is None or "?" not in full:
            super().log_request(code, size)
            return
        self.path = full.split("?", 1)[0] + "?…"
        try:
            super().log_request(code, size)
        finally:
            self.path = full


def warm_up(app) -> None:
    """Run what the app's packages registered to prepare before the first request (`fk_warm_up`). It only saves the
    first clients time: if it fails (a database not reachable yet, say), the server starts all the same."""
    with app.app_context():
        for step in app.extensions.get("fk_warm_up", ()):
            try:
                step()
            except Exception:
                app.logger.warning("warm-up failed; the first requests prepare what they need", exc_info=True)


def serve(app, host: str, port: int, log_output: bool = True, sio=socketio) -> None:
    """Run the app with Socket.IO on the threaded Werkzeug server (simple-websocket)."""
    warm_up(app)
    # Everything built so far (modules, mappers, compiled templates) lives as long as the process. Frozen, the
    # collector no longer walks it in every full collection: mid-meeting those took 85-90 ms here, during which no
    # update was delivered (the slowest live-minutes deliveries); frozen, 12-22 ms.
    gc.collect()
    gc.freeze()
    sio.run(
        app,
        host=host,
        port=port,
        allow_unsafe_werkzeug=True,
        request_handler=NoDelayRequestHandler,
        log_output=log_output,
    )
