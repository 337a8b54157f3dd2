"""An app for the ``flask jwt`` commands: tokens made, read and revoked from a shell.

Try::

    TOKEN=$(flask --app examples.cli_app jwt create-token alice --claim role=admin)
    flask --app examples.cli_app run &
    curl -H "Authorization: Bearer $TOKEN" localhost:5000/protected
    flask --app examples.cli_app jwt decode "$TOKEN"
    flask --app examples.cli_app jwt revoke --session "$TOKEN"   # the next request gets 401
    flask --app examples.cli_app jwt check-config

Revocations are kept in a SQLite file that the server and each ``flask jwt`` process share
(the ``"memory"`` store lives and dies with one process). Any ``JWT_*`` key can be set from the
environment with the prefix ``CLI_APP_``, its value read as JSON when it is JSON
(Flask's ``app.config.from_prefixed_env``), e.g.
``CLI_APP_JWT_REVOCATION_STORE=sqlite:////var/lib/app/revocations.sqlite3``,
``CLI_APP_JWT_ACCESS_TOKEN_EXPIRES=3600``, or ``CLI_APP_JWT_REVOCATION_STORE=null`` for no store.
"""

from __future__ import annotations

import os
import tempfile

from flask import Flask, Response, jsonify

from flask_jwt_guard import JWTManager, get_jwt, get_jwt_identity, jwt_required

#: The revocation store when ``CLI_APP_JWT_REVOCATION_STORE`` is not set.
DEFAULT_STORE = "sqlite:///" + os.path.join(tempfile.gettempdir(), "flask_jwt_guard_cli_app.sqlite3")


def create_app() -> Flask:
    """Build the example app (``flask --app examples.cli_app`` calls this)."""
    app = Flask(__name__)
    app.config.update(
        # Change this! A long random value, e.g. secrets.token_urlsafe(48).
        JWT_SECRET_KEY="example-only-secret-change-me-0123456789abcdef",
        JWT_REVOCATION_STORE=DEFAULT_STORE,
    )
    app.config.from_prefixed_env("CLI_APP")
    JWTManager(app)

    @app.get("/protected")
    @jwt_required()
    def protected() -> Response:
        """Who the token is for, and its claims."""
        return jsonify(user=get_jwt_identity(), claims=get_jwt())

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Response:
        """Accepts refresh tokens only (try one made by ``create-token --refresh``)."""
        return jsonify(user=get_jwt_identity())

    return app
