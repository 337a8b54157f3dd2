"""JWT_* configuration: defaults, live changes, bad values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException

from tests.helpers import SECRET, Env, make_app

# The documented default of every Flask-JWT-Extended 4.x key.
DEFAULTS: dict[str, Any] = {
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_ACCESS_COOKIE_NAME": "access_token_cookie",
    "JWT_ACCESS_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_COOKIE_NAME": "csrf_access_token",
    "JWT_ACCESS_CSRF_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_FIELD_NAME": "csrf_token",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_ALGORITHM": "HS256",
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_COOKIE_DOMAIN": None,
    "JWT_COOKIE_SAMESITE": None,
    "JWT_COOKIE_SECURE": False,
    "JWT_CSRF_CHECK_FORM": False,
    "JWT_CSRF_IN_COOKIES": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "JWT_DECODE_ALGORITHMS": None,
    "JWT_DECODE_AUDIENCE": None,
    "JWT_DECODE_ISSUER": None,
    "JWT_DECODE_LEEWAY": 0,
    "JWT_ENCODE_AUDIENCE": None,
    "JWT_ENCODE_ISSUER": None,
    "JWT_ENCODE_NBF": True,
    "JWT_ERROR_MESSAGE_KEY": "msg",
    "JWT_HEADER_NAME": "Authorization",
    "JWT_HEADER_TYPE": "Bearer",
    "JWT_IDENTITY_CLAIM": "sub",
    "JWT_JSON_KEY": "access_token",
    "JWT_PRIVATE_KEY": None,
    "JWT_PUBLIC_KEY": None,
    "JWT_QUERY_STRING_NAME": "jwt",
    "JWT_QUERY_STRING_VALUE_PREFIX": "",
    "JWT_REFRESH_COOKIE_NAME": "refresh_token_cookie",
    "JWT_REFRESH_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_COOKIE_NAME": "csrf_refresh_token",
    "JWT_REFRESH_CSRF_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_FIELD_NAME": "csrf_token",
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_REFRESH_JSON_KEY": "refresh_token",
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
    "JWT_SECRET_KEY": None,
    "JWT_SESSION_COOKIE": True,
    "JWT_TOKEN_LOCATION": ["headers"],
    "JWT_VERIFY_SUB": True,
}
SEQUENCE_KEYS = {"JWT_CSRF_METHODS", "JWT_TOKEN_LOCATION"}


# --- defaults --------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_default_is_set_in_app_config(lib: Any, key: str) -> None:
    app = make_app(lib, routes=False, secret=None).app  # no JWT_SECRET_KEY: its default too
    value = app.config[key]
    if key in SEQUENCE_KEYS:
        value = list(value)
    assert value == DEFAULTS[key]


def test_defaults_differential(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        return {
            key: list(env.app.config[key]) if key in SEQUENCE_KEYS else env.app.config[key]
            for key in DEFAULTS
            if key != "JWT_SECRET_KEY"
        }

    differential(scenario)


def test_config_set_before_init_is_kept(lib: Any) -> None:
    config = {
        "JWT_HEADER_TYPE": "JWT",
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=1),
        "JWT_TOKEN_LOCATION": ["cookies"],
    }
    app = make_app(lib, config, routes=False).app
    assert app.config["JWT_HEADER_TYPE"] == "JWT"
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=1)
    assert list(app.config["JWT_TOKEN_LOCATION"]) == ["cookies"]
    assert app.config["JWT_SECRET_KEY"] == SECRET


def test_secret_key_falls_back_to_flask_secret_key(lib: Any) -> None:
    app = make_app(lib, {"SECRET_KEY": "flask-secret-" + "x" * 40}, routes=False, secret=None).app
    with app.app_context():
        token = lib.create_access_token("alice")
        assert lib.decode_token(token)["sub"] == "alice"
    assert pyjwt.decode(token, "flask-secret-" + "x" * 40, algorithms=["HS256"])["sub"] == "alice"


def test_jwt_secret_key_wins_over_secret_key(lib: Any) -> None:
    app = make_app(lib, {"SECRET_KEY": "flask-" + "x" * 40}, routes=False).app
    with app.app_context():
        token = lib.create_access_token("alice")
    assert pyjwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "alice"


# --- changing app.config after init_app -----------------------------------------------


def test_change_header_type_after_init(env: Env) -> None:
    token = env.access_token()
    assert env.request("GET", "/protected", headers={"Authorization": f"JWT {token}"})[0] == 401
    env.app.config["JWT_HEADER_TYPE"] = "JWT"
    assert env.request("GET", "/protected", headers={"Authorization": f"JWT {token}"})[0] == 200


def test_change_token_location_after_init(env: Env) -> None:
    token = env.access_token()
    assert env.request("GET", "/protected", query_string={"jwt": token})[0] == 401
    env.app.config["JWT_TOKEN_LOCATION"] = ["query_string"]
    assert env.request("GET", "/protected", query_string={"jwt": token})[1]["location"] == "query_string"


def test_change_error_message_key_after_init(env: Env) -> None:
    assert env.get("/protected") == (401, {"msg": "Missing Authorization Header"})
    env.app.config["JWT_ERROR_MESSAGE_KEY"] = "error"
    assert env.get("/protected") == (401, {"error": "Missing Authorization Header"})


def test_change_expiry_after_init(env: Env) -> None:
    env.app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=3)
    claims = env.decode(env.access_token())
    assert claims["exp"] - claims["iat"] == 180


def test_change_secret_after_init(env: Env) -> None:
    old = env.access_token()
    env.app.config["JWT_SECRET_KEY"] = "new-secret-" + "z" * 40
    assert env.get("/protected", old) == (422, {"msg": "Signature verification failed"})
    assert env.get("/protected", env.access_token())[0] == 200


def test_in_place_list_edit_after_init(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["cookies"], JWT_CSRF_METHODS=["POST"])
    env.request("POST", "/login")
    assert env.request("GET", "/protected")[0] == 200
    env.app.config["JWT_CSRF_METHODS"].append("GET")
    assert env.request("GET", "/protected") == (401, {"msg": "Missing CSRF token"})


def test_change_between_requests_both_ways(env: Env) -> None:
    token = env.access_token()
    for location, kwargs in [
        ("headers", {"headers": {"Authorization": f"Bearer {token}"}}),
        ("query_string", {"query_string": {"jwt": token}}),
        ("headers", {"headers": {"Authorization": f"Bearer {token}"}}),
    ]:
        env.app.config["JWT_TOKEN_LOCATION"] = [location]
        assert env.request("GET", "/protected", **kwargs)[1]["location"] == location


def test_change_verify_sub_after_init(env: Env) -> None:
    token = env.access_token(1)
    assert env.get("/protected", token)[0] == 422
    env.app.config["JWT_VERIFY_SUB"] = False
    assert env.get("/protected", token)[0] == 200


# --- bad values ------------------------------------------------------------------------


def raises_naming(key: str, build: Callable[[], Any]) -> None:
    """``build`` (app set-up, token creation and a request) must raise an error naming key.

    Raising early (at init_app) or late (when the value is used) are both fine.
    """
    with pytest.raises(Exception) as info:  # noqa: B017 - the type is the library's choice
        build()
    assert not isinstance(info.value, HTTPException)
    assert key in str(info.value), f"error does not name {key}: {info.value!r}"


def route_p(app: Flask, lib: Any) -> None:
    """``routes`` for make_app: ``/p``, protected."""

    @app.route("/p")
    @lib.jwt_required()
    def p() -> str:
        return "ok"


def _exercise(lib: Any, **config: Any) -> Callable[[], Any]:
    """App without JWT_SECRET_KEY unless ``config`` has one, a token, a request."""

    def run() -> Any:
        app = make_app(lib, config, routes=route_p, secret=None).app
        with app.app_context():
            token = lib.create_access_token("alice")
        return app.test_client().get("/p", headers={"Authorization": f"Bearer {token}"})

    return run


@pytest.mark.parametrize(
    "value",
    [["headers", "nowhere"], "body", [], ["HEADERS"]],
    ids=["unknown-in-list", "unknown-string", "empty", "wrong-case"],
)
def test_bad_token_location(lib: Any, value: Any) -> None:
    raises_naming("JWT_TOKEN_LOCATION", _exercise(lib, JWT_SECRET_KEY=SECRET, JWT_TOKEN_LOCATION=value))


@pytest.mark.parametrize("key", ["JWT_ACCESS_TOKEN_EXPIRES", "JWT_REFRESH_TOKEN_EXPIRES"])
@pytest.mark.parametrize("value", ["15 minutes", 1.5j, [900]], ids=["str", "complex", "list"])
def test_bad_expiry(lib: Any, key: str, value: Any) -> None:
    def run() -> Any:
        app = make_app(lib, {key: value}, routes=False).app
        with app.app_context():
            lib.create_access_token("a")
            lib.create_refresh_token("a")

    raises_naming(key, run)


def test_missing_secret(lib: Any) -> None:
    raises_naming("JWT_SECRET_KEY", _exercise(lib, JWT_SECRET_KEY=None, SECRET_KEY=None))


def test_missing_secret_on_decode(lib: Any) -> None:
    # A token arrives at an app that has no key to check it with.
    token = pyjwt.encode({"sub": "a"}, SECRET, algorithm="HS256")

    def run() -> Any:
        app = make_app(lib, {"SECRET_KEY": None}, routes=route_p, secret=None).app
        return app.test_client().get("/p", headers={"Authorization": f"Bearer {token}"})

    raises_naming("JWT_SECRET_KEY", run)


def test_bad_value_set_after_init_raises_on_use(env: Env) -> None:
    env.app.config["JWT_TOKEN_LOCATION"] = ["nowhere"]

    def run() -> Any:
        return env.get("/protected", env.access_token())

    raises_naming("JWT_TOKEN_LOCATION", run)


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_missing_private_key(lib: Any, algorithm: str) -> None:
    raises_naming("JWT_PRIVATE_KEY", _exercise(lib, JWT_ALGORITHM=algorithm))


def test_bad_route_location_names_it(lib: Any) -> None:
    def run() -> Any:
        app = make_app(lib, routes=False).app
        app.add_url_rule("/b", "b", lib.jwt_required(locations="nowhere")(lambda: "x"))
        return app.test_client().get("/b")

    raises_naming("nowhere", run)
