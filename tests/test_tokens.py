"""Token creation and decoding: claims, expiry, freshness, aud/iss, leeway, helpers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest

from tests.helpers import GUARD, SECRET, Env, make_app, shared_claim_names

EXPIRED = timedelta(seconds=-30)


def claims_shape(env: Env, token: str) -> dict[str, Any]:
    """Everything about a token that does not depend on randomness or the clock."""
    claims = pyjwt.decode(token, options={"verify_signature": False})
    header = pyjwt.get_unverified_header(token)
    shape: dict[str, Any] = {
        "keys": shared_claim_names(claims),
        "header": header,
        "type": claims.get("type"),
        "fresh": claims.get("fresh"),
        "sub": claims.get("sub"),
    }
    if "exp" in claims:
        shape["exp-iat"] = claims["exp"] - claims["iat"]
    if "nbf" in claims:
        shape["nbf-iat"] = claims["nbf"] - claims["iat"]
    return shape


# --- creation ---------------------------------------------------------------


def test_access_token_default_claims(env: Env) -> None:
    token = env.access_token("alice")
    claims = env.decode(token)
    expected = {"fresh", "iat", "jti", "type", "sub", "nbf", "csrf", "exp"}
    assert set(claims) == (expected | {"sid"} if env.lib is GUARD else expected)
    assert claims["sub"] == "alice"
    assert claims["type"] == "access"
    assert claims["fresh"] is False
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["nbf"] == claims["iat"]
    uuid.UUID(claims["jti"])
    uuid.UUID(claims["csrf"])
    assert pyjwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_refresh_token_default_claims(env: Env) -> None:
    claims = env.decode(env.refresh_token("bob"))
    assert claims["type"] == "refresh"
    assert claims["sub"] == "bob"
    assert claims["fresh"] is False
    assert claims["exp"] - claims["iat"] == 30 * 24 * 3600


def test_tokens_are_signed_with_secret(env: Env) -> None:
    token = env.access_token()
    claims = pyjwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, "another secret" * 4, algorithms=["HS256"])


def test_jti_and_csrf_unique_per_token(env: Env) -> None:
    tokens = [env.decode(env.access_token()) for _ in range(5)]
    assert len({c["jti"] for c in tokens}) == 5
    assert len({c["csrf"] for c in tokens}) == 5


def test_no_csrf_claim_without_csrf_protection(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_COOKIE_CSRF_PROTECT=False)
    assert "csrf" not in env.decode(env.access_token())
    assert "csrf" not in env.decode(env.refresh_token())


def test_claims_shape_matches_reference(differential: Callable[..., Any]) -> None:
    def scenario(env: Env) -> Any:
        return [
            claims_shape(env, env.access_token("alice")),
            claims_shape(env, env.access_token("alice", fresh=True)),
            claims_shape(env, env.refresh_token("alice")),
            claims_shape(env, env.access_token("alice", expires_delta=False)),
            claims_shape(env, env.access_token("a", expires_delta=timedelta(hours=2))),
            claims_shape(
                env,
                env.access_token(
                    "alice", additional_claims={"role": "admin"}, additional_headers={"kid": "k"}
                ),
            ),
        ]

    shapes = differential(scenario)
    assert shapes[3]["keys"] == ["csrf", "fresh", "iat", "jti", "nbf", "sub", "type"]
    assert shapes[4]["exp-iat"] == 7200
    assert shapes[5]["header"] == {"alg": "HS256", "kid": "k", "typ": "JWT"}


# --- fresh ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fresh", "status"),
    [
        (True, 200),
        (False, 401),
        (timedelta(minutes=10), 200),
        (timedelta(seconds=-10), 401),
    ],
    ids=["true", "false", "timedelta-future", "timedelta-past"],
)
def test_fresh_values(env: Env, fresh: Any, status: int) -> None:
    code, body = env.get("/fresh", env.access_token(fresh=fresh))
    assert code == status
    if status == 401:
        assert body == {"msg": "Fresh token required"}
    else:
        assert body["identity"] == "alice"


@pytest.mark.parametrize(("offset", "status"), [(3600, 200), (-3600, 401)], ids=["future", "past"])
def test_fresh_as_timestamp_number(env: Env, offset: int, status: int) -> None:
    token = env.access_token(fresh=time.time() + offset)
    assert env.get("/fresh", token)[0] == status


def test_fresh_timedelta_stored_as_timestamp(env: Env) -> None:
    claims = env.decode(env.access_token(fresh=timedelta(minutes=5)))
    assert not isinstance(claims["fresh"], bool)
    assert abs(claims["fresh"] - (claims["iat"] + 300)) < 2


def test_fresh_true_stored_as_bool(env: Env) -> None:
    assert env.decode(env.access_token(fresh=True))["fresh"] is True


def test_non_fresh_token_still_passes_normal_endpoint(env: Env) -> None:
    assert env.get("/protected", env.access_token(fresh=False))[0] == 200


# --- expiry -----------------------------------------------------------------


def test_expired_token_is_401(env: Env) -> None:
    assert env.get("/protected", env.access_token(expires_delta=EXPIRED)) == (
        401,
        {"msg": "Token has expired"},
    )


def test_expired_refresh_token_is_401(env: Env) -> None:
    assert env.get("/refresh", env.refresh_token(expires_delta=EXPIRED)) == (
        401,
        {"msg": "Token has expired"},
    )


def test_expires_delta_false_means_no_exp(env: Env) -> None:
    token = env.access_token(expires_delta=False)
    assert "exp" not in env.decode(token)
    assert env.get("/protected", token)[0] == 200
    assert "exp" not in env.decode(env.refresh_token(expires_delta=False))


def test_config_expires_false_means_no_exp(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ACCESS_TOKEN_EXPIRES=False, JWT_REFRESH_TOKEN_EXPIRES=False)
    assert "exp" not in env.decode(env.access_token())
    assert "exp" not in env.decode(env.refresh_token())


def test_config_expires_as_int_seconds(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ACCESS_TOKEN_EXPIRES=120, JWT_REFRESH_TOKEN_EXPIRES=600)
    access = env.decode(env.access_token())
    refresh = env.decode(env.refresh_token())
    assert access["exp"] - access["iat"] == 120
    assert refresh["exp"] - refresh["iat"] == 600


def test_config_expires_as_timedelta(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ACCESS_TOKEN_EXPIRES=timedelta(hours=1))
    claims = env.decode(env.access_token())
    assert claims["exp"] - claims["iat"] == 3600


def test_expires_delta_argument_overrides_config(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ACCESS_TOKEN_EXPIRES=timedelta(hours=1))
    claims = env.decode(env.access_token(expires_delta=timedelta(minutes=2)))
    assert claims["exp"] - claims["iat"] == 120


# --- additional claims / headers / identity ---------------------------------


def test_additional_claims(env: Env) -> None:
    token = env.access_token(additional_claims={"role": "admin", "n": [1, 2]})
    claims = env.decode(token)
    assert claims["role"] == "admin"
    assert claims["n"] == [1, 2]
    refresh = env.decode(env.refresh_token(additional_claims={"scope": "r"}))
    assert refresh["scope"] == "r"


def test_additional_claims_use_flask_json_provider(env: Env) -> None:
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    claims = env.decode(env.access_token(additional_claims={"uid": value}))
    assert claims["uid"] == str(value)


def test_additional_headers(env: Env) -> None:
    token = env.access_token(additional_headers={"kid": "key-1"})
    assert env.call(env.lib.get_unverified_jwt_headers, token) == {
        "alg": "HS256",
        "kid": "key-1",
        "typ": "JWT",
    }
    refresh = env.refresh_token(additional_headers={"kid": "key-2"})
    assert pyjwt.get_unverified_header(refresh)["kid"] == "key-2"


def test_identity_claim_key(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_IDENTITY_CLAIM="identity")
    token = env.access_token("carol")
    claims = env.decode(token)
    assert claims["identity"] == "carol"
    assert "sub" not in claims
    status, body = env.get("/protected", token)
    assert status == 200
    assert body["identity"] == "carol"


def test_identity_claim_missing_is_422(make_env: Callable[..., Env]) -> None:
    writer = make_env()
    reader = make_env(JWT_IDENTITY_CLAIM="identity")
    assert reader.get("/protected", writer.access_token()) == (
        422,
        {"msg": "Missing claim: identity"},
    )


def test_encode_nbf_false(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ENCODE_NBF=False)
    token = env.access_token()
    assert "nbf" not in env.decode(token)
    assert env.get("/protected", token)[0] == 200


def test_nbf_in_future_is_422(env: Env) -> None:
    token = env.access_token(additional_claims={"nbf": int(time.time()) + 3600})
    assert env.get("/protected", token) == (422, {"msg": "The token is not yet valid (nbf)"})


def test_token_without_optional_claims_gets_defaults(env: Env) -> None:
    # A token minted elsewhere with only "sub": type defaults to access, fresh to
    # False, jti to None.
    token = pyjwt.encode({"sub": "ext"}, SECRET, algorithm="HS256")
    claims = env.decode(token)
    assert claims["type"] == "access"
    assert claims["fresh"] is False
    assert claims["jti"] is None
    assert env.get("/protected", token)[1]["identity"] == "ext"
    assert env.get("/fresh", token)[0] == 401


# --- audience / issuer / leeway / sub ---------------------------------------


def test_encode_audience_and_issuer(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ENCODE_AUDIENCE="api", JWT_ENCODE_ISSUER="me")
    claims = pyjwt.decode(env.access_token(), options={"verify_signature": False})
    assert claims["aud"] == "api"
    assert claims["iss"] == "me"
    env2 = make_env(JWT_ENCODE_AUDIENCE=["a", "b"])
    claims2 = pyjwt.decode(env2.access_token(), options={"verify_signature": False})
    assert claims2["aud"] == ["a", "b"]


def test_aud_not_checked_without_decode_audience(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ENCODE_AUDIENCE="api")
    assert env.get("/protected", env.access_token())[0] == 200


@pytest.mark.parametrize(
    ("encode", "decode", "expected"),
    [
        ("api", "api", (200, None)),
        (["api", "web"], "web", (200, None)),
        ("api", ["api", "other"], (200, None)),
        ("api", "other", (422, {"msg": "Audience doesn't match"})),
        (None, "api", (422, {"msg": 'Token is missing the "aud" claim'})),
    ],
    ids=["match", "token-list", "config-list", "mismatch", "missing"],
)
def test_decode_audience(
    make_env: Callable[..., Env], encode: Any, decode: Any, expected: tuple[int, Any]
) -> None:
    env = make_env(JWT_ENCODE_AUDIENCE=encode, JWT_DECODE_AUDIENCE=decode)
    status, body = env.get("/protected", env.access_token())
    assert status == expected[0]
    if expected[1] is not None:
        assert body == expected[1]


@pytest.mark.parametrize(
    ("encode", "decode", "expected"),
    [
        ("me", "me", (200, None)),
        ("you", "me", (422, {"msg": "Invalid issuer"})),
        (None, "me", (422, {"msg": 'Token is missing the "iss" claim'})),
        ("me", None, (200, None)),
    ],
    ids=["match", "mismatch", "missing", "unchecked"],
)
def test_decode_issuer(
    make_env: Callable[..., Env], encode: Any, decode: Any, expected: tuple[int, Any]
) -> None:
    env = make_env(JWT_ENCODE_ISSUER=encode, JWT_DECODE_ISSUER=decode)
    status, body = env.get("/protected", env.access_token())
    assert status == expected[0]
    if expected[1] is not None:
        assert body == expected[1]


@pytest.mark.parametrize(("leeway", "status"), [(0, 401), (3600, 200)])
def test_decode_leeway(make_env: Callable[..., Env], leeway: int, status: int) -> None:
    env = make_env(JWT_DECODE_LEEWAY=leeway)
    assert env.get("/protected", env.access_token(expires_delta=EXPIRED))[0] == status


def test_leeway_applies_to_nbf(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_DECODE_LEEWAY=3600)
    token = env.access_token(additional_claims={"nbf": int(time.time()) + 60})
    assert env.get("/protected", token)[0] == 200


def test_verify_sub_rejects_non_string_subject(env: Env) -> None:
    assert env.get("/protected", env.access_token(1)) == (
        422,
        {"msg": "Subject must be a string"},
    )


def test_verify_sub_false_allows_non_string_subject(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_VERIFY_SUB=False)
    status, body = env.get("/protected", env.access_token(1))
    assert status == 200
    assert body["identity"] == 1


# --- decode_token -----------------------------------------------------------


def test_decode_token_roundtrip(env: Env) -> None:
    claims = env.decode(env.access_token("dave", additional_claims={"x": 1}))
    assert claims["sub"] == "dave"
    assert claims["x"] == 1


def test_decode_token_expired_raises_pyjwt_error(env: Env) -> None:
    token = env.access_token(expires_delta=EXPIRED)
    with pytest.raises(pyjwt.ExpiredSignatureError):
        env.decode(token)


def test_decode_token_allow_expired(env: Env) -> None:
    token = env.access_token(expires_delta=EXPIRED)
    claims = env.decode(token, allow_expired=True)
    assert claims["sub"] == "alice"
    assert claims["exp"] < time.time()


def test_decode_token_allow_expired_still_checks_signature(env: Env) -> None:
    other = make_app(env.lib, {"JWT_SECRET_KEY": "x" * 64})  # deliberately another key
    token = other.access_token(expires_delta=EXPIRED)
    with pytest.raises(pyjwt.InvalidSignatureError):
        env.decode(token, allow_expired=True)


@pytest.mark.parametrize(
    ("make_token", "error"),
    [
        (lambda key: "not-a-token", pyjwt.DecodeError),
        (lambda key: "a.b.c", pyjwt.DecodeError),
        (
            lambda key: pyjwt.encode({"sub": "x"}, "wrong" * 10, algorithm="HS256"),
            pyjwt.InvalidSignatureError,
        ),
        (
            lambda key: pyjwt.encode({"sub": "x"}, key, algorithm="HS512"),
            pyjwt.InvalidAlgorithmError,
        ),
    ],
    ids=["garbage", "bad-segments", "bad-signature", "bad-algorithm"],
)
def test_decode_token_surfaces_pyjwt_errors(env: Env, make_token: Callable[[str], str], error: type) -> None:
    token = make_token(SECRET)
    with pytest.raises(error):
        env.decode(token)
    # and every one of them is a PyJWT InvalidTokenError
    assert issubclass(error, pyjwt.InvalidTokenError)


def test_decode_token_audience_error_is_pyjwt(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_ENCODE_AUDIENCE="a", JWT_DECODE_AUDIENCE="b")
    with pytest.raises(pyjwt.InvalidAudienceError):
        env.decode(env.access_token())


def test_decode_token_csrf_value(env: Env) -> None:
    token = env.access_token()
    csrf = env.decode(token)["csrf"]
    assert env.decode(token, csrf_value=csrf)["csrf"] == csrf
    with pytest.raises(Exception, match="CSRF double submit tokens do not match"):
        env.decode(token, csrf_value="nope")


# --- helpers ------------------------------------------------------------------


def test_get_jti(env: Env) -> None:
    token = env.access_token()
    jti = env.call(env.lib.get_jti, token)
    assert jti == env.decode(token)["jti"]
    assert env.call(env.lib.get_jti, env.refresh_token()) != jti


def test_get_unverified_jwt_headers_does_not_verify(env: Env) -> None:
    token = pyjwt.encode({"sub": "x"}, "unknown" * 10, algorithm="HS256", headers={"kid": "z"})
    assert env.call(env.lib.get_unverified_jwt_headers, token) == {
        "alg": "HS256",
        "kid": "z",
        "typ": "JWT",
    }


def test_get_csrf_token(env: Env) -> None:
    token = env.access_token()
    assert env.call(env.lib.get_csrf_token, token) == env.decode(token)["csrf"]
    refresh = env.refresh_token()
    assert env.call(env.lib.get_csrf_token, refresh) == env.decode(refresh)["csrf"]


def test_create_token_outside_app_context_raises(env: Env) -> None:
    with pytest.raises(RuntimeError):
        env.lib.create_access_token("alice")


# --- interoperability: tokens survive the switch of library ------------------


def test_tokens_interoperate(lib_pair: Any) -> None:
    writer, reader = lib_pair
    w = make_app(writer)
    r = make_app(reader)
    assert r.get("/protected", w.access_token("eve")) == (
        200,
        {"identity": "eve", "location": "headers", "type": "access"},
    )
    assert r.get("/fresh", w.access_token("eve", fresh=timedelta(minutes=5)))[0] == 200
    assert r.get("/refresh", w.refresh_token("eve"))[1]["type"] == "refresh"
    assert r.get("/protected", w.access_token(expires_delta=EXPIRED))[0] == 401


# --- malformed tokens and size ------------------------------------------------------


MALFORMED = ["", ".", "..", "a", "a.b", "a.b.c", "a.b.c.d", "éé.b.c", "null", "{}", "x" * 300]


@pytest.mark.parametrize("token", MALFORMED, ids=[f"m{i}" for i in range(len(MALFORMED))])
def test_malformed_tokens_are_422(env: Env, token: str) -> None:
    status, body = env.request("GET", "/protected", headers={"Authorization": f"Bearer {token}"})
    if token == "":
        expected = "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"
        assert (status, body) == (422, {"msg": expected})
        return
    assert status == 422
    assert isinstance(body["msg"], str) and body["msg"]


def test_leeway_as_timedelta(make_env: Callable[..., Env]) -> None:
    env = make_env(JWT_DECODE_LEEWAY=timedelta(minutes=5))
    assert env.get("/protected", env.access_token(expires_delta=EXPIRED))[0] == 200


def test_large_token_minted_by_the_app_is_usable(env: Env) -> None:
    # An app whose tokens carry large claims (e.g. a permission list) must either
    # get its tokens accepted, or be told at creation time why they never will be.
    big = {"permissions": [f"perm-{i:05d}" for i in range(1500)]}
    try:
        token = env.access_token(additional_claims=big)
    except Exception as exc:  # a clear refusal at mint time is acceptable
        assert "JWT_MAX_TOKEN_SIZE" in str(exc)
        return
    assert len(token) > 16384
    status, body = env.request("POST", "/protected", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    assert env.decode(token)["permissions"][-1] == "perm-01499"
