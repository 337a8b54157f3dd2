"""Shared fixtures for the whole suite.

In CI (``CI=true``) a test that would be skipped because a component is
missing (redis-server, Chromium, ...) fails instead: a green CI must mean the
test ran.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true turns skips into failures): {report.longrepr}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last.

    Playwright's sync API keeps an event loop running in the main thread while
    its session fixture is open, which would break async views (asyncio.run)
    in any test that ran after it.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


# ---------------------------------------------------------------------------
# Core-library fixtures (tests/test_*.py): differential harness
# ---------------------------------------------------------------------------
# Every core test runs against each library in LIBS: ``flask_jwt_guard`` (the
# library under test) and ``flask_jwt_extended`` (the behaviour it is
# compatible with, a test-only dependency).  ``Env`` bundles a Flask app, its
# JWTManager and a test client built the same way with either library.

CORE_READY = (Path(__file__).resolve().parent.parent / ".core-ready").exists()
SECRET = "test-secret-key-" + "0123456789abcdef" * 4  # 80 bytes: no PyJWT key warnings


def _load_libs() -> list[ModuleType]:
    libs: list[ModuleType] = []
    try:
        libs.append(importlib.import_module("flask_jwt_guard"))
    except Exception:  # the library may be half-written before .core-ready
        # Before the library exists only the reference runs; in CI (or once the
        # core is declared ready) a missing library is an error, not a skip.
        if IN_CI or CORE_READY:
            raise
    else:
        if not hasattr(libs[0], "JWTManager"):
            if IN_CI or CORE_READY:
                raise ImportError("flask_jwt_guard has no JWTManager")
            libs.pop()
    libs.append(importlib.import_module("flask_jwt_extended"))
    return libs


LIBS = _load_libs()


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


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


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
        app.add_url_rule(f"/{name}", name, endpoint, methods=ALL_METHODS)

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


def build_env(
    lib: ModuleType,
    config: dict[str, Any] | None = None,
    *,
    routes: bool = True,
    setup: Callable[[Any], None] | None = None,
) -> Env:
    """App with ``config`` (JWT_SECRET_KEY preset), a JWTManager and, by default,
    the standard routes.  ``setup(jwt)`` registers loaders before init_app."""
    app = AsyncFlask(f"test_{lib.__name__}")
    app.config["TESTING"] = True
    app.config["JWT_SECRET_KEY"] = SECRET
    app.config.update(config or {})
    jwt = lib.JWTManager()
    if setup is not None:
        setup(jwt)
    jwt.init_app(app)
    if routes:
        add_standard_routes(app, lib)
    return Env(lib=lib, app=app, jwt=jwt, client=app.test_client())


@pytest.fixture(params=LIBS, ids=[m.__name__ for m in LIBS])
def lib(request: pytest.FixtureRequest) -> ModuleType:
    """Each library in turn."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_env(lib: ModuleType) -> Callable[..., Env]:
    """Factory: ``make_env(JWT_X=..., routes=True, setup=fn)`` -> Env for ``lib``."""

    def factory(routes: bool = True, setup: Callable[[Any], None] | None = None, **config: Any) -> Env:
        return build_env(lib, config, routes=routes, setup=setup)

    return factory


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """Default app (headers only) for ``lib``."""
    return make_env()


@pytest.fixture
def differential() -> Callable[..., Any]:
    """``differential(scenario, config=None, setup=None)``.

    Builds the same app with every library, runs ``scenario(env)`` on each and
    asserts that all libraries give the same result.  Returns that result so the
    test can also pin the documented value.
    """

    def run(
        scenario: Callable[[Env], Any],
        config: dict[str, Any] | None = None,
        setup: Callable[[Any], None] | None = None,
        routes: bool = True,
    ) -> Any:
        results: dict[str, Any] = {}
        for lib_module in LIBS:
            env = build_env(lib_module, config, routes=routes, setup=setup)
            results[lib_module.__name__] = scenario(env)
        values = list(results.values())
        for name, value in results.items():
            assert value == values[-1], (
                f"{name} differs from flask_jwt_extended:\n  {name}: {value!r}\n"
                f"  flask_jwt_extended: {values[-1]!r}"
            )
        return values[-1]

    return run


@pytest.fixture
def secret() -> str:
    """The JWT_SECRET_KEY every Env is built with."""
    return SECRET


@pytest.fixture
def build() -> Callable[..., Env]:
    """``build(lib, config=None, routes=True, setup=None)`` -> Env (see build_env)."""
    return build_env


@pytest.fixture(
    params=[(w, r) for w in LIBS for r in LIBS if w is not r] or [None],
    ids=[f"{w.__name__}->{r.__name__}" for w in LIBS for r in LIBS if w is not r] or ["none"],
)
def lib_pair(request: pytest.FixtureRequest) -> tuple[ModuleType, ModuleType]:
    """(writer, reader): two different libraries, for interoperability tests."""
    if request.param is None:
        pytest.skip("only one library importable yet")
    return request.param  # type: ignore[no-any-return]
