"""JSON abuse inside the token and in the JSON body.

Duplicate members, deep nesting (a RecursionError must not become a 500),
non-finite and wrongly typed registered claims, non-ASCII and zero-width text,
BOMs, and non-object values.  Tokens here are MACed with the real secret: the
claim is the only thing wrong, so the library's own validation is exercised.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import SECRET

from .forge import (
    CANARY_SUB,
    CSRF_FAILED,
    EXPIRED,
    FRESH_REQUIRED,
    INVALID,
    LOCATIONS,
    MISSING,
    WRONG_TYPE,
    SecApp,
    assert_accepted,
    assert_rejected,
    assert_safe,
    b64e,
    hs_sign,
    send,
    split,
    unverified_payload,
)

HEADER = b'{"alg":"HS256","typ":"JWT"}'


def _claims_json(hs: SecApp, identity: str = CANARY_SUB, **override: Any) -> str:
    """The JSON text of a valid payload minus the overridden members (no braces)."""
    claims = unverified_payload(hs.access(identity))
    for key in override:
        claims.pop(key, None)
    return json.dumps(claims, separators=(",", ":"))[1:-1]


def _raw(hs: SecApp, extra: str, identity: str = CANARY_SUB, *drop: str) -> bytes:
    base = _claims_json(hs, identity, **dict.fromkeys(drop))
    return ("{" + base + ("," + extra if extra else "") + "}").encode()


# --- duplicates


@pytest.mark.parametrize("location", LOCATIONS)
def test_duplicate_alg_last_is_none(hs: SecApp, location: str) -> None:
    header = b'{"alg":"HS256","typ":"JWT","alg":"none"}'
    token = hs_sign(header, _raw(hs, ""), SECRET)
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_duplicate_alg_first_is_none(hs: SecApp, location: str) -> None:
    """Reject, or honour only the lexically last member (RFC 7515 section 4)."""
    header = b'{"alg":"none","typ":"JWT","alg":"HS256"}'
    token = hs_sign(header, _raw(hs, "", "alice"), SECRET)
    assert_safe(send(hs.client, location, token), token=token, identity="alice")


DUP_PAYLOADS = {
    # name: (extra members, members dropped from the valid payload, identity if accepted)
    "sub-alice-then-mallory": ('"sub":"alice","sub":"mallory"', ("sub",), "mallory"),
    "type-refresh-then-access": ('"type":"refresh","type":"access"', ("type",), "alice"),
    "exp-future-then-past": ('"exp":4102444800,"exp":1000', ("exp",), None),
    "jti-twice": ('"jti":"a","jti":"b"', ("jti",), "alice"),
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(DUP_PAYLOADS))
def test_duplicate_claims(hs: SecApp, location: str, case: str) -> None:
    extra, drop, identity = DUP_PAYLOADS[case]
    token = hs_sign(HEADER, _raw(hs, extra, "alice", *drop), SECRET)
    resp = send(hs.client, location, token)
    if identity is None:
        assert_rejected(resp, (EXPIRED, INVALID), token=token)
    else:
        assert_safe(resp, token=token, identity=identity)


# --- nesting

DEPTH = 5000  # deeper than CPython's recursion limit, still under the 16 KB default cap

NESTINGS = {
    "header-arrays": lambda hs: (b'{"alg":"HS256","x":' + b"[" * DEPTH + b"]" * DEPTH + b"}", None),
    "header-objects": lambda hs: (
        b'{"alg":"HS256","x":' + b'{"a":' * (DEPTH // 4) + b"1" + b"}" * (DEPTH // 4) + b"}",
        None,
    ),
    "payload-arrays": lambda hs: (
        HEADER,
        _raw(hs, '"x":' + "[" * DEPTH + "]" * DEPTH),
    ),
    "payload-objects": lambda hs: (
        HEADER,
        _raw(hs, '"x":' + '{"a":' * (DEPTH // 4) + "1" + "}" * (DEPTH // 4)),
    ),
    "payload-is-deep-array": lambda hs: (HEADER, b"[" * DEPTH + b"]" * DEPTH),
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(NESTINGS))
@pytest.mark.parametrize("key", ["real-key", "wrong-key"])
def test_deep_nesting(hs: SecApp, location: str, case: str, key: str) -> None:
    header, payload = NESTINGS[case](hs)
    payload = payload if payload is not None else _raw(hs, "")
    token = hs_sign(header, payload, SECRET if key == "real-key" else b"wrong")
    assert len(token) < 16384
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


# --- registered claim types

BAD_VALUES = {
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "NaN": "NaN",
    "1e400": "1e400",
    "string-number": '"4102444800"',
    "string": '"soon"',
    "true": "true",
    "null": "null",
    "list": "[4102444800]",
    "object": '{"$gt":0}',
}
NUMERIC_CLAIMS = {"exp": (EXPIRED, INVALID), "nbf": (INVALID,), "iat": (INVALID,)}
CLAIM_CASES = [(c, v) for c in NUMERIC_CLAIMS for v in BAD_VALUES]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize(("claim", "value"), CLAIM_CASES, ids=[f"{c}={v}" for c, v in CLAIM_CASES])
def test_non_finite_or_mistyped_time_claims(hs: SecApp, location: str, claim: str, value: str) -> None:
    token = hs_sign(HEADER, _raw(hs, f'"{claim}":{BAD_VALUES[value]}', CANARY_SUB, claim), SECRET)
    expected = NUMERIC_CLAIMS[claim] if value not in ("null",) else (EXPIRED, INVALID)
    assert_rejected(send(hs.client, location, token), expected, token=token)


TYPED_CLAIMS = {
    "sub": ["1", "null", "true", "[]", '["alice"]', '{"id":"alice"}'],
    "jti": ["1", "null", "[]", '{"a":1}'],
    "type": ["1", "null", '["access"]', '"ACCESS"', '"access "', '"refresh"'],
}
TYPED_CASES = [(c, v) for c, vs in TYPED_CLAIMS.items() for v in vs]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize(("claim", "value"), TYPED_CASES, ids=[f"{c}={v}" for c, v in TYPED_CASES])
def test_mistyped_identity_claims(hs: SecApp, location: str, claim: str, value: str) -> None:
    token = hs_sign(HEADER, _raw(hs, f'"{claim}":{value}', CANARY_SUB, claim), SECRET)
    expected = (WRONG_TYPE,) if claim == "type" else (INVALID,)
    assert_rejected(send(hs.client, location, token), expected, token=token)


FRESH_VALUES = ['"true"', '"false"', "NaN", "[]", '{"a":1}', "null", '"4102444800"']


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("value", FRESH_VALUES)
def test_mistyped_fresh_claim_on_fresh_route(hs: SecApp, location: str, value: str) -> None:
    token = hs_sign(HEADER, _raw(hs, f'"fresh":{value}', CANARY_SUB, "fresh"), SECRET)
    resp = send(hs.client, location, token, path="/fresh")
    assert_rejected(resp, (FRESH_REQUIRED, INVALID), token=token)


CSRF_VALUES = ["123", "null", "[]", '{"a":1}', "true", '""']


@pytest.mark.parametrize("value", CSRF_VALUES)
def test_mistyped_csrf_claim(hs: SecApp, value: str) -> None:
    token = hs_sign(HEADER, _raw(hs, f'"csrf":{value}', CANARY_SUB, "csrf"), SECRET)
    for header_value in ("123", "null", "", "[]", "true"):
        resp = send(hs.client, "cookies", token, csrf=header_value)
        assert_rejected(resp, (CSRF_FAILED, INVALID), token=token)


# --- text


UNICODE_SUBS = {
    "zero-width-space": "admin\u200b",
    "zero-width-joiner": "ad\u200dmin",
    "cyrillic-a": "\u0430dmin",
    "fullwidth": "\uff41dmin",
    "ligature": "\ufb00",
    "combining": "e\u0301",
    "rtl-override": "\u202enimda",
    "emoji": "\U0001f512",
    "nul": "admin\x00",
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(UNICODE_SUBS))
def test_unicode_identity_is_not_normalised(hs: SecApp, location: str, case: str) -> None:
    sub = UNICODE_SUBS[case]
    token = hs.access(sub)
    assert_accepted(send(hs.client, location, token), identity=sub)


@pytest.mark.parametrize("location", LOCATIONS)
def test_lone_surrogate_identity(hs: SecApp, location: str) -> None:
    token = hs_sign(HEADER, _raw(hs, '"sub":"\\ud800"', "alice", "sub"), SECRET)
    assert_safe(send(hs.client, location, token), token=token, identity="\ud800")


RAW_SEGMENTS = {
    "header-bom": (b"\xef\xbb\xbf" + HEADER, None, "safe"),
    "payload-bom": (HEADER, "bom", "safe"),
    "header-invalid-utf8": (b'{"alg":"HS256","typ":"JW\xff"}', None, "reject"),
    "payload-invalid-utf8": (HEADER, "utf8", "reject"),
    "header-utf16": ('{"alg":"HS256","typ":"JWT"}'.encode("utf-16"), None, "reject"),
    "header-array": (b'["HS256"]', None, "reject"),
    "header-string": (b'"HS256"', None, "reject"),
    "header-null": (b"null", None, "reject"),
    "header-trailing-garbage": (HEADER + b"xyz", None, "reject"),
    "header-two-objects": (HEADER + HEADER, None, "reject"),
    "payload-array": (HEADER, b"[]", "reject"),
    "payload-string": (HEADER, b'"alice"', "reject"),
    "payload-number": (HEADER, b"1", "reject"),
    "payload-null": (HEADER, b"null", "reject"),
    "payload-empty": (HEADER, b"", "reject"),
    "payload-trailing-garbage": (HEADER, "garbage", "reject"),
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(RAW_SEGMENTS))
def test_raw_segment_encodings(hs: SecApp, location: str, case: str) -> None:
    header, payload, outcome = RAW_SEGMENTS[case]
    valid = _raw(hs, "", "alice")
    if payload in (None, "bom", "utf8", "garbage"):
        payload = {
            None: valid,
            "bom": b"\xef\xbb\xbf" + valid,
            "utf8": valid[:-1] + b',"x":"\xff"}',
            "garbage": valid + b"}",
        }[payload]
    token = hs_sign(header, payload, SECRET)
    resp = send(hs.client, location, token)
    if outcome == "safe":
        assert_safe(resp, token=token, identity="alice")
    else:
        assert_rejected(resp, INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("where", ["prefix", "suffix"])
def test_bom_around_token_text(hs: SecApp, location: str, where: str) -> None:
    valid = hs.access(CANARY_SUB)
    token = "\ufeff" + valid if where == "prefix" else valid + "\ufeff"
    if location in ("headers", "cookies"):
        token = token.encode("utf-8").decode("latin-1")  # as the bytes arrive in WSGI
    assert_rejected(send(hs.client, location, token), (MISSING, INVALID), token=token)


# --- JSON body


BODY_VALUES: dict[str, Any] = {
    "int": 123,
    "zero": 0,
    "float": 1.5,
    "true": True,
    "null": None,
    "list": ["eyJ.eyJ.sig"],
    "empty-list": [],
    "object": {"protected": "eyJ", "payload": "eyJ", "signature": "x"},
}


@pytest.mark.parametrize("case", list(BODY_VALUES))
def test_json_body_non_string_token(hs: SecApp, case: str) -> None:
    resp = hs.client.post("/protected", json={"access_token": BODY_VALUES[case]})
    assert_rejected(resp, (MISSING, INVALID))


RAW_BODIES: dict[str, bytes] = {
    "not-json": b"access_token=abc",
    "truncated": b'{"access_token": "abc',
    "top-level-list": b'["access_token"]',
    "top-level-string": b'"access_token"',
    "top-level-number": b"42",
    "top-level-null": b"null",
    "deep-array": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep-inside-token-key": b'{"access_token":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "nan": b'{"access_token": NaN}',
    "invalid-utf8": b'{"access_token": "\xff\xfe"}',
    "empty": b"",
}


@pytest.mark.parametrize("case", list(RAW_BODIES))
def test_json_body_malformed(hs: SecApp, case: str) -> None:
    resp = hs.client.post("/protected", data=RAW_BODIES[case], content_type="application/json")
    assert_rejected(resp, (400, MISSING, INVALID))


def test_json_body_duplicate_token_keys(hs: SecApp) -> None:
    valid, forged = hs.access("alice"), hs.access("alice")[:-3] + "AAA"
    body = f'{{"access_token":"{forged}","access_token":"{valid}"}}'.encode()
    resp = hs.client.post("/protected", data=body, content_type="application/json")
    assert_safe(resp, token=forged, identity="alice")
    body = f'{{"access_token":"{valid}","access_token":"{forged}"}}'.encode()
    resp = hs.client.post("/protected", data=body, content_type="application/json")
    assert_rejected(resp, INVALID, token=forged)


def test_helpers_roundtrip(hs: SecApp) -> None:
    """Guards the suite: an unmodified raw payload is accepted."""
    token = hs_sign(HEADER, _raw(hs, "", "alice"), SECRET)
    assert split(token)[0] == b64e(HEADER)
    for location in LOCATIONS:
        assert_accepted(send(hs.client, location, token))
