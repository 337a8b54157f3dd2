"""Demo web app: one page that exercises every token location from real JavaScript.

Run it with ``make demo`` (http://127.0.0.1:5000). It needs no external service: the
secret below is a fixed development value, never use it in production, and revocations
are kept in this process's memory (``JWT_REVOCATION_STORE = "memory"``; several
processes would share a Redis or SQL store instead).

Routes
    GET  /                        the page (templates/index.html, static/demo.js)
    POST /login_without_cookies   returns ``{"access_token": ...}`` (kept in localStorage)
    POST /login_with_cookies      sets the access + refresh cookies and their CSRF cookies
    POST /refresh                 refresh cookie -> new access *and* refresh cookies (rotation:
                                  each refresh token works once; a replayed one ends the session)
    POST /logout                  "log out": ``revoke_session()`` of the request's token (cookie
                                  or header), so every token of that session is refused, and
                                  removes all four cookies
    POST /logout_everywhere       "log out everywhere": ``revoke_all_tokens(identity)``, every
                                  token of the user issued so far, in every browser; removes
                                  the cookies
    GET|POST /protected           any configured location (headers, cookies, query, JSON)
    GET  /only_headers            ``jwt_required(locations=["headers"])``

A request authenticated by the access cookie less than ``JWT_IMPLICIT_REFRESH`` before the
token expires gets fresh access + CSRF cookies in the same session (built into the
extension, no hook of the demo's own).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider

from flask_jwt_guard import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    get_jwt_request_location,
    jwt_required,
    revoke_all_tokens,
    revoke_session,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)
from flask_jwt_guard.exceptions import ExpiredSignatureError, RevokedTokenError

#: Development-only signing key (>= 32 bytes so HS256 has a full-strength key).
DEV_SECRET_KEY = "flask-jwt-guard-demo-secret-key-for-local-development-only"

DEFAULT_CONFIG: dict[str, Any] = {
    "JWT_SECRET_KEY": DEV_SECRET_KEY,
    "JWT_TOKEN_LOCATION": ["headers", "cookies", "query_string", "json"],
    # The demo runs over plain http on 127.0.0.1; production sites keep this True.
    "JWT_COOKIE_SECURE": False,
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=1),
    # Sessions that can be ended: revocations kept in memory (one process is enough here).
    "JWT_REVOCATION_STORE": "memory",
    "JWT_REFRESH_TOKEN_ROTATION": True,
    # A cookie request within 5 minutes of its access token's expiry renews the cookie.
    "JWT_IMPLICIT_REFRESH": timedelta(minutes=5),
}


def _username() -> str:
    """The user name posted by the page (JSON ``{"username": ...}``), or ``"alice"``."""
    data = request.get_json(silent=True)
    if isinstance(data, dict):
        name = data.get("username")
        if isinstance(name, str) and name.strip():
            return name.strip()[:64]
    return "alice"


def _session(claims: dict[str, Any]) -> str:
    """The start of a token's session id (``sid``): enough to tell sessions apart in the log."""
    return str(claims.get("sid", ""))[:8]


def _whoami() -> dict[str, Any]:
    claims = get_jwt()
    return {
        "msg": f"hello {get_jwt_identity()}",
        "identity": get_jwt_identity(),
        "location": get_jwt_request_location(),
        "type": claims["type"],
        "session": _session(claims),
        "expires_in": int(claims["exp"] - time.time()),
    }


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the demo app; ``config`` overrides :data:`DEFAULT_CONFIG`."""
    app = Flask(__name__)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # keep "msg" first in the page's log
    app.config.update(DEFAULT_CONFIG)
    if config:
        app.config.update(config)
    JWTManager(app)

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.post("/login_without_cookies")
    def login_without_cookies() -> Response:
        return jsonify(access_token=create_access_token(identity=_username()))

    @app.post("/login_with_cookies")
    def login_with_cookies() -> Response:
        identity = _username()
        response = jsonify(msg=f"logged in as {identity} (cookies set)")
        set_access_cookies(response, create_access_token(identity=identity))
        set_refresh_cookies(response, create_refresh_token(identity=identity))
        return response

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Response:
        # With JWT_REFRESH_TOKEN_ROTATION the refresh token just used is spent: hand out a
        # new one with the new access token (both continue the session).
        identity = get_jwt_identity()
        response = jsonify(
            msg=f"new access and refresh cookies for {identity}",
            location=get_jwt_request_location(),
            session=_session(get_jwt()),
        )
        set_access_cookies(response, create_access_token(identity=identity))
        set_refresh_cookies(response, create_refresh_token(identity=identity))
        return response

    @app.post("/logout")
    def logout() -> Response:
        try:
            verify_jwt_in_request(optional=True)
            claims = get_jwt()
        except ExpiredSignatureError as err:
            # Verified (signature, CSRF) but expired: its session, refresh token included, ends too.
            claims = err.jwt_data
        except RevokedTokenError:
            claims = {}  # already ended (e.g. "log out everywhere" elsewhere): just drop the cookies
        if claims:
            revoke_session(claims)
            msg = f"logged out: session {_session(claims)} revoked, cookies removed"
        else:
            msg = "no live session: cookies removed"
        response = jsonify(msg=msg)
        unset_jwt_cookies(response)
        return response

    @app.post("/logout_everywhere")
    @jwt_required()
    def logout_everywhere() -> Response:
        identity = get_jwt_identity()
        revoke_all_tokens(identity)
        response = jsonify(msg=f"logged out everywhere: every token of {identity} so far is revoked")
        unset_jwt_cookies(response)
        return response

    @app.route("/protected", methods=["GET", "POST"])
    @jwt_required()
    def protected() -> Response:
        return jsonify(_whoami())

    @app.get("/only_headers")
    @jwt_required(locations=["headers"])
    def only_headers() -> Response:
        return jsonify(_whoami())

    return app


app = create_app()
