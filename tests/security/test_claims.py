"""Claim validation: time claims around the leeway, issuer and audience
confusion, access/refresh confusion, freshness and revocation."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from tests.helpers import SECRET

from .forge import (
    CANARY_SUB,
    EXPIRED,
    FRESH_REQUIRED,
    INVALID,
    LOCATIONS,
    MISSING,
    REVOKED,
    WRONG_TYPE,
    SecApp,
    assert_accepted,
    assert_rejected,
    hs_sign,
    security_app,
    send,
    unverified_payload,
)

LEEWAY = 30


@pytest.fixture(scope="module")
def lenient() -> SecApp:
    return security_app(JWT_DECODE_LEEWAY=LEEWAY)


# --- exp / nbf / iat

# (app, claim, offset from now in seconds, expected status or 200)
TIME_CASES: list[tuple[str, str, int, int]] = [
    ("strict", "exp", -5, EXPIRED),
    ("strict", "exp", -3600, EXPIRED),
    ("strict", "exp", +5, 200),
    ("lenient", "exp", -(LEEWAY - 10), 200),
    ("lenient", "exp", -(LEEWAY + 10), EXPIRED),
    ("strict", "nbf", +10, INVALID),
    ("strict", "nbf", -5, 200),
    ("lenient", "nbf", LEEWAY - 10, 200),
    ("lenient", "nbf", LEEWAY + 10, INVALID),
    ("strict", "iat", +10, INVALID),
    ("strict", "iat", -86400, 200),
    ("lenient", "iat", LEEWAY - 10, 200),
    ("lenient", "iat", LEEWAY + 10, INVALID),
]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize(
    ("app_name", "claim", "offset", "expected"),
    TIME_CASES,
    ids=[f"{a}-{c}{o:+d}s" for a, c, o, _ in TIME_CASES],
)
def test_time_claims_around_leeway(
    hs: SecApp,
    lenient: SecApp,
    location: str,
    app_name: str,
    claim: str,
    offset: int,
    expected: int,
) -> None:
    app = hs if app_name == "strict" else lenient
    now = int(time.time())
    if claim == "exp":
        token = app.access(CANARY_SUB, expires_delta=timedelta(seconds=offset))
    else:
        token = app.access(CANARY_SUB, additional_claims={claim: now + offset})
    resp = send(app.client, location, token)
    if expected == 200:
        assert_accepted(resp, CANARY_SUB)
    else:
        assert_rejected(resp, expected, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_expired_message(hs: SecApp, location: str) -> None:
    token = hs.access(CANARY_SUB, expires_delta=timedelta(seconds=-60))
    resp = send(hs.client, location, token)
    assert_rejected(resp, EXPIRED, token=token)
    assert resp.get_json() == {"msg": "Token has expired"}


# --- issuer / audience

ISSUER = "https://auth.example.com"
AUDIENCE = "api://orders"
MISSING_CLAIM = object()

ISS_CASES: dict[str, Any] = {
    "exact": ISSUER,
    "suffix-domain": ISSUER + ".evil.test",
    "prefix": ISSUER[:-1],
    "trailing-slash": ISSUER + "/",
    "upper-case": ISSUER.upper(),
    "list": [ISSUER],
    "int": 1,
    "null": None,
    "empty": "",
    "missing": MISSING_CLAIM,
}
AUD_CASES: dict[str, Any] = {
    "exact": AUDIENCE,
    "list-containing": ["api://other", AUDIENCE],
    "prefix-of-other": AUDIENCE + "-admin",
    "truncated": AUDIENCE[:-1],
    "other": "api://other",
    "list-without": ["api://other"],
    "empty-list": [],
    "int": 1,
    "list-of-int": [1],
    "object": {AUDIENCE: True},
    "null": None,
    "empty": "",
    "missing": MISSING_CLAIM,
}
ACCEPTED = {"iss": {"exact"}, "aud": {"exact", "list-containing"}}


@pytest.fixture(scope="module")
def iss_app() -> SecApp:
    return security_app(JWT_DECODE_ISSUER=ISSUER)


@pytest.fixture(scope="module")
def aud_app() -> SecApp:
    return security_app(JWT_DECODE_AUDIENCE=AUDIENCE)


CONFUSION = [("iss", c) for c in ISS_CASES] + [("aud", c) for c in AUD_CASES]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize(("claim", "case"), CONFUSION, ids=[f"{c}-{k}" for c, k in CONFUSION])
def test_issuer_audience_confusion(
    iss_app: SecApp, aud_app: SecApp, location: str, claim: str, case: str
) -> None:
    app = iss_app if claim == "iss" else aud_app
    value = (ISS_CASES if claim == "iss" else AUD_CASES)[case]
    claims = unverified_payload(app.access(CANARY_SUB))
    if value is not MISSING_CLAIM:
        claims[claim] = value  # signed by hand: encoders refuse some of these values
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims, SECRET)
    resp = send(app.client, location, token)
    if case in ACCEPTED[claim]:
        assert_accepted(resp, CANARY_SUB)
    else:
        assert_rejected(resp, INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_audience_list_configured(location: str) -> None:
    app = security_app(JWT_DECODE_AUDIENCE=["api://a", "api://b"])
    assert_accepted(send(app.client, location, app.access(additional_claims={"aud": "api://b"})))
    token = app.access(CANARY_SUB, additional_claims={"aud": "api://c"})
    assert_rejected(send(app.client, location, token), INVALID, token=token)


# --- token types and freshness


@pytest.mark.parametrize("location", LOCATIONS)
def test_refresh_token_on_access_route(hs: SecApp, location: str) -> None:
    token = hs.refresh(CANARY_SUB)
    assert_rejected(send(hs.client, location, token), WRONG_TYPE, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_access_token_on_refresh_route(hs: SecApp, location: str) -> None:
    token = hs.access(CANARY_SUB)
    resp = send(hs.client, location, token, path="/refresh", refresh=True)
    assert_rejected(resp, WRONG_TYPE, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_refresh_token_in_access_slot_of_refresh_route(hs: SecApp, location: str) -> None:
    """A refresh route reads the refresh cookie / JSON key, not the access ones."""
    token = hs.refresh(CANARY_SUB)
    resp = send(hs.client, location, token, path="/refresh", refresh=True)
    assert_accepted(resp, CANARY_SUB)
    if location in ("cookies", "json"):
        resp = send(hs.client, location, token, path="/refresh", refresh=False)
        assert_rejected(resp, MISSING, token=token)


FRESH_CASES: dict[str, tuple[Any, int]] = {
    "not-fresh": (False, FRESH_REQUIRED),
    "fresh": (True, 200),
    "fresh-for-5-min": (timedelta(minutes=5), 200),
    "freshness-lapsed": (timedelta(seconds=-5), FRESH_REQUIRED),
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(FRESH_CASES))
def test_fresh_only_route(hs: SecApp, location: str, case: str) -> None:
    fresh, expected = FRESH_CASES[case]
    token = hs.access(CANARY_SUB, fresh=fresh)
    resp = send(hs.client, location, token, path="/fresh")
    if expected == 200:
        assert_accepted(resp, CANARY_SUB)
    else:
        assert_rejected(resp, expected, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_refresh_token_on_fresh_route(hs: SecApp, location: str) -> None:
    token = hs.refresh(CANARY_SUB)
    resp = send(hs.client, location, token, path="/fresh")
    assert_rejected(resp, (WRONG_TYPE, FRESH_REQUIRED), token=token)


# --- revocation


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_revoked(hs: SecApp, location: str, kind: str) -> None:
    token = hs.access(CANARY_SUB) if kind == "access" else hs.refresh(CANARY_SUB)
    path = "/protected" if kind == "access" else "/refresh"
    refresh = kind == "refresh"
    assert_accepted(send(hs.client, location, token, path=path, refresh=refresh), CANARY_SUB)
    hs.revoke(token)
    resp = send(hs.client, location, token, path=path, refresh=refresh)
    assert_rejected(resp, REVOKED, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_revoked_and_expired_is_not_accepted(hs: SecApp, location: str) -> None:
    token = hs.access(CANARY_SUB, expires_delta=timedelta(seconds=-60))
    hs.revoke(token)
    assert_rejected(send(hs.client, location, token), (EXPIRED, REVOKED), token=token)


# --- optional routes


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", ["forged", "expired", "revoked", "refresh"])
def test_optional_route_does_not_ignore_bad_tokens(hs: SecApp, location: str, case: str) -> None:
    if case == "forged":
        token = hs.access(CANARY_SUB)[:-4] + "AAAA"
    elif case == "expired":
        token = hs.access(CANARY_SUB, expires_delta=timedelta(seconds=-60))
    elif case == "revoked":
        token = hs.access(CANARY_SUB)
        hs.revoke(token)
    else:
        token = hs.refresh(CANARY_SUB)
    resp = send(hs.client, location, token, path="/optional")
    expected = {"forged": INVALID, "expired": EXPIRED, "revoked": REVOKED, "refresh": WRONG_TYPE}
    assert_rejected(resp, expected[case], token=token)


def test_optional_route_without_token(hs: SecApp) -> None:
    resp = hs.client.get("/optional")
    assert resp.status_code == 200 and resp.get_json() == {"identity": None}
