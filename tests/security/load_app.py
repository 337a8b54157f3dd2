"""The app that ``test_load.py`` runs under gunicorn.

Configured from the environment: ``LOAD_JWT_SECRET``, ``LOAD_REVOKED_FILE``
(one revoked jti per line) and ``JWT_TEST_IMPL`` (the library, chosen by
``tests.helpers`` as for the rest of the suite).  The blocklist file is re-read whenever its
modification time changes, so every worker sees a revocation at once: a
stand-in for the shared store (Redis, a database) a real deployment uses.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from flask import Flask, jsonify

from tests.helpers import UNDER_TEST

lib: Any = UNDER_TEST


class FileBlocklist:
    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: int | None = None
        self._jtis: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def __contains__(self, jti: object) -> bool:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return False
        if stamp != self._stamp:
            with self._lock:
                with open(self.path, encoding="ascii") as fh:
                    self._jtis = frozenset(line.strip() for line in fh if line.strip())
                self._stamp = stamp
        return jti in self._jtis


def create_app(secret: str | None = None, revoked_file: str | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=secret or os.environ["LOAD_JWT_SECRET"],
        JWT_TOKEN_LOCATION=["headers", "cookies", "query_string", "json"],
        JWT_COOKIE_SECURE=True,
    )
    blocklist = FileBlocklist(revoked_file or os.environ["LOAD_REVOKED_FILE"])
    manager = lib.JWTManager(app)

    @manager.token_in_blocklist_loader
    def _revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        return payload.get("jti") in blocklist

    @app.route("/protected", methods=["GET", "POST"])
    @lib.jwt_required()
    def protected() -> Any:
        return jsonify(identity=lib.get_jwt_identity())

    @app.route("/health")
    def health() -> Any:
        return jsonify(ok=True, pid=os.getpid())

    return app
