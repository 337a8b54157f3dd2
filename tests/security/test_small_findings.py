"""Smaller findings of the second review round (family 7).

(a) an unsupported ``crit`` extension is refused with a fixed message that does
not echo the attacker's text; (b) ``decode_key_loader`` gets copies: whatever it
does to the header and claims it is shown, the verified token is unaffected;
(c) ``decode_token(token, csrf_value="")`` checks the (empty, hence wrong) CSRF
value instead of skipping the check; (d) a wrongly typed ``fresh`` claim on a
fresh-only route is an invalid token (422), not a stale one; (e) under
``JWT_STRICT`` with the query string among the locations, error responses sent
before any token was chosen still carry ``Cache-Control: no-store``.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, jsonify

from tests.helpers import SECRET, make_app

from .forge import (
    CANARY_SUB,
    CSRF_FAILED,
    EXPIRED,
    FRESH_REQUIRED,
    INVALID,
    IS_REFERENCE,
    LOCATIONS,
    SecApp,
    assert_accepted,
    assert_rejected,
    csrf_of,
    hs_sign,
    lib,
    raw_payload,
    security_app,
    send,
    unverified_payload,
)

exceptions = importlib.import_module(f"{lib.__name__}.exceptions")

# --- (a) crit: a fixed message

CRIT_NAMES = {
    "script": "x-<script>alert(1)</script>",
    "canary": f"x-{CANARY_SUB}",
    "long": "x-" + "A" * 200,
    "rtl-override": "x-\u202eevil-extension",
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("name", list(CRIT_NAMES))
def test_unsupported_crit_message_does_not_echo(hs: SecApp, location: str, name: str) -> None:
    value = CRIT_NAMES[name]
    claims = unverified_payload(hs.access(CANARY_SUB))
    token = hs_sign({"alg": "HS256", "typ": "JWT", "crit": [value], value: 1}, claims, SECRET)
    resp = send(hs.client, location, token)
    assert_rejected(resp, INVALID, token=token, secrets=(CANARY_SUB, value))
    message = resp.get_json()["msg"]
    assert value[2:12] not in message and "<script>" not in message, message


def test_unsupported_crit_message_is_fixed(hs: SecApp) -> None:
    claims = unverified_payload(hs.access(CANARY_SUB))
    messages = set()
    for value in ("x-one", "x-two", "x-three-" + "z" * 40):
        token = hs_sign({"alg": "HS256", "typ": "JWT", "crit": [value], value: 1}, claims, SECRET)
        messages.add(send(hs.client, "headers", token).get_json()["msg"])
    assert len(messages) == 1, messages


# --- (b) decode_key_loader gets copies


def _mutate_sub(header: dict[str, Any], claims: dict[str, Any]) -> None:
    claims["sub"] = "mallory"


def _mutate_alg(header: dict[str, Any], claims: dict[str, Any]) -> None:
    header["alg"] = "none"


def _mutate_type(header: dict[str, Any], claims: dict[str, Any]) -> None:
    claims["type"] = "refresh"


def _mutate_exp(header: dict[str, Any], claims: dict[str, Any]) -> None:
    claims["exp"] = 4102444800


def _mutate_fresh(header: dict[str, Any], claims: dict[str, Any]) -> None:
    claims["fresh"] = True


def _mutate_csrf(header: dict[str, Any], claims: dict[str, Any]) -> None:
    claims["csrf"] = "attacker-chosen"


def _clear_all(header: dict[str, Any], claims: dict[str, Any]) -> None:
    header.clear()
    claims.clear()


# name: (mutation, path, token kind, CSRF header sent, expected status)
MUTATIONS: dict[str, tuple[Callable[[dict[str, Any], dict[str, Any]], None], str, str, str | None, int]] = {
    "sub-to-mallory": (_mutate_sub, "/protected", "valid", None, 200),
    "alg-to-none": (_mutate_alg, "/protected", "valid", None, 200),
    "type-to-refresh": (_mutate_type, "/protected", "valid", None, 200),
    "clear-both": (_clear_all, "/protected", "valid", None, 200),
    "exp-extended": (_mutate_exp, "/protected", "expired", None, EXPIRED),
    "made-fresh": (_mutate_fresh, "/fresh", "valid", None, FRESH_REQUIRED),
    "csrf-replaced": (_mutate_csrf, "/protected", "valid", "attacker-chosen", CSRF_FAILED),
}


def _loader_routes(app: Flask, lib: Any) -> None:
    def show() -> Any:
        claims = lib.get_jwt()
        return jsonify(
            identity=lib.get_jwt_identity(),
            alg=lib.get_jwt_header().get("alg"),
            type=claims.get("type"),
            exp=claims.get("exp"),
        )

    app.add_url_rule("/protected", "protected", lib.jwt_required()(show), methods=["GET", "POST"])
    app.add_url_rule("/fresh", "fresh", lib.jwt_required(fresh=True)(show), methods=["GET", "POST"])


@pytest.mark.parametrize("case", list(MUTATIONS))
def test_decode_key_loader_gets_copies(case: str) -> None:
    mutate, path, kind, csrf, expected = MUTATIONS[case]

    def setup(jwt: Any) -> None:
        @jwt.decode_key_loader
        def key(header: dict[str, Any], claims: dict[str, Any]) -> str:
            mutate(header, claims)
            return SECRET

    env = make_app(lib, {"JWT_TOKEN_LOCATION": ["headers", "cookies"]}, routes=_loader_routes, setup=setup)
    delta = timedelta(seconds=-60) if kind == "expired" else None
    token = env.access_token("alice", expires_delta=delta)
    original = unverified_payload(token)
    client = env.app.test_client(use_cookies=False)
    if csrf is None:
        resp = client.get(path, headers={"Authorization": f"Bearer {token}"})
    else:
        environ = {"HTTP_COOKIE": f"access_token_cookie={token}", "HTTP_X_CSRF_TOKEN": csrf}
        resp = client.post(path, environ_overrides=environ)
    if expected != 200:
        assert_rejected(resp, expected, token=token, secrets=("mallory",))
        return
    assert resp.status_code == 200, resp.get_data()[:300]
    assert resp.get_json() == {"identity": "alice", "alg": "HS256", "type": "access", "exp": original["exp"]}


def test_control_decode_key_loader_csrf_cookie_accepted() -> None:
    def setup(jwt: Any) -> None:
        jwt.decode_key_loader(lambda header, claims: SECRET)

    env = make_app(lib, {"JWT_TOKEN_LOCATION": ["cookies"]}, routes=_loader_routes, setup=setup)
    token = env.access_token("alice")
    environ = {"HTTP_COOKIE": f"access_token_cookie={token}", "HTTP_X_CSRF_TOKEN": csrf_of(token)}
    resp = env.app.test_client(use_cookies=False).post("/protected", environ_overrides=environ)
    assert resp.status_code == 200 and resp.get_json()["identity"] == "alice"


# --- (c) decode_token(csrf_value="")


@pytest.fixture
def env() -> Any:
    return make_app(lib, {"JWT_TOKEN_LOCATION": ["headers", "cookies"]}, routes=False)


@pytest.mark.parametrize("csrf_value", ["", "wrong", " "], ids=["empty", "wrong", "space"])
def test_decode_token_checks_every_given_csrf_value(env: Any, csrf_value: str) -> None:
    token = env.access_token("alice")
    with env.app.app_context(), pytest.raises(exceptions.CSRFError):
        lib.decode_token(token, csrf_value=csrf_value)


def test_decode_token_csrf_controls(env: Any) -> None:
    token = env.access_token("alice")
    with env.app.app_context():
        assert lib.decode_token(token)["sub"] == "alice"
        assert lib.decode_token(token, csrf_value=None)["sub"] == "alice"
        assert lib.decode_token(token, csrf_value=csrf_of(token))["sub"] == "alice"


# --- (d) a wrongly typed fresh claim

BAD_FRESH = ['"yes"', '"true"', '"1"', "[true]", '{"fresh":true}']


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("value", BAD_FRESH)
def test_mistyped_fresh_is_invalid_on_fresh_route(hs: SecApp, location: str, value: str) -> None:
    claims = unverified_payload(hs.access(CANARY_SUB))
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, raw_payload(claims, {"fresh": value}), SECRET)
    assert_rejected(send(hs.client, location, token, path="/fresh"), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_control_boolean_fresh(hs: SecApp, location: str) -> None:
    assert_accepted(send(hs.client, location, hs.access("alice", fresh=True), path="/fresh"))
    token = hs.access(CANARY_SUB, fresh=False)
    assert_rejected(send(hs.client, location, token, path="/fresh"), FRESH_REQUIRED, token=token)


# --- (e) no-store on early errors under JWT_STRICT


STRICT_LOCATIONS = {"all": list(LOCATIONS), "headers-query": ["headers", "query_string"]}


@pytest.fixture(scope="module")
def strict_apps() -> dict[str, SecApp]:
    if IS_REFERENCE:
        pytest.skip("JWT_STRICT is flask_jwt_guard's")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return {
            name: security_app(JWT_STRICT=True, JWT_COOKIE_SECURE=True, JWT_TOKEN_LOCATION=locations)
            for name, locations in STRICT_LOCATIONS.items()
        }


# name: (Authorization header or None, query string or None, Cookie header or None)
EARLY_ERRORS: dict[str, tuple[str | None, str | None, str | None]] = {
    "no-token": (None, None, None),
    "empty-query-value": (None, "jwt=", None),
    "other-query-parameter": (None, "page=2", None),
    "bad-authorization-header": ("Bearer a b", None, None),
    "scheme-only": ("Bearer", None, None),
    "two-bearers": ("Bearer a, Bearer b", None, None),
    "bad-header-and-query-token": ("Bearer a b", "jwt={t}", None),
    "tossed-cookie": (None, None, "__Host-access_token_cookie=; __Host-access_token_cookie=x"),
}
EARLY_CASES = [
    (app, case)
    for app, locations in STRICT_LOCATIONS.items()
    for case, (_, _, cookie) in EARLY_ERRORS.items()
    if cookie is None or "cookies" in locations
]


@pytest.mark.parametrize(("app_name", "case"), EARLY_CASES, ids=[f"{a}-{c}" for a, c in EARLY_CASES])
def test_strict_early_errors_are_not_cached(strict_apps: dict[str, SecApp], app_name: str, case: str) -> None:
    sec = strict_apps[app_name]
    authorization, query, cookie = EARLY_ERRORS[case]
    token = sec.access("alice")
    environ = {}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    query_string = query.format(t=quote(token, safe="")) if query is not None else None
    resp = sec.client.get("/protected", environ_overrides=environ, query_string=query_string)
    assert_rejected(resp, (401, INVALID), token=token)
    assert "no-store" in resp.headers.get("Cache-Control", ""), dict(resp.headers)
