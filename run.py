"""Start Fallkonferenz with the embedded defaults (SQLite file, one process)."""

import os

from fallkonferenz import create_app

app = create_app()

if __name__ == "__main__":
    from waitress import serve

    host = os.environ.get("FK_HOST", "127.0.0.1")
    port = int(os.environ.get("FK_PORT", "5000"))
    print(f"Fallkonferenz läuft auf http://{host}:{port}")
    serve(app, host=host, port=port, threads=8)
