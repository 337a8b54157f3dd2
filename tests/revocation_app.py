"""The app that ``tests/test_revocation_processes.py`` runs under gunicorn (and in process).

Configured from keyword arguments, else from the environment (gunicorn's workers build it
with ``revocation_app:create_app()``): ``REVOCATION_APP_STORE`` (a ``JWT_REVOCATION_STORE``
URL), ``REVOCATION_APP_SECRET``, ``REVOCATION_APP_TIMEOUT`` (seconds) and
``REVOCATION_APP_FAIL_OPEN`` (``"1"``: accept tokens unchecked while the store is down).
Refresh-token rotation is on. Every response names the process that answered it in an
``X-Worker-Pid`` header, so that a test can tell which gunicorn worker refused a token.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, jsonify, request

from flask_jwt_guard import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt_identity,
    jwt_required,
    revoke_all_tokens,
    revoke_session,
    revoke_token,
)

#: The secret when ``REVOCATION_APP_SECRET`` is not set.
DEFAULT_SECRET = "revocation-app-secret-" + "0123456789abcdef" * 3


def create_app(store: Any = None, **config: Any) -> Flask:
    """The app; ``config`` (``JWT_*`` keys) overrides what the environment says.

    :param store: ``JWT_REVOCATION_STORE``; ``None``: ``$REVOCATION_APP_STORE``.
    """
    app = Flask(__name__)
    app.config.update(
        JWT_SECRET_KEY=os.environ.get("REVOCATION_APP_SECRET", DEFAULT_SECRET),
        JWT_REVOCATION_STORE=store if store is not None else os.environ["REVOCATION_APP_STORE"],
        JWT_REVOCATION_TIMEOUT=float(os.environ.get("REVOCATION_APP_TIMEOUT", "0.5")),
        JWT_REVOCATION_FAIL_OPEN=os.environ.get("REVOCATION_APP_FAIL_OPEN", "") == "1",
        JWT_REFRESH_TOKEN_ROTATION=True,
    )
    app.config.update(config)
    JWTManager(app)

    def tokens(identity: str) -> Response:
        return jsonify(
            access_token=create_access_token(identity),
            refresh_token=create_refresh_token(identity),
        )

    @app.post("/login")
    def login() -> Response:
        """``{"username": ...}`` -> a new session's access and refresh token."""
        return tokens(str((request.get_json(silent=True) or {})["username"]))

    @app.get("/protected")
    @jwt_required()
    def protected() -> Response:
        return jsonify(identity=get_jwt_identity())

    @app.post("/revoke")
    @jwt_required()
    def revoke() -> Response:
        """Revoke this access token only."""
        revoke_token()
        return jsonify(msg="token revoked")

    @app.post("/logout")
    @jwt_required()
    def logout() -> Response:
        """End this token's session (its refresh token too)."""
        revoke_session()
        return jsonify(msg="logged out")

    @app.post("/logout_all")
    @jwt_required()
    def logout_all() -> Response:
        """End every session of this identity."""
        revoke_all_tokens(get_jwt_identity())
        return jsonify(msg="logged out everywhere")

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Response:
        """Rotation: a new pair for this session; the refresh token used is spent."""
        return tokens(get_jwt_identity())

    @app.get("/pid")
    def pid() -> Response:
        return jsonify(pid=os.getpid())

    @app.after_request
    def name_the_worker(response: Response) -> Response:
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return app
