"""OPTIONS requests (second review round, family 4).

CORS preflights carry no credentials, so ``verify_jwt_in_request`` lets OPTIONS
through.  That must not run a protected view without credentials: a view that
lists OPTIONS in its methods gets Flask's default OPTIONS response (200, an
``Allow`` header, an empty body) and its body never runs.  And a
``before_request`` hook that verifies the token and then reads it must not fail
on a preflight: it either answers the preflight itself, or lets it through as an
anonymous request (``get_jwt()`` is ``{}``, ``get_jwt_identity()`` is ``None``),
as on an optional route without a token.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, jsonify

from tests.helpers import make_app

from .forge import MISSING, assert_rejected, lib

ROUTE_OPTIONS: dict[str, dict[str, Any]] = {
    "required": {},
    "optional": {"optional": True},
    "fresh": {"fresh": True},
    "refresh": {"refresh": True},
    "cookies-only": {"locations": ["cookies"]},
}
PREFLIGHT = {
    "Origin": "https://spa.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "Authorization, Content-Type",
}


def _app_with_counted_views(ran: list[str]) -> Any:
    """Each protected view appends its name to ``ran`` when its body runs."""

    def routes(app: Flask, lib: Any) -> None:
        for name, opts in ROUTE_OPTIONS.items():

            def view(name: str = name) -> Any:
                ran.append(name)
                return jsonify(ran=name)

            async def async_view(name: str = name) -> Any:
                ran.append(f"async-{name}")
                return jsonify(ran=name)

            methods = ["GET", "POST", "OPTIONS"]
            app.add_url_rule(f"/{name}", name, lib.jwt_required(**opts)(view), methods=methods)
            async_protected = lib.jwt_required(**opts)(async_view)
            app.add_url_rule(f"/async-{name}", f"async-{name}", async_protected, methods=methods)

    return make_app(lib, {"JWT_TOKEN_LOCATION": ["headers", "cookies"]}, routes=routes)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("preflight", [False, True], ids=["bare", "cors-preflight"])
@pytest.mark.parametrize("route", list(ROUTE_OPTIONS))
def test_options_does_not_run_the_protected_view(route: str, preflight: bool, kind: str) -> None:
    ran: list[str] = []
    env = _app_with_counted_views(ran)
    path = f"/{route}" if kind == "sync" else f"/async-{route}"
    resp = env.app.test_client().options(path, headers=PREFLIGHT if preflight else {})
    assert ran == [], f"the view body ran on OPTIONS without credentials: {ran}"
    assert resp.status_code == 200, resp.get_data()[:200]
    allowed = {method.strip() for method in resp.headers.get("Allow", "").split(",")}
    assert {"GET", "POST", "OPTIONS"} <= allowed, resp.headers.get("Allow")
    assert resp.get_data() == b""


@pytest.mark.parametrize("route", list(ROUTE_OPTIONS))
def test_control_other_methods_still_protected(route: str) -> None:
    ran: list[str] = []
    env = _app_with_counted_views(ran)
    resp = env.app.test_client().get(f"/{route}")
    if route == "optional":
        assert resp.status_code == 200 and ran == ["optional"]
    else:
        assert_rejected(resp, MISSING)
        assert ran == []


def test_control_view_runs_with_a_token() -> None:
    ran: list[str] = []
    env = _app_with_counted_views(ran)
    token = env.access_token("alice")
    resp = env.app.test_client().get("/required", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and ran == ["required"]


HOOK_OPTIONS: dict[str, dict[str, Any]] = {
    "required": {},
    "optional": {"optional": True},
    "fresh": {"fresh": True},
    "refresh": {"refresh": True},
}


@pytest.mark.parametrize("route", ["/api", "/protected"])
@pytest.mark.parametrize("hook", list(HOOK_OPTIONS))
def test_before_request_hook_on_preflight(hook: str, route: str) -> None:
    """No 500: either ``verify_jwt_in_request`` answers the preflight itself (the rest of
    the hook does not run), or it returns and the request reads as anonymous."""
    seen: list[tuple[Any, ...]] = []
    after: list[tuple[Any, ...]] = []

    def read(lib: Any) -> tuple[Any, ...]:
        return lib.get_jwt(), lib.get_jwt_identity(), lib.get_jwt_header(), lib.get_jwt_request_location()

    def routes(app: Flask, lib: Any) -> None:
        @app.before_request
        def authenticate() -> None:
            lib.verify_jwt_in_request(**HOOK_OPTIONS[hook])
            seen.append(read(lib))

        @app.after_request
        def audit(response: Any) -> Any:
            after.append(read(lib))
            return response

        @app.route("/api", methods=["GET", "POST"])
        def api() -> Any:
            return jsonify(ok=True)

        @app.route("/protected", methods=["GET", "POST"])
        @lib.jwt_required(**HOOK_OPTIONS[hook])
        def protected() -> Any:
            return jsonify(ok=True)

    env = make_app(lib, routes=routes)
    resp = env.app.test_client().options(route, headers=PREFLIGHT)
    assert resp.status_code == 200, resp.get_data()[:300]
    anonymous = ({}, None, {}, None)
    assert seen in ([], [anonymous]), seen
    assert after == [anonymous]
    allowed = {method.strip() for method in resp.headers.get("Allow", "").split(",")}
    assert {"GET", "POST", "OPTIONS"} <= allowed
