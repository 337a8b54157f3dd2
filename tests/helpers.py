"""Plain helpers shared by the whole suite (no fixtures: those live in conftest.py).

Import them as ``from tests.helpers import ...`` (``tests`` is a package; pytest puts
the repository root on ``sys.path``), or relatively (``from ..helpers import ...``).

* ``SECRET``: the one HMAC secret every test app signs with.
* ``GUARD`` / ``PEER``: ``flask_jwt_guard`` (the library under test) and
  ``flask_jwt_extended`` (the behaviour it is compatible with, a test-only dependency).
* ``LIBS`` / ``UNDER_TEST``: which of them the suite runs against, chosen one way only,
  by the environment variable ``JWT_TEST_IMPL``:

  - unset: ``LIBS == [GUARD, PEER]`` (the core tests are differential) and
    ``UNDER_TEST is GUARD``;
  - ``flask_jwt_guard`` or ``flask_jwt_extended``: only that library, in both.

* ``make_app(lib, config, routes=..., setup=..., secret=SECRET)``: THE app factory; it returns an
  :class:`Env` (app, JWTManager, test client).
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import flask_jwt_extended
from flask import Flask, jsonify, request
from flask.testing import FlaskClient

import flask_jwt_guard

SECRET = "test-secret-key-" + "0123456789abcdef" * 4  # 80 bytes: no PyJWT key warnings

GUARD: ModuleType = flask_jwt_guard
PEER: ModuleType = flask_jwt_extended


def _select_libs() -> list[ModuleType]:
    known = {m.__name__: m for m in (GUARD, PEER)}
    name = os.environ.get("JWT_TEST_IMPL", "")
    if not name:
        return [GUARD, PEER]
    if name not in known:
        raise ValueError(f"JWT_TEST_IMPL={name!r}: expected one of {sorted(known)} or unset")
    return [known[name]]


#: The libraries the core tests run against (both, unless ``JWT_TEST_IMPL`` picks one).
LIBS: list[ModuleType] = _select_libs()
#: The one library the security tests attack: GUARD unless ``JWT_TEST_IMPL`` names the peer.
UNDER_TEST: ModuleType = PEER if LIBS == [PEER] else GUARD


class AsyncFlask(Flask):
    """Flask app that runs ``async def`` views without the asgiref extra.

    ``Flask.async_to_sync`` is documented as the override point for this.
    """

    def async_to_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            return asyncio.run(func(*args, **kwargs))

        return run


@dataclass
class Env:
    """One app + JWTManager + test client, built with ``lib``."""

    lib: ModuleType
    app: Flask
    jwt: Any
    client: FlaskClient
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.lib.__name__

    def access_token(self, identity: Any = "alice", **kwargs: Any) -> str:
        with self.app.app_context():
            return str(self.lib.create_access_token(identity, **kwargs))

    def refresh_token(self, identity: Any = "alice", **kwargs: Any) -> str:
        with self.app.app_context():
            return str(self.lib.create_refresh_token(identity, **kwargs))

    def decode(self, token: str, **kwargs: Any) -> dict[str, Any]:
        with self.app.app_context():
            return dict(self.lib.decode_token(token, **kwargs))

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call a library function inside an app context."""
        with self.app.app_context():
            return fn(*args, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Send a request; return (status, JSON body or None)."""
        resp = self.client.open(path, method=method, **kwargs)
        return resp.status_code, resp.get_json(silent=True)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> tuple[int, Any]:
        if token is not None:
            headers = dict(kwargs.pop("headers", {}) or {})
            headers["Authorization"] = f"Bearer {token}"
            kwargs["headers"] = headers
        return self.request("GET", path, **kwargs)


ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def add_standard_routes(app: Flask, lib: ModuleType) -> None:
    """Routes most tests use; each answers with what the library saw."""

    def describe() -> Any:
        if request.method == "OPTIONS":
            return jsonify(method="OPTIONS")
        jwt_data = lib.get_jwt()
        return jsonify(
            identity=lib.get_jwt_identity(),
            location=lib.get_jwt_request_location(),
            type=jwt_data.get("type"),
        )

    def view(name: str, **opts: Any) -> None:
        @lib.jwt_required(**opts)
        def endpoint() -> Any:
            return describe()

        endpoint.__name__ = name
        app.add_url_rule(f"/{name}", name, endpoint, methods=list(ALL_METHODS))

    view("protected")
    view("optional", optional=True)
    view("fresh", fresh=True)
    view("refresh", refresh=True)
    view("any_type", verify_type=False)
    view("no_revocation_check", skip_revocation_check=True)
    view("only_headers", locations="headers")
    view("only_cookies", locations=["cookies"])
    view("only_query", locations="query_string")
    view("only_json", locations=["json"])
    view("headers_then_cookies", locations=["headers", "cookies"])

    @app.route("/open")
    def open_view() -> Any:
        return jsonify(ok=True)

    @app.route("/login", methods=["POST"])
    def login() -> Any:
        identity = "alice"
        resp = jsonify(login=True)
        lib.set_access_cookies(resp, lib.create_access_token(identity))
        lib.set_refresh_cookies(resp, lib.create_refresh_token(identity))
        return resp

    @app.route("/logout", methods=["POST"])
    def logout() -> Any:
        resp = jsonify(logout=True)
        lib.unset_jwt_cookies(resp)
        return resp


def _copied(value: Any) -> Any:
    return copy.copy(value) if isinstance(value, list | dict | set) else value


#: ``routes`` argument of :func:`make_app`: standard routes, none, or ``routes(app, lib)``.
Routes = bool | Callable[[Flask, ModuleType], None]


def make_app(
    lib: ModuleType,
    config: dict[str, Any] | None = None,
    *,
    routes: Routes = True,
    setup: Callable[[Any], None] | None = None,
    secret: str | None = SECRET,
) -> Env:
    """THE test app factory.

    :param lib: ``GUARD`` or ``PEER`` (any module with the peer's public API).
    :param config: applied after ``TESTING=True`` and ``JWT_SECRET_KEY=secret``.
    :param routes: ``True`` adds :func:`add_standard_routes`, ``False`` no route, a
        callable ``routes(app, lib)`` adds its own.
    :param setup: ``setup(jwt)`` registers loaders on the fresh ``lib.JWTManager()``
        before ``jwt.init_app(app)``.
    :param secret: ``JWT_SECRET_KEY``; ``None`` leaves the key out of ``app.config``
        altogether (tests of defaults and of a missing key).
    :returns: an :class:`Env` with the app, the manager and a test client.
    """
    app = AsyncFlask(f"test_{lib.__name__}")
    app.config["TESTING"] = True
    if secret is not None:
        app.config["JWT_SECRET_KEY"] = secret
    # Containers are copied: a list given by a test (or a parametrize value shared by the
    # runs of both libraries) is never the one the app holds and may change.
    app.config.update({key: _copied(value) for key, value in (config or {}).items()})
    jwt = lib.JWTManager()
    if setup is not None:
        setup(jwt)
    jwt.init_app(app)
    if routes is True:
        add_standard_routes(app, lib)
    elif callable(routes):
        routes(app, lib)
    return Env(lib=lib, app=app, jwt=jwt, client=app.test_client())


#: Claims that Flask-JWT-Guard adds and Flask-JWT-Extended does not: ``sid``, the session a
#: token belongs to (a deliberate difference, listed in the README's migration notes).
GUARD_ONLY_CLAIMS = frozenset({"sid", "gen"})


def shared_claim_names(claims: dict[str, Any]) -> list[str]:
    """The claim names to compare across libraries: all but :data:`GUARD_ONLY_CLAIMS`, sorted."""
    return sorted(name for name in claims if name not in GUARD_ONLY_CLAIMS)
