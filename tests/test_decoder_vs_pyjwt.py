"""The strict decoder in ``flask_jwt_guard.tokens`` against PyJWT, both directions.

Flask-JWT-Extended decodes with ``jwt.decode`` and then requires the identity
claim; :func:`pyjwt_decide` does exactly that. Our decoder must take the same
decision with the same error class and message, except in the cases listed
in ``STRICTER`` where it refuses by design what PyJWT lets through (RFC 8725).
It must never accept what PyJWT refuses.

These tests need no Flask app: the core is pure and takes its clock as an
argument.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_jwt_guard import tokens
from flask_jwt_guard.keys import Key
from tests.helpers import SECRET  # 80 bytes: long enough for HS512

NOW = int(time.time())


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign(header_json: str, payload_json: str, alg: str = "HS256", key: str = SECRET) -> str:
    """A compact JWS over exactly these JSON texts (so duplicates and oddities survive)."""
    signing_input = f"{b64(header_json.encode())}.{b64(payload_json.encode())}"
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    mac = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(mac)}"


def options(**overrides: Any) -> tokens.DecodeOptions:
    base: dict[str, Any] = {"algorithms": frozenset({"HS256"})}
    base.update(overrides)
    return tokens.DecodeOptions(**base)


Decision = tuple[str, Any]


KEY = Key(SECRET)


def ours_decide(token: str, opts: tokens.DecodeOptions) -> Decision:
    """The pure core's decision: parse, verify, then "expired" only if nothing else is wrong."""
    try:
        parsed = tokens.parse(token, opts.max_size)
        _, claims, expired = tokens.decode(parsed, KEY, opts, now=time.time())
        if expired:
            return "ExpiredSignatureError", "Signature has expired"
        for name, default in (("type", "access"), ("fresh", False), ("jti", None)):
            claims.setdefault(name, default)
    except pyjwt.PyJWTError as err:
        return type(err).__mro__[1].__name__, str(err)
    except Exception as err:  # noqa: BLE001 - JWTDecodeError and friends
        return type(err).__name__, str(err)
    return "ok", claims


def pyjwt_decide(token: str, opts: tokens.DecodeOptions) -> Decision:
    """What Flask-JWT-Extended decides: jwt.decode, then the identity claim.

    On an expired token it decodes again without the ``exp`` check, so any other
    fault of the token wins over "expired".
    """
    expired: Decision | None = None
    for verify_exp in (True, False):
        try:
            claims = pyjwt.decode(
                token,
                SECRET,
                algorithms=sorted(opts.algorithms),
                audience=opts.audience,
                issuer=opts.issuer,
                leeway=opts.leeway,
                options={
                    "verify_aud": opts.audience is not None,
                    "verify_sub": opts.verify_sub,
                    "verify_exp": verify_exp,
                },
            )
        except pyjwt.ExpiredSignatureError as err:
            expired = (type(err).__name__, str(err))
            continue
        except pyjwt.PyJWTError as err:
            return type(err).__name__, str(err)
        break
    if opts.identity_claim not in claims:
        return "JWTDecodeError", f"Missing claim: {opts.identity_claim}"
    if expired is not None:
        return expired
    for name, default in (("type", "access"), ("fresh", False), ("jti", None)):
        claims.setdefault(name, default)
    return "ok", claims


# --------------------------------------------------------------------------- generated


# Integers past 20 digits are refused here by design (see STRICTER), so the "same decision"
# property draws them within that range.
interoperable_ints = st.integers(-(10**20 - 1), 10**20 - 1)

claim_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.text(max_size=12),
    st.lists(st.text(max_size=5), max_size=3),
)


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": draw(st.one_of(st.text(max_size=10), interoperable_ints))}
    for name in ("exp", "nbf", "iat"):
        if draw(st.booleans()):
            claims[name] = NOW + draw(st.integers(-7200, 7200))
    if draw(st.booleans()):
        claims["aud"] = draw(
            st.one_of(
                st.sampled_from(["api", "web", ""]), st.lists(st.sampled_from(["api", "web"]), max_size=2)
            )
        )
    if draw(st.booleans()):
        claims["iss"] = draw(st.sampled_from(["issuer-a", "issuer-b"]))
    if draw(st.booleans()):
        claims["jti"] = draw(st.one_of(st.text(max_size=8), interoperable_ints))
    extra = draw(st.dictionaries(st.sampled_from(["role", "n", "tags", "fresh"]), claim_values, max_size=3))
    claims.update(extra)
    if draw(st.booleans()):
        del claims["sub"]
    return claims


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    claims=payloads(),
    alg=st.sampled_from(["HS256", "HS384", "HS512"]),
    allowed=st.sampled_from([("HS256",), ("HS256", "HS384"), ("HS256", "HS384", "HS512")]),
    audience=st.sampled_from([None, "api", ("api", "mobile")]),
    issuer=st.sampled_from([None, "issuer-a"]),
    leeway=st.sampled_from([0, 30, 3600]),
    verify_sub=st.booleans(),
)
def test_generated_tokens_get_the_same_decision(
    claims: dict[str, Any],
    alg: str,
    allowed: tuple[str, ...],
    audience: Any,
    issuer: Any,
    leeway: int,
    verify_sub: bool,
) -> None:
    token = pyjwt.encode(claims, SECRET, algorithm=alg)
    opts = options(
        algorithms=frozenset(allowed), audience=audience, issuer=issuer, leeway=leeway, verify_sub=verify_sub
    )
    assert ours_decide(token, opts) == pyjwt_decide(token, opts)


# --------------------------------------------------------------------------- hand-made

H = '{"alg":"HS256","typ":"JWT"}'
GOOD = json.dumps({"sub": "alice", "exp": NOW + 600, "iat": NOW})

# (id, token) pairs on which both decoders must agree.
SAME = [
    ("valid", sign(H, GOOD)),
    ("alg-none", b64(b'{"alg":"none"}') + "." + b64(GOOD.encode()) + "."),
    ("alg-missing", sign('{"typ":"JWT"}', GOOD)),
    ("alg-not-allowed", sign('{"alg":"HS512"}', GOOD, alg="HS512")),
    ("wrong-key", sign(H, GOOD, key="another-secret-" + "0123456789abcdef" * 4)),
    ("two-segments", sign(H, GOOD).rsplit(".", 1)[0]),
    ("header-not-json", f"{b64(b'nope')}.{b64(GOOD.encode())}.AAAA"),
    ("header-array", sign("[1,2]", GOOD)),
    ("payload-array", sign(H, "[1,2]")),
    ("payload-not-json", sign(H, "{nope")),
    ("expired", sign(H, json.dumps({"sub": "a", "exp": NOW - 10}))),
    ("exp-boundary", sign(H, json.dumps({"sub": "a", "exp": NOW - 1}))),
    ("nbf-future", sign(H, json.dumps({"sub": "a", "nbf": NOW + 600}))),
    ("iat-future", sign(H, json.dumps({"sub": "a", "iat": NOW + 600}))),
    ("exp-float", sign(H, json.dumps({"sub": "a", "exp": NOW + 600.5}))),
    ("exp-null", sign(H, json.dumps({"sub": "a", "exp": None}))),
    ("exp-list", sign(H, json.dumps({"sub": "a", "exp": [1]}))),
    ("sub-int", sign(H, json.dumps({"sub": 5}))),
    ("jti-int", sign(H, json.dumps({"sub": "a", "jti": 5}))),
    ("no-sub", sign(H, json.dumps({"name": "a"}))),
    ("kid-int", sign('{"alg":"HS256","kid":5}', GOOD)),
    ("crit-empty", sign('{"alg":"HS256","crit":[]}', GOOD)),
    ("jwk-embedded", sign('{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}', GOOD)),
    ("bad-char", sign(H, GOOD)[:-2] + "!!"),
]


def test_the_harness_sees_a_valid_token_as_valid() -> None:
    ours, theirs = ours_decide(sign(H, GOOD), options()), pyjwt_decide(sign(H, GOOD), options())
    assert ours[0] == theirs[0] == "ok"
    assert ours[1]["sub"] == "alice"


@pytest.mark.parametrize("token", [t for _, t in SAME], ids=[i for i, _ in SAME])
def test_same_decision(token: str) -> None:
    assert ours_decide(token, options()) == pyjwt_decide(token, options())


@pytest.mark.parametrize(
    ("opts", "payload"),
    [
        (options(audience="api"), {"sub": "a", "aud": "api"}),
        (options(audience="api"), {"sub": "a", "aud": ["web", "api"]}),
        (options(audience="api"), {"sub": "a", "aud": "web"}),
        (options(audience="api"), {"sub": "a"}),
        (options(audience="api"), {"sub": "a", "aud": 5}),
        (options(audience="api"), {"sub": "a", "aud": [5]}),
        (options(audience=("api", "web")), {"sub": "a", "aud": "web"}),
        (options(issuer="me"), {"sub": "a", "iss": "me"}),
        (options(issuer="me"), {"sub": "a", "iss": "you"}),
        (options(issuer="me"), {"sub": "a"}),
        (options(issuer="me"), {"sub": "a", "iss": 5}),
        (options(leeway=60), {"sub": "a", "exp": NOW - 30}),
        (options(leeway=60), {"sub": "a", "nbf": NOW + 30}),
        (options(verify_sub=False), {"sub": 5}),
        (options(identity_claim="user"), {"user": "a"}),
        (options(identity_claim="user"), {"sub": "a"}),
    ],
)
def test_same_decision_with_options(opts: tokens.DecodeOptions, payload: dict[str, Any]) -> None:
    token = sign(H, json.dumps(payload))
    assert ours_decide(token, opts) == pyjwt_decide(token, opts)


def _padded_signature() -> str:
    token = sign(H, GOOD)
    sig = token.rsplit(".", 1)[1]
    return token + "=" * (-len(sig) % 4)


def _noncanonical_signature() -> str:
    token = sign(H, GOOD)
    head, sig = token.rsplit(".", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The last character of a 43-char segment carries 2 unused bits: set one.
    last = alphabet[alphabet.index(sig[-1]) | 1]
    return f"{head}.{sig[:-1]}{last}"


# (id, token, why PyJWT's acceptance is refused here). Each is signed with the right key.
STRICTER = [
    (
        "exp-as-string",
        sign(H, json.dumps({"sub": "a", "exp": str(NOW + 600)})),
        "NumericDate must be a number",
    ),
    (
        "exp-as-bool",
        sign(H, json.dumps({"sub": "a", "exp": True, "iat": NOW})),
        "NumericDate must be a number",
    ),
    ("exp-nan", sign(H, '{"sub":"a","exp":NaN}'), "NaN is not JSON (RFC 8259)"),
    ("exp-huge", sign(H, '{"sub":"a","nbf":1e400}'), "non-finite number"),
    ("duplicate-claim", sign(H, '{"sub":"alice","sub":"admin"}'), "duplicate members are ambiguous"),
    ("duplicate-alg", sign('{"alg":"none","alg":"HS256"}', GOOD), "duplicate members are ambiguous"),
    ("crit-b64", sign('{"alg":"HS256","b64":true,"crit":["b64"]}', GOOD), "no crit extension is supported"),
    ("signature-padded", _padded_signature(), "RFC 7515: base64url without padding"),
    ("exp-beyond-year-9999", sign(H, json.dumps({"sub": "a", "exp": 10**20})), "no datetime can hold it"),
    ("exp-hundreds-of-digits", sign(H, '{"sub":"a","exp":' + "9" * 400 + "}"), "no datetime can hold it"),
    ("float-claim-overflow", sign(H, '{"sub":"a","fresh":1e400}'), "non-finite number"),
    ("int-over-20-digits", sign(H, json.dumps({"sub": 10**20})), "no JSON consumer agrees past 2**64"),
    ("signature-noncanonical", _noncanonical_signature(), "non-canonical base64url"),
]


@pytest.mark.parametrize(("token", "why"), [(t, w) for _, t, w in STRICTER], ids=[i for i, _, _ in STRICTER])
def test_stricter_than_pyjwt_by_design(token: str, why: str) -> None:
    theirs = pyjwt_decide(token, options())
    ours = ours_decide(token, options())
    assert ours[0] != "ok", why
    # PyJWT may accept these, or refuse some for another reason; never the reverse.
    if theirs[0] != "ok":
        assert ours[0] != "ok"


def test_unknown_crit_is_refused_like_pyjwt_without_echoing_it() -> None:
    token = sign('{"alg":"HS256","crit":["exp"],"exp":1}', GOOD)
    theirs, ours = pyjwt_decide(token, options()), ours_decide(token, options())
    assert theirs == ("InvalidTokenError", "Unsupported critical extension: exp")
    # The same class; a fixed message, so an attacker's extension name is never echoed.
    assert ours == ("InvalidTokenError", "Unsupported critical extension")


# --------------------------------------------------------------------------- mutations


@settings(max_examples=400, deadline=None, derandomize=True)
@given(data=st.data())
def test_mutated_tokens_never_accepted_when_pyjwt_refuses(data: st.DataObject) -> None:
    token = sign(H, GOOD)
    kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate", "swap"]))
    i = data.draw(st.integers(0, len(token) - 1))
    char = data.draw(st.sampled_from("AQgw_-.=+/ \x00é"))
    if kind == "flip":
        mutated = token[:i] + char + token[i + 1 :]
    elif kind == "insert":
        mutated = token[:i] + char + token[i:]
    elif kind == "delete":
        mutated = token[:i] + token[i + 1 :]
    elif kind == "truncate":
        mutated = token[:i]
    else:
        parts = token.split(".")
        a, b = data.draw(st.permutations(range(3)))[:2]
        parts[a], parts[b] = parts[b], parts[a]
        mutated = ".".join(parts)
    ours, theirs = ours_decide(mutated, options()), pyjwt_decide(mutated, options())
    if theirs[0] != "ok":
        assert ours[0] != "ok", mutated
    if ours[0] == "ok":
        assert ours == theirs
        assert ours[1]["sub"] == "alice"
