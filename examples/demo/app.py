"""Demo web app: one page that exercises every token location from real JavaScript.

Run it with ``make demo`` (http://127.0.0.1:5000; it installs the ``demo`` extra only). It
needs no external service: the secret below is a fixed development value, never use it in
production, and revocations are kept in this process's memory (``JWT_REVOCATION_STORE =
"memory"``; several processes would share a Redis or SQL store instead).

Its defaults raise no ``JWTGuardSecurityWarning``: the cookies are ``Secure``, as in
production, because the demo is served on http://127.0.0.1, which Chromium (and other
browsers that treat loopback as a secure origin) trusts enough to keep Secure cookies over
plain http. A browser that does not refuses the cookies; the page then says so. The one
warning ``flask run`` prints ("This is a development server") is Werkzeug's: this demo is
for localhost only.

Routes
    GET  /                        the page (templates/index.html, static/demo.js)
    POST /login_without_cookies   returns ``{"access_token": ...}`` (kept in localStorage)
    POST /login_with_cookies      sets the access + refresh cookies and their CSRF cookies
    POST /login_with_short_cookie the same, with an access token of ``DEMO_SHORT_ACCESS_EXPIRES``
                                  (30 s): watch ``JWT_IMPLICIT_REFRESH`` (20 s) renew it
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
    POST /get_with_json_body      what a non-browser client gets for ``GET /protected`` with
                                  the posted token in a JSON body (browsers refuse to send one)

A request authenticated by the access cookie less than ``JWT_IMPLICIT_REFRESH`` before the
token expires gets fresh access + CSRF cookies in the same session (built into the
extension, no hook of the demo's own). So that the page can count down to expiry, every
response that sets an access cookie says when that cookie's token expires
(``X-Access-Expires-In``, in seconds).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider

from flask_jwt_guard import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
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

#: The response header that tells the page when the access cookie just set expires.
EXPIRES_HEADER = "X-Access-Expires-In"

DEFAULT_CONFIG: dict[str, Any] = {
    "JWT_SECRET_KEY": DEV_SECRET_KEY,
    "JWT_TOKEN_LOCATION": ["headers", "cookies", "query_string", "json"],
    # Secure cookies, as in production: http://127.0.0.1 is a secure origin for Chromium.
    "JWT_COOKIE_SECURE": True,
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=1),
    # Sessions that can be ended: revocations kept in memory (one process is enough here).
    "JWT_REVOCATION_STORE": "memory",
    "JWT_REFRESH_TOKEN_ROTATION": True,
    # A cookie request within 20 s of its access token's expiry renews the cookie.
    "JWT_IMPLICIT_REFRESH": timedelta(seconds=20),
    # The demo's own key: the lifetime of "Log in (short-lived cookie)"'s access token.
    "DEMO_SHORT_ACCESS_EXPIRES": timedelta(seconds=30),
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


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _duration(value: timedelta | float) -> str:
    """``30 s``, ``15 min``, ``1 h 30 min``: how the page names a lifetime from the config."""
    seconds = _seconds(value)
    if seconds < 60:
        return f"{seconds:g} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    parts = (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "")
    return " ".join(part for part in parts if part)


def _cookie_login(identity: str, access_token: str, msg: str) -> Response:
    """``msg``, with ``access_token`` and a new refresh token for ``identity`` as cookies."""
    response = jsonify(msg=msg)
    set_access_cookies(response, access_token)
    set_refresh_cookies(response, create_refresh_token(identity=identity))
    return response


def report_access_cookie_expiry(response: Response) -> Response:
    """``after_request``: add ``X-Access-Expires-In`` to a response that sets an access cookie.

    Registered before ``JWTManager(app)``: Flask runs ``after_request`` functions
    last-registered first, so this one also sees the cookie the extension's implicit
    refresh has just set. The cookie itself is HttpOnly: the page cannot read its expiry.
    """
    prefix = current_app.config["JWT_ACCESS_COOKIE_NAME"] + "="
    for header in response.headers.getlist("Set-Cookie"):
        token = header[len(prefix) :].split(";", 1)[0] if header.startswith(prefix) else ""
        if token:  # not the empty value of a removed cookie
            expires_in = decode_token(token, allow_expired=True)["exp"] - time.time()
            response.headers[EXPIRES_HEADER] = f"{expires_in:.1f}"
    return response


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the demo app; ``config`` overrides :data:`DEFAULT_CONFIG`."""
    app = Flask(__name__)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # keep "msg" first in the page's log
    app.config.update(DEFAULT_CONFIG)
    if config:
        app.config.update(config)
    app.after_request(report_access_cookie_expiry)  # before JWTManager: see its docstring
    JWTManager(app)

    @app.get("/")
    def index() -> str:
        config = app.config
        return render_template(
            "index.html",
            short_lifetime=_duration(config["DEMO_SHORT_ACCESS_EXPIRES"]),
            access_lifetime=_duration(config["JWT_ACCESS_TOKEN_EXPIRES"]),
            renew_window=_seconds(config["JWT_IMPLICIT_REFRESH"]),
            renew_window_text=_duration(config["JWT_IMPLICIT_REFRESH"]),
        )

    @app.post("/login_without_cookies")
    def login_without_cookies() -> Response:
        return jsonify(access_token=create_access_token(identity=_username()))

    @app.post("/login_with_cookies")
    def login_with_cookies() -> Response:
        identity = _username()
        msg = f"logged in as {identity} (cookies set)"
        return _cookie_login(identity, create_access_token(identity), msg)

    @app.post("/login_with_short_cookie")
    def login_with_short_cookie() -> Response:
        identity = _username()
        lifetime = app.config["DEMO_SHORT_ACCESS_EXPIRES"]
        return _cookie_login(
            identity,
            create_access_token(identity, expires_delta=lifetime),
            f"logged in as {identity} (cookies set; the access token lives {_duration(lifetime)})",
        )

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
        location = get_jwt_request_location()  # None when expired or revoked
        response = jsonify({"msg": msg, "location": location} if location else {"msg": msg})
        unset_jwt_cookies(response)
        return response

    @app.post("/logout_everywhere")
    @jwt_required()
    def logout_everywhere() -> Response:
        identity = get_jwt_identity()
        revoke_all_tokens(identity)
        response = jsonify(
            msg=f"logged out everywhere: every token of {identity} so far is revoked",
            location=get_jwt_request_location(),
        )
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

    @app.post("/get_with_json_body")
    def get_with_json_body() -> Response:
        """``GET /protected`` with ``{"access_token": <the posted token>}`` as its JSON body.

        Browsers refuse to send a body on a GET; curl and other clients do. The request is
        made here, in this process, by Flask's test client (no browser, no cookies) and its
        answer returned unchanged: what ``curl -X GET -H 'Content-Type: application/json'
        -d '{"access_token": ...}' .../protected`` gets.
        """
        data = request.get_json(silent=True)
        token = data.get("access_token") if isinstance(data, dict) else None
        answer = app.test_client().get("/protected", json={"access_token": token})
        return Response(answer.get_data(), status=answer.status_code, mimetype=answer.mimetype)

    return app


app = create_app()
