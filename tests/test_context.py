"""Request-context helpers: get_jwt*, current_user, template context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pytest
from flask import Flask, jsonify, render_template_string

from tests.helpers import SECRET, Env


@dataclass(frozen=True)
class User:
    name: str
    admin: bool = False


USERS = MappingProxyType({"alice": User("alice", admin=True), "bob": User("bob")})


def with_user_lookup(jwt: Any) -> None:
    @jwt.user_lookup_loader
    def load(header: dict[str, Any], data: dict[str, Any]) -> User | None:
        return USERS.get(data["sub"])


def test_get_jwt_and_header(env: Env) -> None:
    lib = env.lib

    @env.app.route("/claims")
    @lib.jwt_required()
    def claims() -> Any:
        return jsonify(jwt=lib.get_jwt(), header=lib.get_jwt_header())

    token = env.access_token(additional_claims={"role": "x"}, additional_headers={"kid": "k1"})
    status, body = env.get("/claims", token)
    assert status == 200
    assert body["jwt"] == env.decode(token)
    assert body["jwt"]["role"] == "x"
    assert body["header"] == {"alg": "HS256", "kid": "k1", "typ": "JWT"}


def test_get_jwt_identity_custom_claim(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_IDENTITY_CLAIM="uid")
    assert env.get("/protected", env.access_token("u-1"))[1]["identity"] == "u-1"


@pytest.mark.parametrize(
    ("config_location", "kwargs_for"),
    [
        ("headers", lambda t: {"headers": {"Authorization": f"Bearer {t}"}}),
        ("query_string", lambda t: {"query_string": {"jwt": t}}),
        ("json", lambda t: {"json": {"access_token": t}}),
    ],
)
def test_get_jwt_request_location(
    make_env: Callable[..., Env], config_location: str, kwargs_for: Callable[[str], Any]
) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["headers", "query_string", "json", "cookies"])
    method = "POST" if config_location == "json" else "GET"
    status, body = env.request(method, "/protected", **kwargs_for(env.access_token()))
    assert (status, body["location"]) == (200, config_location)


def test_get_jwt_request_location_cookies(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["headers", "cookies"])
    env.client.set_cookie("access_token_cookie", env.access_token())
    assert env.get("/protected")[1]["location"] == "cookies"


# --- current_user -------------------------------------------------------------------


def test_current_user_and_get_current_user(make_env: Callable[..., Env]) -> None:
    env = make_env(setup=with_user_lookup)
    lib = env.lib

    @env.app.route("/me")
    @lib.jwt_required()
    def me() -> Any:
        user = lib.get_current_user()
        return jsonify(
            name=lib.current_user.name,
            admin=lib.current_user.admin,
            same=user is USERS[lib.get_jwt_identity()],
        )

    assert env.get("/me", env.access_token("alice")) == (
        200,
        {"name": "alice", "admin": True, "same": True},
    )
    assert env.get("/me", env.access_token("bob")) == (
        200,
        {"name": "bob", "admin": False, "same": True},
    )


def test_user_lookup_receives_header_and_data(make_env: Callable[..., Env]) -> None:
    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def setup(jwt: Any) -> None:
        @jwt.user_lookup_loader
        def load(header: dict[str, Any], data: dict[str, Any]) -> str:
            calls.append((header, data))
            return "user"

    env = make_env(setup=setup)
    token = env.access_token("alice", additional_headers={"kid": "z"})
    assert env.get("/protected", token)[0] == 200
    assert len(calls) == 1
    assert calls[0][0]["kid"] == "z"
    assert calls[0][1] == env.decode(token)


def test_user_lookup_not_called_without_token(make_env: Callable[..., Env]) -> None:
    calls: list[str] = []

    def setup(jwt: Any) -> None:
        @jwt.user_lookup_loader
        def load(header: dict[str, Any], data: dict[str, Any]) -> str:
            calls.append(data["sub"])
            return "user"

    env = make_env(setup=setup)
    lib = env.lib

    @env.app.route("/opt_user")
    @lib.jwt_required(optional=True)
    def opt_user() -> Any:
        return jsonify(user=lib.get_current_user())

    assert env.get("/opt_user") == (200, {"user": None})
    assert calls == []
    assert env.get("/opt_user", env.access_token()) == (200, {"user": "user"})
    assert calls == ["alice"]


def test_user_lookup_failure_is_401(make_env: Callable[..., Env]) -> None:
    env = make_env(setup=with_user_lookup)
    assert env.get("/protected", env.access_token("nobody")) == (
        401,
        {"msg": "Error loading the user nobody"},
    )


def test_get_current_user_without_loader_raises(env: Env) -> None:
    lib = env.lib
    errors: list[BaseException] = []

    @env.app.route("/no_loader")
    @lib.jwt_required()
    def no_loader() -> Any:
        try:
            lib.get_current_user()
        except RuntimeError as exc:
            errors.append(exc)
        return jsonify(ok=True)

    assert env.get("/no_loader", env.access_token())[0] == 200
    assert len(errors) == 1


# --- outside protected views ---------------------------------------------------------


@pytest.mark.parametrize(
    "accessor",
    [
        lambda lib: lib.get_jwt(),
        lambda lib: lib.get_jwt_header(),
        lambda lib: lib.get_jwt_identity(),
        lambda lib: lib.get_current_user(),
        lambda lib: lib.current_user.name,
    ],
    ids=["get_jwt", "get_jwt_header", "get_jwt_identity", "get_current_user", "current_user"],
)
def test_runtime_error_outside_protected_view(
    make_env: Callable[..., Env], accessor: Callable[[Any], Any]
) -> None:
    env = make_env(setup=with_user_lookup)
    lib = env.lib
    raised: list[str] = []

    @env.app.route("/plain")
    def plain() -> Any:
        try:
            accessor(lib)
        except RuntimeError as exc:
            raised.append(str(exc))
        return jsonify(ok=True)

    # even with a valid token in the request: the view never verified it
    assert env.get("/plain", env.access_token())[0] == 200
    assert len(raised) == 1
    assert raised[0]


def test_runtime_error_in_app_context_without_request(env: Env) -> None:
    with env.app.test_request_context("/"):
        with pytest.raises(RuntimeError):
            env.lib.get_jwt()
        with pytest.raises(RuntimeError):
            env.lib.get_jwt_header()


def test_context_does_not_leak_between_requests(env: Env) -> None:
    lib = env.lib
    raised: list[bool] = []

    @env.app.route("/after")
    def after() -> Any:
        try:
            lib.get_jwt()
        except RuntimeError:
            raised.append(True)
        return jsonify(ok=True)

    assert env.get("/protected", env.access_token())[0] == 200
    env.get("/after")
    assert raised == [True]


def test_failed_verification_leaves_no_context(make_env: Callable[..., Env]) -> None:
    # verify_jwt_in_request failing (user lookup error) must not leave the jwt behind.
    env = make_env(setup=with_user_lookup)
    lib = env.lib
    seen: list[Any] = []

    @env.app.route("/try")
    def try_verify() -> Any:
        try:
            lib.verify_jwt_in_request()
        except Exception:
            pass
        try:
            seen.append(lib.get_jwt())
        except RuntimeError:
            seen.append("error")
        return jsonify(ok=True)

    env.get("/try", env.access_token("nobody"))
    assert seen == ["error"]


# --- templates ----------------------------------------------------------------------


def _template_app(lib: Any, via_init_app: bool) -> tuple[Flask, Any]:
    # Not make_app: this one passes add_context_processor to the constructor or to init_app.
    app = Flask("templates")
    app.config.update(TESTING=True, JWT_SECRET_KEY=SECRET)
    if via_init_app:
        jwt = lib.JWTManager()
        jwt.init_app(app, add_context_processor=True)
    else:
        jwt = lib.JWTManager(app, add_context_processor=True)
    with_user_lookup(jwt)

    @app.route("/page")
    @lib.jwt_required()
    def page() -> Any:
        return render_template_string("hello {{ current_user.name }}")

    return app, jwt


@pytest.mark.parametrize("via_init_app", [False, True], ids=["constructor", "init_app"])
def test_add_context_processor(lib: Any, via_init_app: bool) -> None:
    app, _ = _template_app(lib, via_init_app)
    with app.app_context():
        token = lib.create_access_token("bob")
    resp = app.test_client().get("/page", headers={"Authorization": f"Bearer {token}"})
    assert (resp.status_code, resp.get_data(as_text=True)) == (200, "hello bob")


def test_no_context_processor_by_default(make_env: Callable[..., Env]) -> None:
    env = make_env(setup=with_user_lookup)
    lib = env.lib

    @env.app.route("/page")
    @lib.jwt_required()
    def page() -> Any:
        return render_template_string("[{{ current_user }}]")

    resp = env.client.get("/page", headers={"Authorization": f"Bearer {env.access_token()}"})
    assert resp.get_data(as_text=True) == "[]"


@pytest.mark.parametrize("value", [0, "", [], False], ids=["zero", "empty-str", "empty-list", "false"])
def test_only_none_is_a_failed_user_lookup(make_env: Callable[..., Env], value: Any) -> None:
    env = make_env(setup=lambda jwt: jwt.user_lookup_loader(lambda h, d: value))
    lib = env.lib

    @env.app.route("/u")
    @lib.jwt_required()
    def u() -> Any:
        return jsonify(user=lib.get_current_user())

    assert env.get("/u", env.access_token()) == (200, {"user": value})


def test_get_jwt_request_location_outside_protected_view_is_none(env: Env) -> None:
    lib = env.lib

    @env.app.route("/where")
    def where() -> Any:
        return jsonify(location=lib.get_jwt_request_location())

    assert env.get("/where", env.access_token()) == (200, {"location": None})
