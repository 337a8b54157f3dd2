"""jwt_required and verify_jwt_in_request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Blueprint, jsonify
from flask.views import MethodView

from tests.helpers import GUARD, SECRET, Env

ANON = {"identity": None, "location": None, "type": None}
ENDPOINTS = [
    "/protected",
    "/optional",
    "/fresh",
    "/refresh",
    "/any_type",
    "/no_revocation_check",
    "/only_headers",
    "/only_cookies",
    "/only_query",
    "/only_json",
]


def test_required_without_token(env: Env) -> None:
    assert env.get("/protected") == (401, {"msg": "Missing Authorization Header"})


def test_required_with_token(env: Env) -> None:
    assert env.get("/protected", env.access_token("alice")) == (
        200,
        {"identity": "alice", "location": "headers", "type": "access"},
    )


def test_unprotected_route_untouched(env: Env) -> None:
    assert env.get("/open") == (200, {"ok": True})
    assert env.get("/open", "garbage") == (200, {"ok": True})


# --- optional -----------------------------------------------------------------


def test_optional_without_token(env: Env) -> None:
    assert env.get("/optional") == (200, ANON)


def test_optional_with_token(env: Env) -> None:
    assert env.get("/optional", env.access_token("bob"))[1]["identity"] == "bob"


@pytest.mark.parametrize(
    ("make_token", "expected"),
    [
        (lambda env: "garbage", (422, {"msg": "Not enough segments"})),
        (
            lambda env: env.access_token(expires_delta=timedelta(seconds=-30)),
            (401, {"msg": "Token has expired"}),
        ),
        (lambda env: env.refresh_token(), (422, {"msg": "Only non-refresh tokens are allowed"})),
    ],
    ids=["invalid", "expired", "wrong-type"],
)
def test_optional_does_not_swallow_bad_tokens(
    env: Env, make_token: Callable[[Env], str], expected: tuple[int, Any]
) -> None:
    assert env.get("/optional", make_token(env)) == expected


def test_optional_malformed_header_is_error(env: Env) -> None:
    status, _ = env.request("GET", "/optional", headers={"Authorization": "Bearer a b"})
    assert status == 422


def test_optional_get_jwt_is_empty(env: Env) -> None:
    lib = env.lib

    @env.app.route("/opt_details")
    @lib.jwt_required(optional=True)
    def details() -> Any:
        return jsonify(
            jwt=lib.get_jwt(),
            header=lib.get_jwt_header(),
            identity=lib.get_jwt_identity(),
            location=lib.get_jwt_request_location(),
        )

    assert env.get("/opt_details") == (
        200,
        {"jwt": {}, "header": {}, "identity": None, "location": None},
    )


# --- fresh / refresh / verify_type ---------------------------------------------------


def test_fresh_required(env: Env) -> None:
    assert env.get("/fresh", env.access_token()) == (401, {"msg": "Fresh token required"})
    assert env.get("/fresh", env.access_token(fresh=True))[0] == 200


def test_fresh_checks_type_first(env: Env) -> None:
    assert env.get("/fresh", env.refresh_token()) == (
        422,
        {"msg": "Only non-refresh tokens are allowed"},
    )


def test_refresh_required(env: Env) -> None:
    assert env.get("/refresh", env.access_token()) == (
        422,
        {"msg": "Only refresh tokens are allowed"},
    )
    assert env.get("/refresh", env.refresh_token())[1]["type"] == "refresh"


def test_access_endpoint_rejects_refresh(env: Env) -> None:
    assert env.get("/protected", env.refresh_token()) == (
        422,
        {"msg": "Only non-refresh tokens are allowed"},
    )


def test_verify_type_false_accepts_both(env: Env) -> None:
    assert env.get("/any_type", env.access_token())[1]["type"] == "access"
    assert env.get("/any_type", env.refresh_token())[1]["type"] == "refresh"


# --- revocation ----------------------------------------------------------------------


def test_skip_revocation_check(make_env: Callable[..., Env]) -> None:
    seen: list[str] = []

    def setup(jwt: Any) -> None:
        @jwt.token_in_blocklist_loader
        def revoked(header: dict[str, Any], data: dict[str, Any]) -> bool:
            seen.append(data["sub"])
            return True

    env = make_env(setup=setup)
    token = env.access_token()
    assert env.get("/protected", token) == (401, {"msg": "Token has been revoked"})
    assert seen == ["alice"]
    assert env.get("/no_revocation_check", token)[0] == 200
    assert seen == ["alice"]


# --- OPTIONS -----------------------------------------------------------------------


def assert_preflight_answered(env: Env, response: Any) -> None:
    """A CORS preflight passes without a token. Flask-JWT-Guard answers it with Flask's default
    OPTIONS response and never runs the protected view; Flask-JWT-Extended runs the view
    unauthenticated (a deliberate difference, in the README's migration notes)."""
    assert response.status_code == 200
    if env.lib is GUARD:
        assert response.get_data() == b""
        assert {"GET", "POST", "OPTIONS"} <= set(response.headers["Allow"].split(", "))
    else:
        assert response.get_json() == {"method": "OPTIONS"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_options_passes_without_token(env: Env, path: str) -> None:
    assert_preflight_answered(env, env.client.open(path, method="OPTIONS"))


def test_options_passes_with_bad_token(env: Env) -> None:
    response = env.client.open("/fresh", method="OPTIONS", headers={"Authorization": "Bearer bad"})
    assert_preflight_answered(env, response)


# --- async views ---------------------------------------------------------------------


def test_async_view(env: Env) -> None:
    lib = env.lib

    @env.app.route("/async")
    @lib.jwt_required()
    async def async_view() -> Any:
        await asyncio.sleep(0)
        return jsonify(identity=lib.get_jwt_identity())

    @env.app.route("/async_optional")
    @lib.jwt_required(optional=True)
    async def async_optional() -> Any:
        return jsonify(identity=lib.get_jwt_identity())

    assert env.get("/async", env.access_token("ann")) == (200, {"identity": "ann"})
    assert env.get("/async") == (401, {"msg": "Missing Authorization Header"})
    assert env.get("/async", env.access_token(expires_delta=timedelta(seconds=-1)))[0] == 401
    assert env.get("/async_optional") == (200, {"identity": None})
    assert env.get("/async_optional", env.access_token("ann")) == (200, {"identity": "ann"})


# --- verify_jwt_in_request -------------------------------------------------------------


def test_verify_jwt_in_request_returns_header_and_data(env: Env) -> None:
    lib = env.lib

    @env.app.route("/manual")
    def manual() -> Any:
        result = lib.verify_jwt_in_request()
        assert isinstance(result, tuple) and len(result) == 2
        header, data = result
        return jsonify(header=header, sub=data["sub"], same=data == lib.get_jwt())

    assert env.get("/manual", env.access_token("zed")) == (
        200,
        {"header": {"alg": "HS256", "typ": "JWT"}, "sub": "zed", "same": True},
    )
    assert env.get("/manual") == (401, {"msg": "Missing Authorization Header"})


def test_verify_jwt_in_request_optional_returns_none(env: Env) -> None:
    lib = env.lib

    @env.app.route("/manual_opt", methods=["GET", "OPTIONS"])
    def manual_opt() -> Any:
        return jsonify(result=lib.verify_jwt_in_request(optional=True))

    assert env.get("/manual_opt") == (200, {"result": None})
    assert env.request("OPTIONS", "/manual_opt") == (200, {"result": None})
    status, body = env.get("/manual_opt", env.access_token())
    assert status == 200 and body["result"][1]["sub"] == "alice"


def test_verify_jwt_in_request_keyword_arguments(env: Env) -> None:
    lib = env.lib

    @env.app.route("/manual_kw")
    def manual_kw() -> Any:
        lib.verify_jwt_in_request(fresh=True)
        return jsonify(ok=True)

    @env.app.route("/manual_refresh")
    def manual_refresh() -> Any:
        lib.verify_jwt_in_request(refresh=True)
        return jsonify(ok=True)

    @env.app.route("/manual_any")
    def manual_any() -> Any:
        lib.verify_jwt_in_request(verify_type=False)
        return jsonify(ok=True)

    assert env.get("/manual_kw", env.access_token()) == (401, {"msg": "Fresh token required"})
    assert env.get("/manual_kw", env.access_token(fresh=True))[0] == 200
    assert env.get("/manual_refresh", env.refresh_token())[0] == 200
    assert env.get("/manual_refresh", env.access_token())[0] == 422
    assert env.get("/manual_any", env.refresh_token())[0] == 200


def test_verify_in_before_request(make_env: Callable[..., Env]) -> None:
    env = make_env(routes=False)
    lib = env.lib
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.before_request
    def guard() -> None:
        lib.verify_jwt_in_request()

    @bp.route("/me")
    def me() -> Any:
        return jsonify(identity=lib.get_jwt_identity())

    env.app.register_blueprint(bp)
    assert env.get("/api/me") == (401, {"msg": "Missing Authorization Header"})
    assert env.get("/api/me", env.access_token("kim")) == (200, {"identity": "kim"})


# --- decorator mechanics ----------------------------------------------------------------


def test_decorator_preserves_function_metadata(lib: Any) -> None:
    def my_view() -> str:
        """Docstring."""
        return "x"

    wrapped = lib.jwt_required()(my_view)
    assert wrapped.__name__ == "my_view"
    assert wrapped.__doc__ == "Docstring."


def test_view_arguments_are_passed(env: Env) -> None:
    lib = env.lib

    @env.app.route("/items/<int:item_id>/<name>")
    @lib.jwt_required()
    def item(item_id: int, name: str) -> Any:
        return jsonify(item_id=item_id, name=name)

    assert env.get("/items/7/pen", env.access_token()) == (200, {"item_id": 7, "name": "pen"})


def test_method_view_decorators(env: Env) -> None:
    lib = env.lib

    class Things(MethodView):
        decorators = [lib.jwt_required()]

        def get(self) -> Any:
            return jsonify(identity=lib.get_jwt_identity())

    env.app.add_url_rule("/things", view_func=Things.as_view("things"))
    assert env.get("/things") == (401, {"msg": "Missing Authorization Header"})
    assert env.get("/things", env.access_token("mo")) == (200, {"identity": "mo"})


def test_view_return_value_untouched(env: Env) -> None:
    lib = env.lib

    @env.app.route("/custom")
    @lib.jwt_required()
    def custom() -> Any:
        return "created", 201, {"X-Thing": "1"}

    resp = env.client.get("/custom", headers={"Authorization": f"Bearer {env.access_token()}"})
    assert (resp.status_code, resp.get_data(as_text=True), resp.headers["X-Thing"]) == (
        201,
        "created",
        "1",
    )


def test_view_matrix_differential(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        tokens = {
            "none": None,
            "access": env.access_token(),
            "fresh": env.access_token(fresh=True),
            "refresh": env.refresh_token(),
            "expired": env.access_token(expires_delta=timedelta(seconds=-5)),
            "garbage": "x.y",
        }
        return {
            f"{path} {name}": env.get(path, token)
            for path in ["/protected", "/optional", "/fresh", "/refresh", "/any_type"]
            for name, token in tokens.items()
        }

    results = differential(scenario)
    assert results["/optional none"] == (200, ANON)
    assert results["/fresh fresh"][0] == 200


def test_async_view_with_flask_async_extra(lib: Any) -> None:
    # Plain Flask (asgiref, the "async" extra, is a test dependency), not make_app's
    # AsyncFlask.
    from flask import Flask

    app = Flask("async_plain")
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    lib.JWTManager(app)

    @app.route("/a")
    @lib.jwt_required(fresh=True)
    async def a() -> Any:
        await asyncio.sleep(0)
        return jsonify(identity=lib.get_jwt_identity(), fresh=lib.get_jwt()["fresh"])

    with app.app_context():
        fresh = lib.create_access_token("f", fresh=True)
        stale = lib.create_access_token("s")
    client = app.test_client()
    resp = client.get("/a", headers={"Authorization": f"Bearer {fresh}"})
    assert (resp.status_code, resp.get_json()) == (200, {"identity": "f", "fresh": True})
    resp = client.get("/a", headers={"Authorization": f"Bearer {stale}"})
    assert (resp.status_code, resp.get_json()) == (401, {"msg": "Fresh token required"})
