"""The embedded server: one threaded process with WebSocket support for the live minutes."""

from __future__ import annotations

import contextlib
import socket

from werkzeug.serving import WSGIRequestHandler

from .extensions import socketio


class NoDelayRequestHandler(WSGIRequestHandler):
    """Send small WebSocket frames at once: without TCP_NODELAY an acknowledgement can wait ~40 ms."""

    def setup(self):
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def serve(app, host: str, port: int, log_output: bool = True) -> None:
    """Run the app with Socket.IO on the threaded Werkzeug server (simple-websocket)."""
    socketio.run(
        app,
        host=host,
        port=port,
        allow_unsafe_werkzeug=True,
        request_handler=NoDelayRequestHandler,
        log_output=log_output,
    )
