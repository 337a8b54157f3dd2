"""Oversized tokens are refused early, in every location (JWT_MAX_TOKEN_SIZE).

A token longer than the cap is answered with the invalid-token response (422)
before it is split, decoded or parsed: a multi-megabyte token that is also
deeply nested or perfectly signed must get the same cheap refusal.
"""

from __future__ import annotations

import pytest

from tests.helpers import SECRET

from .forge import (
    CANARY_SUB,
    INVALID,
    LOCATIONS,
    SecApp,
    assert_accepted,
    assert_rejected,
    b64e,
    hs_sign,
    jdump,
    security_app,
    send,
    unverified_payload,
)

DEFAULT_MAX = 16384
SIZES = {"64KB": 64 << 10, "256KB": 256 << 10, "1MB": 1 << 20, "4MB": 4 << 20}


def _garbage(size: int) -> str:
    head = b64e(jdump({"alg": "HS256", "typ": "JWT"}))
    return f"{head}.{'A' * (size - len(head) - 45)}.{'B' * 43}"


def _nested(size: int) -> str:
    depth = size // 2
    return hs_sign({"alg": "HS256"}, b"[" * depth + b"]" * depth, b"wrong")[:size]


def _signed(hs: SecApp, size: int, identity: str = CANARY_SUB) -> str:
    claims = unverified_payload(hs.access(identity))
    claims["pad"] = "x" * (size * 3 // 4)
    return hs_sign({"alg": "HS256", "typ": "JWT"}, claims, SECRET)


KINDS = {"garbage": _garbage, "nested": _nested}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_oversized_garbage_refused(hs: SecApp, location: str, size: str, kind: str) -> None:
    token = KINDS[kind](SIZES[size])
    assert len(token) > DEFAULT_MAX
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("size", ["64KB", "1MB"])
def test_oversized_but_correctly_signed_refused(hs: SecApp, location: str, size: str) -> None:
    """The cap applies before verification: even a genuine signature does not help."""
    token = _signed(hs, SIZES[size])
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


def _pair_around(sec: SecApp, limit: int) -> tuple[str, str]:
    """The longest signed token <= limit and the shortest one > limit."""
    base = unverified_payload(sec.access("alice"))
    start = max(0, (limit - len(sec.access("alice"))) * 3 // 4 - 100)
    under = over = None
    for pad in range(start, start + 300):
        token = hs_sign({"alg": "HS256", "typ": "JWT"}, {**base, "pad": "x" * pad}, SECRET)
        if len(token) <= limit:
            under = token
        elif over is None:
            over = token
    assert under is not None and over is not None
    return under, over


@pytest.fixture(scope="module")
def small_cap() -> SecApp:
    return security_app(JWT_MAX_TOKEN_SIZE=2048)


@pytest.mark.parametrize("location", LOCATIONS)
def test_configured_cap_boundary(small_cap: SecApp, location: str) -> None:
    under, over = _pair_around(small_cap, 2048)
    assert len(under) <= 2048 < len(over)
    assert_accepted(send(small_cap.client, location, under))
    resp = send(small_cap.client, location, over)
    assert_rejected(resp, INVALID, token=over, secrets=())


@pytest.mark.parametrize("location", LOCATIONS)
def test_default_cap_boundary(hs: SecApp, location: str) -> None:
    under, over = _pair_around(hs, DEFAULT_MAX)
    assert_accepted(send(hs.client, location, under))
    assert_rejected(send(hs.client, location, over), INVALID, token=over, secrets=())


@pytest.mark.parametrize("location", LOCATIONS)
def test_oversized_revoked_token_still_refused(hs: SecApp, location: str) -> None:
    token = _signed(hs, 32 << 10)
    hs.revoke(token)
    assert_rejected(send(hs.client, location, token), (INVALID, 401), token=token)
