"""Cookie tossing, every variant (second review round, family 2).

A sibling (sub)domain can plant a cookie named like the token cookie for the
parent domain; the browser then sends both, the planted one often first.  More
than one value for a token cookie (the access cookie on access routes, the
refresh cookie on refresh routes) is refused with 401 whatever the values are:
empty, valueless, quoted-empty, the same value twice, two different tokens.  The
refusal comes before anything else is decided, so an optional route does not
turn it into an anonymous request, and a token in a later location (``?jwt=``
from a link the attacker sent) is not used instead.  The CSRF cookies are not
token cookies: duplicates of them change nothing (the CSRF value is read from
the header).

Cookie headers are written raw into the WSGI environ (``HTTP_COOKIE``), as a
server passes them on.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from .forge import (
    CSRF_FAILED,
    SecApp,
    assert_accepted,
    assert_rejected,
    csrf_of,
    security_app,
)

# {n}: cookie name, {v}: the victim's token, {a}: the attacker's token.
TOSSED = {
    "empty-first": "{n}=; {n}={v}",
    "empty-last": "{n}={v}; {n}=",
    "empty-first-no-space": "{n}=;{n}={v}",
    "valueless-first": "{n}; {n}={v}",
    "valueless-last": "{n}={v}; {n}",
    "quoted-empty-first": '{n}=""; {n}={v}',
    "same-value-twice": "{n}={v}; {n}={v}",
    "same-value-quoted-and-plain": '{n}="{v}"; {n}={v}',
    "attacker-first": "{n}={a}; {n}={v}",
    "victim-first": "{n}={v}; {n}={a}",
    "garbage-first": "{n}=x; {n}={v}",
    "three-values": "{n}={v}; {n}=; {n}={v}",
    "other-cookie-between": "{n}=; theme=dark; {n}={v}",
    "two-empty": "{n}=; {n}=",
}
METHODS = ("GET", "POST")


def _request(
    sec: SecApp,
    cookie: str,
    *,
    method: str,
    path: str = "/protected",
    csrf: str | None = None,
    query: str | None = None,
) -> Any:
    environ = {"HTTP_COOKIE": cookie}
    if method != "GET" and csrf is not None:
        environ["HTTP_X_CSRF_TOKEN"] = csrf
    return sec.client.open(path, method=method, environ_overrides=environ, query_string=query)


def _cookie(template: str, name: str, victim: str, attacker: str) -> str:
    return template.format(n=name, v=victim, a=attacker)


def assert_tossing_refused(resp: Any, attacker: str) -> None:
    """401 from the unauthorized/CSRF response, and not as a request without a token."""
    assert_rejected(resp, CSRF_FAILED, token=attacker, secrets=("mallory",))
    message = resp.get_json()["msg"]
    assert "missing" not in message.lower(), f"refused as if no token had been sent: {message!r}"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/protected", "/optional"])
@pytest.mark.parametrize("case", list(TOSSED))
def test_tossed_access_cookie_refused(hs: SecApp, case: str, path: str, method: str) -> None:
    victim, attacker = hs.access("alice"), hs.access("mallory")
    cookie = _cookie(TOSSED[case], "access_token_cookie", victim, attacker)
    resp = _request(hs, cookie, method=method, path=path, csrf=csrf_of(victim))
    assert_tossing_refused(resp, attacker)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", list(TOSSED))
def test_tossed_refresh_cookie_refused(hs: SecApp, case: str, method: str) -> None:
    victim, attacker = hs.refresh("alice"), hs.refresh("mallory")
    cookie = _cookie(TOSSED[case], "refresh_token_cookie", victim, attacker)
    resp = _request(hs, cookie, method=method, path="/refresh", csrf=csrf_of(victim))
    assert_tossing_refused(resp, attacker)


# A planted cookie must not hand the decision to the next location, where the
# attacker's token waits in a link (?jwt=...).
PLANTED = {
    "empty": "access_token_cookie=",
    "valueless": "access_token_cookie",
    "quoted-empty": 'access_token_cookie=""',
    "empty-twice": "access_token_cookie=; access_token_cookie=",
    "empty-and-victim": "access_token_cookie=; access_token_cookie={v}",
}


@pytest.fixture(scope="module")
def cookies_then_query() -> SecApp:
    return security_app(JWT_TOKEN_LOCATION=["cookies", "query_string"])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/protected", "/optional"])
@pytest.mark.parametrize("app_name", ["cookies-then-query", "all-four"])
@pytest.mark.parametrize("case", list(PLANTED))
def test_planted_cookie_does_not_fall_through_to_query_string(
    hs: SecApp, cookies_then_query: SecApp, case: str, app_name: str, path: str, method: str
) -> None:
    sec = cookies_then_query if app_name == "cookies-then-query" else hs
    victim, attacker = sec.access("alice"), sec.access("mallory")
    cookie = PLANTED[case].format(v=victim)
    if case in ("empty", "valueless", "quoted-empty"):
        # One planted value alone is "no cookie"; with the victim's own cookie it is two.
        cookie += f"; access_token_cookie={victim}"
    query = "jwt=" + quote(attacker, safe="")
    resp = _request(sec, cookie, method=method, path=path, csrf=csrf_of(attacker), query=query)
    assert_tossing_refused(resp, attacker)


@pytest.mark.parametrize("case", ["empty-first", "same-value-twice", "attacker-first"])
def test_tossed_cookie_refused_even_if_an_earlier_location_has_a_token(hs: SecApp, case: str) -> None:
    """ "Before anything else is decided": a route that reads cookies refuses a
    tossed token cookie even when the Authorization header (tried first) holds a token."""
    victim, attacker = hs.access("alice"), hs.access("mallory")
    cookie = _cookie(TOSSED[case], "access_token_cookie", victim, attacker)
    environ = {"HTTP_COOKIE": cookie, "HTTP_AUTHORIZATION": f"Bearer {victim}"}
    resp = hs.client.get("/protected", environ_overrides=environ)
    assert_tossing_refused(resp, attacker)


# --- controls


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/protected", "/optional"])
def test_control_one_token_cookie_accepted(hs: SecApp, path: str, method: str) -> None:
    victim = hs.access("alice")
    resp = _request(hs, f"access_token_cookie={victim}", method=method, path=path, csrf=csrf_of(victim))
    assert_accepted(resp)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "csrf_cookies",
    [
        "csrf_access_token=a; csrf_access_token=b",
        "csrf_access_token=; csrf_access_token={c}",
        "csrf_refresh_token=a; csrf_refresh_token=b",
    ],
)
def test_duplicate_csrf_cookies_are_not_token_cookies(hs: SecApp, csrf_cookies: str, method: str) -> None:
    victim = hs.access("alice")
    cookie = csrf_cookies.format(c=csrf_of(victim)) + f"; access_token_cookie={victim}"
    assert_accepted(_request(hs, cookie, method=method, csrf=csrf_of(victim)))


def test_control_no_cookie_on_optional_route_is_anonymous(hs: SecApp) -> None:
    resp = _request(hs, "theme=dark", method="GET", path="/optional")
    assert resp.status_code == 200 and resp.get_json() == {"identity": None}
