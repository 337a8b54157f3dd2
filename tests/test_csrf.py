"""Cookies with CSRF double submit protection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import GUARD, Env

CSRF_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
MISSING_CSRF = (401, {"msg": "Missing CSRF token"})
MISMATCH = (401, {"msg": "CSRF double submit tokens do not match"})


def logged_in(make_env: Callable[..., Env], **config: Any) -> Env:
    config.setdefault("JWT_TOKEN_LOCATION", ["cookies"])
    env = make_env(**config)
    assert env.request("POST", "/login")[0] == 200
    return env


def cookie(env: Env, name: str) -> str:
    value = env.client.get_cookie(name)
    assert value is not None, f"no cookie {name}"
    return value.value


@pytest.fixture
def cookie_env(make_env: Callable[..., Env]) -> Env:
    return logged_in(make_env)


# --- methods ------------------------------------------------------------------


@pytest.mark.parametrize("method", CSRF_METHODS)
def test_csrf_methods_need_token(cookie_env: Env, method: str) -> None:
    assert cookie_env.request(method, "/protected") == MISSING_CSRF


@pytest.mark.parametrize("method", CSRF_METHODS)
def test_csrf_methods_with_header(cookie_env: Env, method: str) -> None:
    csrf = cookie(cookie_env, "csrf_access_token")
    status, body = cookie_env.request(method, "/protected", headers={"X-CSRF-TOKEN": csrf})
    assert (status, body["location"]) == (200, "cookies")


@pytest.mark.parametrize("method", CSRF_METHODS)
def test_csrf_methods_mismatch(cookie_env: Env, method: str) -> None:
    assert cookie_env.request(method, "/protected", headers={"X-CSRF-TOKEN": "not-the-token"}) == MISMATCH


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_safe_methods_need_no_csrf(cookie_env: Env, method: str) -> None:
    assert cookie_env.request(method, "/protected")[0] == 200


def test_options_is_exempt(cookie_env: Env) -> None:
    response = cookie_env.client.open("/protected", method="OPTIONS")
    assert response.status_code == 200
    # Flask-JWT-Guard answers a preflight without running the view (see test_view.py).
    expected = b"" if cookie_env.lib is GUARD else b'{"method":"OPTIONS"}\n'
    assert response.get_data() == expected


def test_custom_csrf_methods(make_env: Callable[..., Env]) -> None:
    env = logged_in(make_env, JWT_CSRF_METHODS=["GET"])
    assert env.request("GET", "/protected") == MISSING_CSRF
    assert env.request("POST", "/protected")[0] == 200
    csrf = cookie(env, "csrf_access_token")
    assert env.request("GET", "/protected", headers={"X-CSRF-TOKEN": csrf})[0] == 200


def test_empty_csrf_header_is_missing(cookie_env: Env) -> None:
    assert cookie_env.request("POST", "/protected", headers={"X-CSRF-TOKEN": ""}) == MISSING_CSRF


def test_csrf_matches_token_claim(cookie_env: Env) -> None:
    csrf = cookie(cookie_env, "csrf_access_token")
    claims = cookie_env.decode(cookie(cookie_env, "access_token_cookie"))
    assert claims["csrf"] == csrf


# --- form field -----------------------------------------------------------------


def test_form_field_ignored_by_default(cookie_env: Env) -> None:
    csrf = cookie(cookie_env, "csrf_access_token")
    assert cookie_env.request("POST", "/protected", data={"csrf_token": csrf}) == MISSING_CSRF


def test_form_field_with_check_form(make_env: Callable[..., Env]) -> None:
    env = logged_in(make_env, JWT_CSRF_CHECK_FORM=True)
    csrf = cookie(env, "csrf_access_token")
    assert env.request("POST", "/protected", data={"csrf_token": csrf})[0] == 200
    assert env.request("POST", "/protected", data={"csrf_token": "wrong"}) == MISMATCH
    assert env.request("POST", "/protected", data={"other": csrf}) == MISSING_CSRF


def test_form_field_custom_names(make_env: Callable[..., Env]) -> None:
    env = logged_in(
        make_env,
        JWT_CSRF_CHECK_FORM=True,
        JWT_ACCESS_CSRF_FIELD_NAME="a_csrf",
        JWT_REFRESH_CSRF_FIELD_NAME="r_csrf",
    )
    access_csrf = cookie(env, "csrf_access_token")
    refresh_csrf = cookie(env, "csrf_refresh_token")
    assert env.request("POST", "/protected", data={"a_csrf": access_csrf})[0] == 200
    assert env.request("POST", "/refresh", data={"r_csrf": refresh_csrf})[0] == 200
    assert env.request("POST", "/protected", data={"csrf_token": access_csrf}) == MISSING_CSRF


def test_header_checked_before_form(make_env: Callable[..., Env]) -> None:
    env = logged_in(make_env, JWT_CSRF_CHECK_FORM=True)
    csrf = cookie(env, "csrf_access_token")
    status_body = env.request(
        "POST", "/protected", headers={"X-CSRF-TOKEN": csrf}, data={"csrf_token": "wrong"}
    )
    assert status_body[0] == 200


# --- turning it off ---------------------------------------------------------------


def test_csrf_protect_false(make_env: Callable[..., Env]) -> None:
    env = logged_in(make_env, JWT_COOKIE_CSRF_PROTECT=False)
    assert env.client.get_cookie("csrf_access_token") is None
    assert env.client.get_cookie("csrf_refresh_token") is None
    for method in CSRF_METHODS:
        assert env.request(method, "/protected")[0] == 200, method
    assert env.request("POST", "/refresh")[0] == 200


def test_csrf_only_applies_to_cookies(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_TOKEN_LOCATION=["headers", "cookies"])
    status, body = env.request(
        "POST", "/protected", headers={"Authorization": f"Bearer {env.access_token()}"}
    )
    assert (status, body["location"]) == (200, "headers")


def test_missing_csrf_with_combined_locations_is_not_combined(
    make_env: Callable[..., Env],
) -> None:
    # The cookie is there but its CSRF value is not: that is an error on its own,
    # not "Missing JWT in ...".
    env = logged_in(make_env, JWT_TOKEN_LOCATION=["headers", "cookies"])
    assert env.request("POST", "/protected") == MISSING_CSRF


# --- refresh ------------------------------------------------------------------------


def test_refresh_csrf_is_separate(cookie_env: Env) -> None:
    access_csrf = cookie(cookie_env, "csrf_access_token")
    refresh_csrf = cookie(cookie_env, "csrf_refresh_token")
    assert access_csrf != refresh_csrf
    assert cookie_env.request("POST", "/refresh") == MISSING_CSRF
    assert cookie_env.request("POST", "/refresh", headers={"X-CSRF-TOKEN": access_csrf}) == MISMATCH
    status, body = cookie_env.request("POST", "/refresh", headers={"X-CSRF-TOKEN": refresh_csrf})
    assert (status, body["type"]) == (200, "refresh")
    assert cookie_env.request("POST", "/protected", headers={"X-CSRF-TOKEN": refresh_csrf}) == MISMATCH


def test_refresh_csrf_custom_header_names(make_env: Callable[..., Env]) -> None:
    env = logged_in(
        make_env,
        JWT_ACCESS_CSRF_HEADER_NAME="X-Access-CSRF",
        JWT_REFRESH_CSRF_HEADER_NAME="X-Refresh-CSRF",
    )
    access_csrf = cookie(env, "csrf_access_token")
    refresh_csrf = cookie(env, "csrf_refresh_token")
    assert env.request("POST", "/protected", headers={"X-Access-CSRF": access_csrf})[0] == 200
    assert env.request("POST", "/refresh", headers={"X-Refresh-CSRF": refresh_csrf})[0] == 200
    assert env.request("POST", "/protected", headers={"X-CSRF-TOKEN": access_csrf}) == (MISSING_CSRF)
    assert env.request("POST", "/refresh", headers={"X-Access-CSRF": refresh_csrf}) == (MISSING_CSRF)


def test_refresh_cookie_get_needs_no_csrf(cookie_env: Env) -> None:
    assert cookie_env.request("GET", "/refresh")[1]["type"] == "refresh"


# --- tokens without a csrf claim ------------------------------------------------------


def test_token_without_csrf_claim_sent_with_csrf_value(make_env: Callable[..., Env]) -> None:
    writer = make_env(JWT_COOKIE_CSRF_PROTECT=False)
    env = make_env(JWT_TOKEN_LOCATION=["cookies"])
    env.client.set_cookie("access_token_cookie", writer.access_token())
    assert env.request("POST", "/protected", headers={"X-CSRF-TOKEN": "abc"}) == (
        422,
        {"msg": "Missing claim: csrf"},
    )


# --- differential matrix ---------------------------------------------------------------


def test_csrf_matrix_differential(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        env.request("POST", "/login")
        access_csrf = cookie(env, "csrf_access_token")
        refresh_csrf = cookie(env, "csrf_refresh_token")
        cases: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/protected", {}),
            ("POST", "/protected", {"headers": {"X-CSRF-TOKEN": access_csrf}}),
            ("POST", "/protected", {"headers": {"X-CSRF-TOKEN": refresh_csrf}}),
            ("POST", "/protected", {"data": {"csrf_token": access_csrf}}),
            ("POST", "/protected", {"json": {"csrf_token": access_csrf}}),
            ("PUT", "/refresh", {"headers": {"X-CSRF-TOKEN": refresh_csrf}}),
            ("DELETE", "/refresh", {}),
            ("PATCH", "/fresh", {"headers": {"X-CSRF-TOKEN": access_csrf}}),
            ("GET", "/optional", {}),
            ("POST", "/optional", {}),
            ("POST", "/optional", {"headers": {"X-CSRF-TOKEN": "x"}}),
            ("GET", "/only_headers", {}),
        ]
        return [env.request(m, p, **kw) for m, p, kw in cases]

    results = differential(scenario, config={"JWT_TOKEN_LOCATION": ["cookies"]})
    assert results[0] == MISSING_CSRF
    assert results[1][0] == 200
    assert results[2] == MISMATCH
    assert results[7] == (401, {"msg": "Fresh token required"})
    # optional=True does not swallow CSRF errors
    assert results[9] == MISSING_CSRF
    assert results[10] == MISMATCH


def test_check_form_matrix_differential(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        env.request("POST", "/login")
        access_csrf = cookie(env, "csrf_access_token")
        return [
            env.request("POST", "/protected", data={"csrf_token": access_csrf})[0],
            env.request("POST", "/protected", data={"csrf_token": ""})[0],
            env.request(
                "POST",
                "/protected",
                headers={"X-CSRF-TOKEN": "wrong"},
                data={"csrf_token": access_csrf},
            )[0],
            env.request("PUT", "/protected", query_string={"csrf_token": access_csrf})[0],
        ]

    results = differential(scenario, config={"JWT_TOKEN_LOCATION": ["cookies"], "JWT_CSRF_CHECK_FORM": True})
    assert results == [200, 401, 401, 401]
