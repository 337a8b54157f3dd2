"""Demo web app: one page that exercises every token location from real JavaScript.

Run it with ``make demo`` (http://127.0.0.1:5000). It needs no external service: the
secret below is a fixed development value, never use it in production.

Routes
    GET  /                        the page (templates/index.html, static/demo.js)
    POST /login_without_cookies   returns ``{"access_token": ...}`` (kept in localStorage)
    POST /login_with_cookies      sets the access + refresh cookies and their CSRF cookies
    POST /logout_with_cookies     removes all four cookies
    POST /refresh                 refresh cookie -> new access cookie
    GET|POST /protected           any configured location (headers, cookies, query, JSON)
    GET  /only_headers            ``jwt_required(locations=["headers"])``

Cookies close to expiry are refreshed implicitly by an ``after_request`` hook: when a
request authenticated by the access cookie arrives less than ``DEMO_REFRESH_WINDOW``
before the token expires, the response carries a fresh access cookie.
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
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
)

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
    # Demo setting (not a library key): refresh the access cookie implicitly when it
    # expires within this window.
    "DEMO_REFRESH_WINDOW": timedelta(minutes=5),
}


def _username() -> str:
    """The user name posted by the page (JSON ``{"username": ...}``), or ``"alice"``."""
    data = request.get_json(silent=True)
    if isinstance(data, dict):
        name = data.get("username")
        if isinstance(name, str) and name.strip():
            return name.strip()[:64]
    return "alice"


def _whoami() -> dict[str, Any]:
    claims = get_jwt()
    return {
        "msg": f"hello {get_jwt_identity()}",
        "identity": get_jwt_identity(),
        "location": get_jwt_request_location(),
        "type": claims["type"],
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

    @app.post("/logout_with_cookies")
    def logout_with_cookies() -> Response:
        response = jsonify(msg="logged out (cookies removed)")
        unset_jwt_cookies(response)
        return response

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh() -> Response:
        identity = get_jwt_identity()
        response = jsonify(msg=f"new access cookie for {identity}", location=get_jwt_request_location())
        set_access_cookies(response, create_access_token(identity=identity))
        return response

    @app.route("/protected", methods=["GET", "POST"])
    @jwt_required()
    def protected() -> Response:
        return jsonify(_whoami())

    @app.get("/only_headers")
    @jwt_required(locations=["headers"])
    def only_headers() -> Response:
        return jsonify(_whoami())

    @app.after_request
    def refresh_expiring_access_cookie(response: Response) -> Response:
        try:
            claims = get_jwt()
            expires_at = float(claims["exp"])
            token_type = claims["type"]
        except (RuntimeError, KeyError):
            return response  # no JWT on this request (or no expiry): nothing to refresh
        if token_type != "access" or get_jwt_request_location() != "cookies":
            return response
        window: timedelta = app.config["DEMO_REFRESH_WINDOW"]
        if expires_at - time.time() <= window.total_seconds():
            set_access_cookies(response, create_access_token(identity=get_jwt_identity()))
        return response

    return app


app = create_app()
