"""Numbers of any size in claims (second review round, family 1).

JSON numbers have no size limit, and Python's ``json`` turns ``10**400`` into an
int and ``1e400`` into ``inf``.  A correctly signed token carrying such a number
must get the invalid-token response (422): never a 500 (an ``OverflowError`` from
converting the int to a float), and never accepted as "infinitely far away"
(``exp``) or "fresh forever" (``fresh``).  The payloads are raw JSON bytes signed
with the real key, so the number is the only thing wrong.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import SECRET

from .forge import (
    CANARY_SUB,
    INVALID,
    LOCATIONS,
    KeyPair,
    SecApp,
    assert_accepted,
    assert_rejected,
    asym_sign,
    hs_sign,
    raw_payload,
    send,
    unverified_payload,
)

HS_HEADER = {"alg": "HS256", "typ": "JWT"}
RS_HEADER = {"alg": "RS256", "typ": "JWT"}

# Raw JSON numbers (the text is written into the payload as is).
HUGE_INTS = {
    "10**400": str(10**400),
    "-10**400": str(-(10**400)),
    "2**1024": str(2**1024),  # the smallest integer a float cannot hold (309 digits)
    "-2**1024": str(-(2**1024)),
    "400-nines": "9" * 400,
    "5000-digits": "1" + "0" * 4999,  # over CPython's int/str conversion limit (4300 digits)
}
NON_FINITE = {"1e400": "1e400", "-1e400": "-1e400", "1E+400": "1E+400"}
TIME_VALUES = {**HUGE_INTS, **NON_FINITE}
TIME_CLAIMS = ("exp", "nbf", "iat")
TIME_CASES = [(claim, value) for claim in TIME_CLAIMS for value in TIME_VALUES]
PATHS = ("/protected", "/optional")


def _hs_token(app: SecApp, raw: dict[str, str], identity: str = CANARY_SUB, **kwargs: Any) -> str:
    claims = unverified_payload(app.access(identity, **kwargs))
    return hs_sign(HS_HEADER, raw_payload(claims, raw), SECRET)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("claim", "value"), TIME_CASES, ids=[f"{c}={v}" for c, v in TIME_CASES])
def test_time_claim_of_any_size(hs: SecApp, location: str, path: str, claim: str, value: str) -> None:
    token = _hs_token(hs, {claim: TIME_VALUES[value]})
    assert_rejected(send(hs.client, location, token, path=path), INVALID, token=token)


RS_CASES = [(claim, value) for claim in TIME_CLAIMS for value in ("10**400", "-10**400", "1e400")]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("claim", "value"), RS_CASES, ids=[f"{c}={v}" for c, v in RS_CASES])
def test_time_claim_of_any_size_rs256(
    rs: SecApp, rsa_keys: KeyPair, location: str, path: str, claim: str, value: str
) -> None:
    claims = unverified_payload(rs.access(CANARY_SUB))
    token = asym_sign(RS_HEADER, raw_payload(claims, {claim: TIME_VALUES[value]}), rsa_keys)
    assert_rejected(send(rs.client, location, token, path=path), INVALID, token=token)


# Any other claim: a number that overflows a float is an invalid token wherever it is.
OTHER_VALUES = {
    "10**400": str(10**400),
    "-10**400": str(-(10**400)),
    "1e400": "1e400",
    "-1e400": "-1e400",
}
OTHER_CLAIMS: dict[str, str] = {
    "fresh": "fresh",
    "custom": "x-custom",
    "custom-nested": "x-nested",
}
OTHER_CASES = [(claim, value) for claim in OTHER_CLAIMS for value in OTHER_VALUES]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("path", ["/protected", "/fresh", "/optional"])
@pytest.mark.parametrize(("claim", "value"), OTHER_CASES, ids=[f"{c}={v}" for c, v in OTHER_CASES])
def test_overflowing_number_in_other_claims(
    hs: SecApp, location: str, path: str, claim: str, value: str
) -> None:
    text = OTHER_VALUES[value]
    if claim == "custom-nested":
        text = '{"a":[1,' + text + "]}"
    token = _hs_token(hs, {OTHER_CLAIMS[claim]: text}, fresh=True)
    assert_rejected(send(hs.client, location, token, path=path), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("claim", ["sub", "jti", "type", "csrf"])
@pytest.mark.parametrize("value", ["10**400", "1e400"])
def test_overflowing_number_in_string_claims(hs: SecApp, location: str, claim: str, value: str) -> None:
    """Wrongly typed anyway; the size must not turn the refusal into a 500."""
    token = _hs_token(hs, {claim: OTHER_VALUES[value]})
    resp = send(hs.client, location, token)
    expected = (401, INVALID) if claim == "csrf" else INVALID
    assert_rejected(resp, expected, token=token)


# --- finite numbers are numbers

LARGE_FINITE = {"1e308": "1e308", "max-float": "1.7976931348623157e308", "2**63": str(2**63)}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("value", list(LARGE_FINITE))
def test_large_finite_number_is_legal_json(hs: SecApp, location: str, value: str) -> None:
    """A large float, or an int that a 64-bit integer holds, in a claim the library does not
    interpret is just a number."""
    token = _hs_token(hs, {"x-custom": LARGE_FINITE[value]}, identity="alice")
    assert_accepted(send(hs.client, location, token))


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("value", list(LARGE_FINITE))
def test_large_finite_fresh(hs: SecApp, location: str, value: str) -> None:
    """``fresh: 1e308`` is a finite number, not an overflow: fresh (a UNIX time far in the
    future, as Flask-JWT-Extended reads it) or refused as a NumericDate out of range (422);
    never a 500, never "fresh token required"."""
    token = _hs_token(hs, {"fresh": LARGE_FINITE[value]}, identity="alice")
    resp = send(hs.client, location, token, path="/fresh")
    if resp.status_code != 200:
        assert_rejected(resp, INVALID, token=token)
    else:
        assert_accepted(resp)


@pytest.mark.parametrize("location", LOCATIONS)
def test_control_raw_payload_accepted(hs: SecApp, rs: SecApp, rsa_keys: KeyPair, location: str) -> None:
    """Guards the suite: the raw-payload helpers make tokens the library accepts."""
    claims = unverified_payload(hs.access("alice"))
    token = hs_sign(HS_HEADER, raw_payload(claims, {"exp": str(claims["exp"])}), SECRET)
    assert_accepted(send(hs.client, location, token))
    claims = unverified_payload(rs.access("alice"))
    token = asym_sign(RS_HEADER, raw_payload(claims, {"exp": str(claims["exp"])}), rsa_keys)
    assert_accepted(send(rs.client, location, token))
    assert_accepted(send(rs.client, location, token, path="/optional"))
