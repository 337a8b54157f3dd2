"""The layers below Flask, tested without Flask: tokens, keys, CSRF, settings and the per-app state.

Time is never slept through: every "now" is passed in, or read from a clock
the test moves.
"""

from __future__ import annotations

import base64
import warnings
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from flask_jwt_guard import tokens
from flask_jwt_guard.csrf import check_csrf, new_csrf_token
from flask_jwt_guard.exceptions import (
    ConfigurationError,
    CSRFError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidSignatureError,
    JWTDecodeError,
    JWTExtendedException,
    TokenCreationError,
    UnusableKeyError,
)
from flask_jwt_guard.keys import Key, KeyCache, KeySet
from flask_jwt_guard.settings import DEFAULTS, JWTGuardSecurityWarning, SettingsCache, build_settings
from flask_jwt_guard.state import JWTState, Loaders
from tests.helpers import SECRET

T0 = 1_800_000_000.0


class MovableClock:
    """A clock the test sets; the library reads it wherever it needs "now"."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def config(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {**DEFAULTS, "SECRET_KEY": None, "DEBUG": False, "TESTING": True}
    values["JWT_SECRET_KEY"] = SECRET
    values.update(overrides)
    return values


def options(**overrides: Any) -> tokens.DecodeOptions:
    return tokens.DecodeOptions(**{"algorithms": frozenset({"HS256"}), **overrides})


def signed(claims: dict[str, Any], key: Key | None = None) -> tokens.UnverifiedToken:
    return tokens.parse(tokens.encode(claims, key or Key(SECRET), "HS256"))


# --------------------------------------------------------------------------- tokens


def test_claims_are_stamped_with_the_given_time() -> None:
    claims = tokens.build_claims(
        identity="alice", token_type="access", now=T0, expires_delta=timedelta(minutes=15)
    )
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (int(T0), int(T0), int(T0) + 900)
    assert "csrf" not in claims  # the core makes no CSRF values; the caller passes one in


def test_expiry_follows_the_given_time_not_the_wall_clock() -> None:
    parsed = signed({"sub": "alice", "exp": int(T0) + 60})
    assert tokens.decode(parsed, Key(SECRET), options(), now=T0 + 59).expired is False
    assert tokens.decode(parsed, Key(SECRET), options(), now=T0 + 60).expired is True
    assert tokens.decode(parsed, Key(SECRET), options(leeway=5), now=T0 + 64).expired is False


def test_not_before_follows_the_given_time() -> None:
    parsed = signed({"sub": "alice", "nbf": int(T0) + 10})
    with pytest.raises(ImmatureSignatureError):
        tokens.decode(parsed, Key(SECRET), options(), now=T0)
    assert tokens.decode(parsed, Key(SECRET), options(), now=T0 + 10).claims["sub"] == "alice"


def hand_signed(payload_json: str) -> tokens.UnverifiedToken:
    """A token over exactly this JSON text, signed with SECRET (encode() refuses to make such tokens)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = b64(b'{"alg":"HS256"}')
    signing_input = f"{header}.{b64(payload_json.encode())}"
    signature = Key(SECRET).sign("HS256", signing_input.encode())
    return tokens.parse(f"{signing_input}.{b64(signature)}")


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["1e20", "253402300800", "-62135596801", "1e300"], ids=str)
def test_time_claims_beyond_what_a_datetime_holds_are_invalid(claim: str, value: str) -> None:
    parsed = hand_signed(f'{{"sub":"alice","{claim}":{value}}}')
    with pytest.raises(JWTExtendedException) as caught:  # a request error (422), never OverflowError
        tokens.decode(parsed, Key(SECRET), options(), now=T0)
    assert "must be an integer" in str(caught.value)


@pytest.mark.parametrize("value", ["9" * 21, "-" + "9" * 21, "9" * 400, "1e400", "-1e400"])
def test_numbers_beyond_interoperable_json_are_refused_at_parse(value: str) -> None:
    with pytest.raises(tokens.DecodeError, match="Number out of range"):
        tokens.unverified_payload(hand_signed(f'{{"sub":"alice","n":{value}}}'))


def test_encode_refuses_to_make_a_token_it_would_refuse() -> None:
    for claims in ({"sub": "a", "exp": 10**20}, {"sub": "a", "fresh": float("inf")}):
        with pytest.raises(TokenCreationError):
            tokens.encode(claims, Key(SECRET), "HS256")


@pytest.mark.parametrize(
    ("fresh", "at", "expected"),
    [(True, T0, True), (False, T0, False), (T0 + 60, T0 + 59, True), (T0 + 60, T0 + 61, False)],
)
def test_freshness_follows_the_given_time(fresh: Any, at: float, expected: bool) -> None:
    assert tokens.is_fresh({"fresh": fresh}, at) is expected


@pytest.mark.parametrize("fresh", ["yes", None, [True], 10**400, float("nan")])
def test_badly_typed_fresh_is_an_invalid_token(fresh: Any) -> None:
    with pytest.raises(JWTDecodeError):
        tokens.is_fresh({"fresh": fresh}, T0)


def test_an_overflowing_float_anywhere_is_refused_at_parse() -> None:
    header = tokens.encode({"sub": "a"}, Key(SECRET), "HS256").split(".")[0]
    payload = base64.urlsafe_b64encode(b'{"sub":"a","fresh":1e400}').rstrip(b"=").decode()
    parsed = tokens.parse(f"{header}.{payload}.AAAA")
    with pytest.raises(tokens.DecodeError):
        tokens.unverified_payload(parsed)


# --------------------------------------------------------------------------- keys


def test_key_prepares_once_per_algorithm_and_refuses_confusion() -> None:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    public_pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    key = Key(public_pem)
    with pytest.raises(UnusableKeyError):
        key.prepared("HS256")  # a public key offered as an HMAC secret
    assert key.prepared("ES256") is key.prepared("ES256")


def test_key_pinned_to_an_algorithm_refuses_another() -> None:
    key = Key(SECRET, algorithm="HS256", kid="k1")
    with pytest.raises(UnusableKeyError):
        key.prepared("HS512")
    assert "k1" in repr(key) and SECRET not in repr(key)


def test_keyset_finds_by_kid_and_first_signs() -> None:
    new, old = Key(SECRET, "HS256", "new"), Key(SECRET[::-1], "HS256", "old")
    keys = KeySet([new, old])
    assert keys.signing_key is new
    assert keys.get("old") is old and keys.get("gone") is None and keys.get(5) is None
    with pytest.raises(UnusableKeyError):
        KeySet([new, Key(SECRET, "HS256", "new")])


def test_signing_key_kid_goes_in_the_header() -> None:
    token = tokens.encode({"sub": "a"}, Key(SECRET, "HS256", "2026-12"), "HS256")
    assert tokens.parse(token).header["kid"] == "2026-12"


def test_key_cache_reuses_prepared_secrets_and_stays_bounded() -> None:
    cache = KeyCache(size=2)
    assert cache.get(SECRET) is cache.get(SECRET)
    for i in range(5):
        cache.get(f"{SECRET}{i}")
    assert len(cache._keys) <= 2  # noqa: SLF001 - the bound is the point of the test


# --------------------------------------------------------------------------- CSRF


def test_csrf_check_compares_and_never_skips_on_empty() -> None:
    value = new_csrf_token()
    check_csrf({"csrf": value}, value)
    for wrong in ("", value.upper(), value + "x", "é"):
        with pytest.raises(CSRFError):
            check_csrf({"csrf": value}, wrong)
    with pytest.raises(JWTDecodeError):
        check_csrf({}, value)


# --------------------------------------------------------------------------- settings


def test_settings_group_access_and_refresh() -> None:
    settings = build_settings(config(JWT_REFRESH_COOKIE_PATH="/refresh"))
    assert settings.of(False).cookie.name == "access_token_cookie"
    assert settings.of(True).cookie.path == "/refresh"
    assert settings.refresh.expires == timedelta(days=30)


@pytest.mark.parametrize(
    ("key", "before", "after"), [("JWT_DECODE_LEEWAY", 1, True), ("JWT_DECODE_LEEWAY", 0, False)]
)
def test_a_change_of_type_alone_is_noticed(key: str, before: Any, after: Any) -> None:
    values = config(**{key: before})
    cache = SettingsCache()
    cache.get(values)
    values[key] = after  # equal to the old value by ==, and still a mistake
    with pytest.raises(ConfigurationError, match=key):
        cache.get(values)


def test_expiry_false_then_zero_is_noticed() -> None:
    values = config(JWT_ACCESS_TOKEN_EXPIRES=False)
    cache = SettingsCache()
    assert cache.get(values).access.expires is None
    values["JWT_ACCESS_TOKEN_EXPIRES"] = 0
    assert cache.get(values).access.expires == timedelta(0)


def test_security_warning_points_at_the_callers_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_settings(config(JWT_SECRET_KEY="short"))
    assert caught and caught[0].category is JWTGuardSecurityWarning
    assert caught[0].filename == __file__


# --------------------------------------------------------------------------- state


def make_state(clock: MovableClock, **overrides: Any) -> JWTState:
    return JWTState(config(**overrides), Loaders(), clock)


def test_state_reads_now_from_its_clock_for_creating_and_verifying() -> None:
    clock = MovableClock()
    state = make_state(clock)
    token = state.create_token("alice", "access")
    assert state.verify_token(token)[1]["iat"] == int(T0)
    clock.now += 15 * 60 - 1
    assert state.verify_token(token)[1]["sub"] == "alice"
    clock.now += 1
    with pytest.raises(ExpiredSignatureError) as caught:
        state.verify_token(token)
    assert caught.value.jwt_data["sub"] == "alice"  # the verified token, for expired_token_loader
    assert state.verify_token(token, allow_expired=True)[1]["sub"] == "alice"


def test_state_freshness_moves_with_the_clock() -> None:
    clock = MovableClock()
    state = make_state(clock)
    claims = state.verify_token(state.create_token("alice", "access", fresh=timedelta(minutes=5)))[1]
    assert state.is_fresh(claims)
    clock.now += 301
    assert not state.is_fresh(claims)


def test_state_checks_csrf_before_it_reports_expiry() -> None:
    clock = MovableClock()
    state = make_state(clock)
    token = state.create_token("alice", "access")
    clock.now += 3600
    with pytest.raises(CSRFError):
        state.verify_token(token, csrf_value="forged")
    with pytest.raises(CSRFError):
        state.verify_token(token, csrf_value="")


def test_state_fills_the_claims_the_extension_relies_on() -> None:
    state = make_state(MovableClock())
    token = tokens.encode({"sub": "alice"}, Key(SECRET), "HS256")
    claims = state.verify_token(token)[1]
    assert (claims["type"], claims["fresh"], claims["jti"]) == ("access", False, None)


def test_decode_key_loader_gets_copies() -> None:
    loaders = Loaders()

    def loader(header: dict[str, Any], claims: dict[str, Any]) -> str:
        header["alg"], claims["sub"] = "none", "mallory"
        return SECRET

    loaders.decode_key = loader
    state = JWTState(config(), loaders, MovableClock())
    header, claims = state.verify_token(state.create_token("alice", "access"))
    assert (header["alg"], claims["sub"]) == ("HS256", "alice")


def test_state_refuses_a_token_over_the_size_limit() -> None:
    state = make_state(MovableClock(), JWT_MAX_TOKEN_SIZE=256)
    with pytest.raises(TokenCreationError):
        state.create_token("alice", "access", additional_claims={"blob": "x" * 300})


def test_wrong_key_is_a_signature_error_not_a_crash() -> None:
    state = make_state(MovableClock())
    other = JWTState(config(JWT_SECRET_KEY=SECRET[::-1]), Loaders(), MovableClock())
    with pytest.raises(InvalidSignatureError):
        state.verify_token(other.create_token("alice", "access"))
