"""set_*_cookies / unset_*_cookies: names, paths, domain, flags, max age."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import jsonify, request

from tests.helpers import Env

EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
ONE_YEAR = "31540000"
JWT_COOKIES = ["access_token_cookie", "refresh_token_cookie"]
CSRF_COOKIES = ["csrf_access_token", "csrf_refresh_token"]
ALL_COOKIES = JWT_COOKIES + CSRF_COOKIES


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, Any]]:
    first, *rest = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    attrs: dict[str, Any] = {}
    for part in rest:
        key, sep, val = part.partition("=")
        attrs[key.lower()] = val if sep else True
    return name, value, attrs


def set_cookies(resp: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for header in resp.headers.getlist("Set-Cookie"):
        name, value, attrs = parse_set_cookie(header)
        assert name not in out, f"cookie {name} set twice"
        out[name] = (value, attrs)
    return out


def stable_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes without the clock-dependent Expires of a Max-Age cookie."""
    attrs = dict(attrs)
    if "max-age" in attrs and attrs.get("expires") != EPOCH:
        attrs.pop("expires", None)
    return attrs


def is_deletion(value: str, attrs: dict[str, Any]) -> bool:
    return value == "" and (attrs.get("expires") == EPOCH or attrs.get("max-age") == "0")


def add_cookie_routes(env: Env) -> None:
    lib = env.lib

    @env.app.route("/set/<kind>", methods=["POST"])
    def set_kind(kind: str) -> Any:
        resp = jsonify(ok=True)
        kwargs: dict[str, Any] = {}
        if "max_age" in request.args:
            kwargs["max_age"] = int(request.args["max_age"])
        if "domain" in request.args:
            kwargs["domain"] = request.args["domain"]
        if kind == "access":
            lib.set_access_cookies(resp, lib.create_access_token("alice"), **kwargs)
        else:
            lib.set_refresh_cookies(resp, lib.create_refresh_token("alice"), **kwargs)
        return resp

    @env.app.route("/unset/<kind>", methods=["POST"])
    def unset_kind(kind: str) -> Any:
        resp = jsonify(ok=True)
        kwargs = {"domain": request.args["domain"]} if "domain" in request.args else {}
        fn = {
            "all": lib.unset_jwt_cookies,
            "access": lib.unset_access_cookies,
            "refresh": lib.unset_refresh_cookies,
        }[kind]
        fn(resp, **kwargs)
        return resp


@pytest.fixture
def cookie_factory(make_env: Callable[..., Env]) -> Callable[..., Env]:
    def factory(**config: Any) -> Env:
        config.setdefault("JWT_TOKEN_LOCATION", ["cookies"])
        env = make_env(**config)
        add_cookie_routes(env)
        return env

    return factory


# --- defaults ------------------------------------------------------------------


def test_login_sets_four_cookies_with_defaults(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory()
    cookies = set_cookies(env.client.post("/login"))
    assert sorted(cookies) == sorted(ALL_COOKIES)
    for name in JWT_COOKIES:
        assert cookies[name][1] == {"httponly": True, "path": "/"}, name
    for name in CSRF_COOKIES:
        assert cookies[name][1] == {"path": "/"}, name


def test_cookie_values(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory()
    cookies = set_cookies(env.client.post("/login"))
    access = env.decode(cookies["access_token_cookie"][0])
    refresh = env.decode(cookies["refresh_token_cookie"][0])
    assert (access["type"], refresh["type"]) == ("access", "refresh")
    assert cookies["csrf_access_token"][0] == access["csrf"]
    assert cookies["csrf_refresh_token"][0] == refresh["csrf"]


def test_cookie_login_then_access(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory()
    env.client.post("/login")
    assert env.request("GET", "/protected") == (
        200,
        {"identity": "alice", "location": "cookies", "type": "access"},
    )


# --- names and paths -------------------------------------------------------------


def test_custom_cookie_names(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(
        JWT_ACCESS_COOKIE_NAME="a_jwt",
        JWT_REFRESH_COOKIE_NAME="r_jwt",
        JWT_ACCESS_CSRF_COOKIE_NAME="a_csrf",
        JWT_REFRESH_CSRF_COOKIE_NAME="r_csrf",
    )
    cookies = set_cookies(env.client.post("/login"))
    assert sorted(cookies) == ["a_csrf", "a_jwt", "r_csrf", "r_jwt"]
    assert env.request("GET", "/protected")[0] == 200
    assert env.request("GET", "/refresh")[0] == 200
    env.client.delete_cookie("a_jwt")
    assert env.request("GET", "/protected") == (401, {"msg": 'Missing cookie "a_jwt"'})
    env.client.delete_cookie("r_jwt")
    assert env.request("GET", "/refresh") == (401, {"msg": 'Missing cookie "r_jwt"'})


def test_refresh_endpoint_missing_cookie_message(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory()
    assert env.request("GET", "/refresh") == (401, {"msg": 'Missing cookie "refresh_token_cookie"'})


def test_custom_cookie_paths(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(
        JWT_ACCESS_COOKIE_PATH="/api/",
        JWT_REFRESH_COOKIE_PATH="/token/refresh",
        JWT_ACCESS_CSRF_COOKIE_PATH="/csrf-a",
        JWT_REFRESH_CSRF_COOKIE_PATH="/csrf-r",
    )
    cookies = set_cookies(env.client.post("/login"))
    assert cookies["access_token_cookie"][1]["path"] == "/api/"
    assert cookies["refresh_token_cookie"][1]["path"] == "/token/refresh"
    assert cookies["csrf_access_token"][1]["path"] == "/csrf-a"
    assert cookies["csrf_refresh_token"][1]["path"] == "/csrf-r"
    unset = set_cookies(env.client.post("/logout"))
    assert unset["access_token_cookie"][1]["path"] == "/api/"
    assert unset["refresh_token_cookie"][1]["path"] == "/token/refresh"
    assert unset["csrf_access_token"][1]["path"] == "/csrf-a"
    assert unset["csrf_refresh_token"][1]["path"] == "/csrf-r"


# --- flags ------------------------------------------------------------------------


def test_domain_from_config(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(JWT_COOKIE_DOMAIN="example.com")
    cookies = set_cookies(env.client.post("/login"))
    assert {attrs.get("domain") for _, attrs in cookies.values()} == {"example.com"}
    unset = set_cookies(env.client.post("/logout"))
    assert {attrs.get("domain") for _, attrs in unset.values()} == {"example.com"}


def test_domain_argument_overrides_config(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(JWT_COOKIE_DOMAIN="example.com")
    cookies = set_cookies(env.client.post("/set/access?domain=other.org"))
    assert sorted(cookies) == ["access_token_cookie", "csrf_access_token"]
    assert {attrs.get("domain") for _, attrs in cookies.values()} == {"other.org"}
    cookies = set_cookies(env.client.post("/set/refresh?domain=other.org"))
    assert sorted(cookies) == ["csrf_refresh_token", "refresh_token_cookie"]
    assert {attrs.get("domain") for _, attrs in cookies.values()} == {"other.org"}
    unset = set_cookies(env.client.post("/unset/all?domain=other.org"))
    assert {attrs.get("domain") for _, attrs in unset.values()} == {"other.org"}


def test_secure_flag(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(JWT_COOKIE_SECURE=True)
    cookies = set_cookies(env.client.post("/login"))
    assert all(attrs.get("secure") is True for _, attrs in cookies.values())
    unset = set_cookies(env.client.post("/logout"))
    assert all(attrs.get("secure") is True for _, attrs in unset.values())


def test_not_secure_by_default(cookie_factory: Callable[..., Env]) -> None:
    cookies = set_cookies(cookie_factory().client.post("/login"))
    assert not any("secure" in attrs for _, attrs in cookies.values())


@pytest.mark.parametrize("samesite", ["Lax", "Strict", "None"])
def test_samesite(cookie_factory: Callable[..., Env], samesite: str) -> None:
    env = cookie_factory(JWT_COOKIE_SAMESITE=samesite)
    cookies = set_cookies(env.client.post("/login"))
    assert {attrs.get("samesite") for _, attrs in cookies.values()} == {samesite}
    unset = set_cookies(env.client.post("/logout"))
    assert {attrs.get("samesite") for _, attrs in unset.values()} == {samesite}


def test_httponly_only_on_jwt_cookies(cookie_factory: Callable[..., Env]) -> None:
    cookies = set_cookies(cookie_factory().client.post("/login"))
    assert [n for n, (_, attrs) in sorted(cookies.items()) if attrs.get("httponly")] == sorted(JWT_COOKIES)


# --- max age / session cookie ------------------------------------------------------


def test_session_cookie_by_default(cookie_factory: Callable[..., Env]) -> None:
    cookies = set_cookies(cookie_factory().client.post("/login"))
    for name, (_, attrs) in cookies.items():
        assert "max-age" not in attrs and "expires" not in attrs, name


def test_persistent_cookie_when_not_session(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(JWT_SESSION_COOKIE=False)
    cookies = set_cookies(env.client.post("/login"))
    for name, (_, attrs) in cookies.items():
        assert attrs.get("max-age") == ONE_YEAR, name
        assert "expires" in attrs, name


@pytest.mark.parametrize("session", [True, False])
def test_max_age_argument(cookie_factory: Callable[..., Env], session: bool) -> None:
    env = cookie_factory(JWT_SESSION_COOKIE=session)
    for kind in ("access", "refresh"):
        cookies = set_cookies(env.client.post(f"/set/{kind}?max_age=60"))
        assert len(cookies) == 2
        for name, (_, attrs) in cookies.items():
            assert attrs.get("max-age") == "60", name


# --- CSRF cookies --------------------------------------------------------------------


def test_csrf_in_cookies_false(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(JWT_CSRF_IN_COOKIES=False)
    cookies = set_cookies(env.client.post("/login"))
    assert sorted(cookies) == sorted(JWT_COOKIES)
    # protection is still on: the client must get the value elsewhere
    assert env.request("POST", "/protected") == (401, {"msg": "Missing CSRF token"})
    token = cookies["access_token_cookie"][0]
    csrf = env.call(env.lib.get_csrf_token, token)
    assert env.request("POST", "/protected", headers={"X-CSRF-TOKEN": csrf})[0] == 200
    assert sorted(set_cookies(env.client.post("/logout"))) == sorted(JWT_COOKIES)


def test_no_csrf_cookies_without_protection(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory(JWT_COOKIE_CSRF_PROTECT=False)
    assert sorted(set_cookies(env.client.post("/login"))) == sorted(JWT_COOKIES)
    assert sorted(set_cookies(env.client.post("/logout"))) == sorted(JWT_COOKIES)


# --- unset ----------------------------------------------------------------------------


def test_unset_jwt_cookies(cookie_factory: Callable[..., Env]) -> None:
    env = cookie_factory()
    env.client.post("/login")
    unset = set_cookies(env.client.post("/logout"))
    assert sorted(unset) == sorted(ALL_COOKIES)
    for name, (value, attrs) in unset.items():
        assert is_deletion(value, attrs), (name, value, attrs)
        assert attrs.get("path") == "/"
        assert bool(attrs.get("httponly")) == (name in JWT_COOKIES)
    for name in ALL_COOKIES:
        assert env.client.get_cookie(name) is None
    assert env.request("GET", "/protected")[0] == 401


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        ("access", ["access_token_cookie", "csrf_access_token"]),
        ("refresh", ["csrf_refresh_token", "refresh_token_cookie"]),
        ("all", sorted(ALL_COOKIES)),
    ],
)
def test_unset_each_kind(cookie_factory: Callable[..., Env], kind: str, names: list[str]) -> None:
    env = cookie_factory()
    env.client.post("/login")
    unset = set_cookies(env.client.post(f"/unset/{kind}"))
    assert sorted(unset) == names
    assert all(is_deletion(v, a) for v, a in unset.values())
    remaining = sorted(n for n in ALL_COOKIES if env.client.get_cookie(n) is not None)
    assert remaining == sorted(set(ALL_COOKIES) - set(names))


# --- differential ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"JWT_SESSION_COOKIE": False, "JWT_COOKIE_SECURE": True, "JWT_COOKIE_SAMESITE": "Strict"},
        {"JWT_COOKIE_DOMAIN": "example.com", "JWT_ACCESS_COOKIE_PATH": "/api"},
        {"JWT_CSRF_IN_COOKIES": False, "JWT_REFRESH_COOKIE_NAME": "rt"},
        {"JWT_COOKIE_CSRF_PROTECT": False, "JWT_COOKIE_SAMESITE": "Lax"},
    ],
    ids=["defaults", "persistent-secure-strict", "domain-path", "no-csrf-cookie", "no-csrf"],
)
def test_set_cookie_attributes_differential(differential: Callable[..., Any], config: dict[str, Any]) -> None:
    def scenario(env: Env) -> Any:
        add_cookie_routes(env)
        out = []
        for path in ("/login", "/set/access?max_age=5", "/set/refresh?domain=x.org", "/logout"):
            cookies = set_cookies(env.client.post(path))
            out.append(
                {
                    name: (
                        "<deleted>" if is_deletion(value, attrs) else "<value>",
                        stable_attrs(attrs)
                        if not is_deletion(value, attrs)
                        else {k: v for k, v in attrs.items() if k not in ("expires", "max-age")},
                    )
                    for name, (value, attrs) in cookies.items()
                }
            )
        return out

    result = differential(scenario, config={"JWT_TOKEN_LOCATION": ["cookies"], **config})
    assert len(result[0]) >= 2
