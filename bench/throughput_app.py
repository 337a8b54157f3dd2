"""WSGI module served by gunicorn in ``throughput.py``.

The library comes from ``BENCH_LIB`` (``flask_jwt_guard`` or ``flask_jwt_extended``);
the app is the same one ``run.py`` times in-process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import OURS, build_app, import_lib  # noqa: E402

app = build_app(import_lib(os.environ.get("BENCH_LIB", OURS)))
