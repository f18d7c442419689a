"""Run the app with Socket.IO for the socket tests: python -m tests.minutes.serve <instance dir> <port>."""

import sys
from pathlib import Path

from fallkonferenz import create_app
from fallkonferenz.serving import serve
from tests.conftest import instance_config

if __name__ == "__main__":
    instance, port = Path(sys.argv[1]), int(sys.argv[2])
    config = instance_config(instance, "sockets.db", shared_db=False)
    if len(sys.argv) > 3:
        config["REDIS_URL"] = sys.argv[3]  # several processes share rooms through Redis
    app = create_app(config)
    serve(app, "127.0.0.1", port, log_output=False)
