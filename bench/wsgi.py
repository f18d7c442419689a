"""Serve the real app with the benchmark configuration (instance directory from BENCH_INSTANCE)."""

import os
from pathlib import Path

from bench.data import app_config
from fallkonferenz import create_app

app = create_app(app_config(Path(os.environ["BENCH_INSTANCE"])))
