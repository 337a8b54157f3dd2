"""The benchmark app, built identically on either JWT library.

Both Flask-JWT-Guard and the peer expose the same public API, so one factory
takes the library *module* and builds the same Flask app on it. Shared by
``run.py`` (in-process WSGI timing), ``throughput_app.py`` (gunicorn) and
``profile_paths.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask, Response, jsonify, request

REPO = Path(__file__).resolve().parent.parent
OURS = "flask_jwt_guard"
PEER = "flask_jwt_extended"

# HS256 with a 32+ byte secret, shared by both apps and by the stdlib floor.
SECRET = "bench-secret-7c1f0e5a9b3d4c2e8f6a1b0c9d8e7f6a5b4c3d2e"
SECRET_BYTES = SECRET.encode()
IDENTITY = "user-1"
LOCATIONS = ["headers", "cookies", "query_string", "json"]

# Which extra callback the app registers.
VARIANTS = ("base", "user_lookup", "blocklist")

USERS: dict[str, dict[str, str]] = {IDENTITY: {"id": IDENTITY, "name": "Ada"}}
REVOKED: set[str] = set()


def import_lib(name: str) -> ModuleType:
    """Import a JWT library by module name; fall back to the repo's src/ layout."""
    try:
        return importlib.import_module(name)
    except ImportError:
        src = str(REPO / "src")
        if src not in sys.path:
            sys.path.insert(0, src)
        return importlib.import_module(name)


# --- the stdlib HS256 "floor" -------------------------------------------------


def _b64d(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def floor_verify(token: str, key: bytes = SECRET_BYTES) -> dict[str, Any]:
    """Verify an HS256 JWT with the standard library only: the cost floor.

    Split, check the header's alg, recompute the HMAC and compare in constant
    time, parse the payload and check ``exp``. Raises ValueError on any failure.
    """
    header_b64, payload_b64, sig_b64 = token.split(".")
    header = json.loads(_b64d(header_b64))
    if header.get("alg") != "HS256":
        raise ValueError("bad alg")
    expected = hmac.new(key, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(_b64d(sig_b64), expected):
        raise ValueError("bad signature")
    payload: dict[str, Any] = json.loads(_b64d(payload_b64))
    if payload["exp"] <= time.time():
        raise ValueError("expired")
    return payload


# --- the app ------------------------------------------------------------------


def build_app(
    lib: ModuleType,
    variant: str = "base",
    *,
    config: Mapping[str, Any] | None = None,
    blocklist: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
) -> Flask:
    """Build the benchmark app on ``lib`` (flask_jwt_guard or flask_jwt_extended).

    :param config: extra ``app.config`` values, set before the manager is made
        (e.g. ``JWT_REVOCATION_STORE``).
    :param blocklist: a ``token_in_blocklist_loader`` to register (``variant`` "base" only).

    Routes:
      GET  /open       unprotected JSON route (baseline)
      GET  /floor      stdlib HS256 verification of the Authorization header
      GET|POST /protected   ``@jwt_required()``; returns the identity
      GET  /me         ``@jwt_required()``; returns the loaded user (user_lookup)
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    if blocklist is not None and variant != "base":
        raise ValueError(f"variant {variant!r} registers its own loader; pass blocklist with 'base'")
    app = Flask(f"bench_{lib.__name__}_{variant}")
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_ALGORITHM="HS256",
        JWT_TOKEN_LOCATION=list(LOCATIONS),
        # Defaults, spelled out: CSRF double-submit for cookies on unsafe methods.
        JWT_COOKIE_CSRF_PROTECT=True,
        JWT_COOKIE_SECURE=False,
    )
    app.config.update(config or {})
    jwt = lib.JWTManager(app)
    jwt_required = lib.jwt_required
    get_jwt_identity = lib.get_jwt_identity

    if variant == "user_lookup":

        @jwt.user_lookup_loader
        def _lookup(_header: dict[str, Any], data: dict[str, Any]) -> dict[str, str] | None:
            return USERS.get(data["sub"])

    elif variant == "blocklist":

        @jwt.token_in_blocklist_loader
        def _revoked(_header: dict[str, Any], data: dict[str, Any]) -> bool:
            return data["jti"] in REVOKED

    elif blocklist is not None:
        jwt.token_in_blocklist_loader(blocklist)

    @app.get("/open")
    def open_route() -> Response:
        return jsonify(sub="anonymous")

    add_floor_route(app, floor_verify)

    @app.route("/protected", methods=["GET", "POST"])
    @jwt_required()
    def protected() -> Response:
        return jsonify(sub=get_jwt_identity())

    @app.get("/me")
    @jwt_required()
    def me() -> Response:
        user = lib.get_current_user()
        return jsonify(sub=user["id"])

    return app


def make_token(lib: ModuleType, app: Flask) -> str:
    with app.app_context():
        token: str = lib.create_access_token(identity=IDENTITY)
    return token


def claim_of(token: str, name: str) -> Any:
    """A claim of a token, read without verification."""
    return json.loads(_b64d(token.split(".")[1]))[name]


def csrf_of(token: str) -> str:
    """The ``csrf`` claim of a token (for the CSRF header)."""
    csrf: str = claim_of(token, "csrf")
    return csrf


def add_floor_route(app: Flask, verify: Callable[[str], dict[str, Any]]) -> None:
    """``GET /floor``: the Bearer token checked by ``verify`` alone, no JWT library (the "floor")."""

    @app.get("/floor")
    def floor_route() -> Response | tuple[Response, int]:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return jsonify(msg="missing"), 401
        try:
            payload = verify(auth[7:])
        except (ValueError, KeyError):
            return jsonify(msg="invalid"), 401
        return jsonify(sub=payload["sub"])
