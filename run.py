"""Start Fallkonferenz with the embedded defaults (SQLite file, one process, live minutes over WebSocket)."""

import os

from fallkonferenz import create_app
from fallkonferenz.serving import serve

app = create_app()

if __name__ == "__main__":
    host = os.environ.get("FK_HOST", "127.0.0.1")
    port = int(os.environ.get("FK_PORT", "5000"))
    print(f"Fallkonferenz läuft auf http://{host}:{port}")
    # One threaded process with WebSocket support; for production see README (gunicorn, several processes).
    serve(app, host, port)
