"""Property-based fuzzing of every token location and of the CSRF header.

Properties:
* any request is answered with a 4xx JSON refusal or with the very same 200 as
  the valid token (same identity); never a 5xx, never another identity;
* differential: whatever the library accepts, PyJWT with the same key and
  options accepts too;
* numbers of any size: integers up to 400 digits and non-finite JSON numbers
  (``1e400``, ``NaN``, ``Infinity``) written raw into any claim of a correctly
  signed token never give a 5xx, and a token carrying one is never accepted.
"""

from __future__ import annotations

import json
import math
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import SECRET

from .forge import (
    CSRF_FAILED,
    LOCATIONS,
    SecApp,
    assert_rejected,
    csrf_of,
    hs_sign,
    raw_payload,
    send,
    unverified_payload,
)

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

location_st = st.sampled_from(LOCATIONS)
# Characters a mutation may introduce: the base64url alphabet, JOSE punctuation,
# the standard-alphabet and padding characters, whitespace and hostile bytes.
mutation_chars = st.sampled_from(
    list("AQgw09-_") + [".", "=", "+", "/", " ", "\t", "\x00", "\xe9", "\u200b", "%", '"', ","]
)


@st.composite
def mutated(draw: st.DrawFn, token: str) -> str:
    ops = draw(st.lists(st.integers(0, 7), min_size=1, max_size=3))
    out = token
    for op in ops:
        pos = draw(st.integers(0, max(0, len(out) - 1)))
        ch = draw(mutation_chars)
        segs = out.split(".")
        if op == 0:
            out = out[:pos] + ch + out[pos + 1 :]
        elif op == 1:
            out = out[:pos] + ch + out[pos:]
        elif op == 2:
            out = out[:pos] + out[pos + 1 :]
        elif op == 3:
            out = out[:pos]
        elif op == 4 and segs:
            i = draw(st.integers(0, len(segs) - 1))
            out = ".".join(segs[: i + 1] + segs[i:])
        elif op == 5 and len(segs) > 1:
            i = draw(st.integers(0, len(segs) - 1))
            out = ".".join(segs[:i] + segs[i + 1 :])
        elif op == 6 and len(segs) > 1:
            i, j = draw(st.integers(0, len(segs) - 1)), draw(st.integers(0, len(segs) - 1))
            segs[i], segs[j] = segs[j], segs[i]
            out = ".".join(segs)
        else:
            out = out + ch * draw(st.integers(1, 3))
    return out


def _normalised(value: str, location: str = "headers") -> str:
    """What an HTTP layer may legitimately strip before the library sees the token:
    list commas and whitespace around an Authorization value, and the whitespace
    and DQUOTEs RFC 6265 allows around a cookie value."""
    if location == "headers":
        # "Authorization: Bearer <t>, Other xyz" is a list of credentials.
        elements = [e.strip(" \t") for e in value.split(",")]
        bearer = [e for e in elements if e.startswith("eyJ")]
        return bearer[0] if len(bearer) == 1 else value
    if location == "cookies":
        value = value.strip(" \t")  # RFC 6265: optional whitespace around the value
        if len(value) > 1 and value[0] == value[-1] == '"':
            return value[1:-1]
    return value


def _pyjwt_accepts(token: str) -> bool:
    try:
        pyjwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_aud": False})
    except pyjwt.PyJWTError:
        return False
    return True


def _check(resp: Any, token: str, valid: str, identity: str, location: str) -> None:
    if resp.status_code == 200:
        assert resp.get_json()["identity"] == identity, "accepted as another identity"
        assert _normalised(token, location) == valid, f"accepted another token text: {token!r}"
        assert _pyjwt_accepts(valid)
    else:
        assert_rejected(resp, token=token, secrets=())


@FUZZ
@given(raw=st.binary(max_size=400), location=location_st)
def test_arbitrary_bytes_anywhere(shared_hs: SecApp, raw: bytes, location: str) -> None:
    token = raw.decode("latin-1")
    resp = send(shared_hs.client, location, token)
    assert_rejected(resp, token=token if len(token) >= 12 else None, secrets=())


@FUZZ
@given(data=st.data(), location=location_st)
def test_mutated_valid_token(shared_hs: SecApp, data: st.DataObject, location: str) -> None:
    valid = shared_hs.access("alice")
    token = data.draw(mutated(valid))
    resp = send(shared_hs.client, location, token, csrf=csrf_of(valid))
    _check(resp, token, valid, "alice", location)


@FUZZ
@given(value=st.text(st.characters(max_codepoint=0xFF), max_size=120))
def test_csrf_header_fuzz(shared_hs: SecApp, value: str) -> None:
    token = shared_hs.access("alice")
    real = csrf_of(token)
    resp = send(shared_hs.client, "cookies", token, csrf=value)
    if value == real:
        assert resp.status_code == 200 and resp.get_json()["identity"] == "alice"
    else:
        assert_rejected(resp, CSRF_FAILED, token=token)


@FUZZ
@given(data=st.data())
def test_csrf_header_mutations_of_the_real_value(shared_hs: SecApp, data: st.DataObject) -> None:
    token = shared_hs.access("alice")
    real = csrf_of(token)
    value = data.draw(mutated(real))
    resp = send(shared_hs.client, "cookies", token, csrf=value)
    if value == real:
        assert resp.status_code == 200
    else:
        assert_rejected(resp, CSRF_FAILED, token=token)


# --- differential

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
header_st = st.fixed_dictionaries(
    {"alg": st.sampled_from(["HS256", "HS256", "HS256", "HS384", "none", "hs256", "RS256"])},
    optional={
        "typ": st.one_of(st.just("JWT"), json_values),
        "kid": json_values,
        "crit": json_values,
        "b64": json_values,
        "jku": st.just("http://127.0.0.1:1/jwks"),
        "zip": st.just("DEF"),
    },
)
CLAIMS = ["exp", "nbf", "iat", "sub", "jti", "type", "fresh", "aud", "iss", "csrf", "x-custom"]
claim_overrides = st.dictionaries(st.sampled_from(CLAIMS), json_values, max_size=3)
claim_drops = st.lists(st.sampled_from(CLAIMS), max_size=2)


@FUZZ
@given(header=header_st, overrides=claim_overrides, drops=claim_drops, location=location_st)
def test_differential_against_pyjwt(
    shared_hs: SecApp,
    header: dict[str, Any],
    overrides: dict[str, Any],
    drops: list[str],
    location: str,
) -> None:
    claims = unverified_payload(shared_hs.access("alice"))
    for name in drops:
        claims.pop(name, None)
    claims.update(overrides)
    payload = json.dumps(claims, separators=(",", ":")).encode()  # NaN/Infinity literals allowed
    token = hs_sign(header, payload, SECRET)
    resp = send(shared_hs.client, location, token)
    assert resp.status_code < 500, resp.get_data()[:300]
    if resp.status_code == 200:
        assert _pyjwt_accepts(token), f"library accepted, PyJWT refused: {header} {overrides}"
        assert resp.get_json()["identity"] == claims.get("sub")
    else:
        assert_rejected(resp, token=token, secrets=())


@FUZZ
@given(data=st.data(), location=location_st)
def test_differential_on_mutations(shared_hs: SecApp, data: st.DataObject, location: str) -> None:
    valid = shared_hs.access("alice")
    token = data.draw(mutated(valid))
    resp = send(shared_hs.client, location, token, csrf=csrf_of(valid))
    assert resp.status_code < 500
    if resp.status_code == 200:
        assert _pyjwt_accepts(_normalised(token, location))


# --- numbers of any size

# Raw JSON number texts, written into the payload as they are.
raw_numbers = st.one_of(
    st.integers(-(10**400), 10**400).map(str),
    st.integers(2**1023, 10**400).map(str),
    st.integers(-(10**400), -(2**1023)).map(str),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(json.dumps),  # NaN, Infinity, 1e+308...
    st.sampled_from(
        ["1e400", "-1e400", "1E+400", "NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e-400"]
        + ["-0", "0e400", "123456789e300", "1.7976931348623157e308", "1.7976931348623159e308"]
    ),
)
NUMBER_CLAIMS = ["exp", "nbf", "iat", "fresh", "sub", "jti", "type", "csrf", "x-custom"]


def _is_finite(text: str) -> bool:
    """Whether the JSON number ``text`` is a finite number a float can hold."""
    try:
        value: float = int(text)
    except ValueError:
        value = float(text)  # "1e400" -> inf, "NaN" -> nan
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond the float range
        return False


@FUZZ
@given(
    numbers=st.dictionaries(st.sampled_from(NUMBER_CLAIMS), raw_numbers, min_size=1, max_size=3),
    location=location_st,
    path=st.sampled_from(["/protected", "/fresh", "/optional"]),
)
def test_numbers_of_any_size_in_claims(
    shared_hs: SecApp, numbers: dict[str, str], location: str, path: str
) -> None:
    claims = unverified_payload(shared_hs.access("alice", fresh=True))
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, raw_payload(claims, numbers), SECRET)
    resp = send(shared_hs.client, location, token, path=path)
    assert resp.status_code < 500, f"{numbers}: {resp.status_code} {resp.get_data()[:300]!r}"
    if resp.status_code == 200:
        overflowing = {name: text for name, text in numbers.items() if not _is_finite(text)}
        assert not overflowing, f"accepted a token with non-finite or overflowing {overflowing}"
        if "sub" not in numbers:
            assert resp.get_json()["identity"] == "alice"
    else:
        assert_rejected(resp, token=token, secrets=())


@pytest.mark.parametrize("location", LOCATIONS)
def test_fuzz_harness_accepts_the_valid_token(hs: SecApp, location: str) -> None:
    valid = hs.access("alice")
    resp = send(hs.client, location, valid)
    _check(resp, valid, valid, "alice", location)
