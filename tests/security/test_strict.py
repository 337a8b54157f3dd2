"""Secure-by-default knobs: start-up warnings, and the ``JWT_STRICT`` profile."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.helpers import SECRET

from .forge import (
    CANARY_SUB,
    INVALID,
    IS_REFERENCE,
    LOCATIONS,
    MISSING,
    KeyPair,
    SecApp,
    assert_accepted,
    assert_rejected,
    csrf_of,
    hs_sign,
    security_app,
    send,
    unverified_payload,
)

pytestmark = pytest.mark.skipif(IS_REFERENCE, reason="flask_jwt_guard knobs")

if not IS_REFERENCE:
    from flask_jwt_guard import JWTGuardSecurityWarning
    from flask_jwt_guard.exceptions import ConfigurationError
else:  # pragma: no cover - the module is skipped
    JWTGuardSecurityWarning = UserWarning
    ConfigurationError = RuntimeError


def _boot(**config: Any) -> SecApp:
    """Create the app and exercise it once, so lazily built settings are built."""
    sec = security_app(**config)
    token = sec.access()
    sec.client.get("/protected", headers={"Authorization": f"Bearer {token}"})
    return sec


@contextmanager
def _recorded() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _security_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, JWTGuardSecurityWarning)]


def test_warning_category() -> None:
    assert issubclass(JWTGuardSecurityWarning, UserWarning)
    assert issubclass(ConfigurationError, RuntimeError)


# --- warnings


@pytest.fixture(scope="module")
def ec_pair(ec_keys: KeyPair) -> dict[str, Any]:
    return {"JWT_PRIVATE_KEY": ec_keys.private_pem, "JWT_PUBLIC_KEY": ec_keys.public_pem}


WEAK_CONFIGS: dict[str, dict[str, Any]] = {
    "secret-31-bytes": {"JWT_SECRET_KEY": "k" * 31},
    "secret-8-bytes": {"JWT_SECRET_KEY": "changeme"},
    "secret-31-bytes-as-bytes": {"JWT_SECRET_KEY": b"k" * 31},
    "insecure-cookies-in-production": {"TESTING": False, "DEBUG": False},
    "mixed-hs-and-rs": {"JWT_DECODE_ALGORITHMS": ["HS256", "RS256"]},
    "mixed-hs-and-es": {"JWT_DECODE_ALGORITHMS": ["ES256", "HS512"]},
}
SOUND_CONFIGS: dict[str, dict[str, Any]] = {
    "secret-32-bytes": {"JWT_SECRET_KEY": "k" * 32},
    "secure-cookies": {"TESTING": False, "JWT_COOKIE_SECURE": True},
    "insecure-cookies-while-testing": {"TESTING": True},
    "insecure-cookies-in-debug": {"TESTING": False, "DEBUG": True},
    "insecure-but-no-cookie-location": {"TESTING": False, "JWT_TOKEN_LOCATION": ["headers"]},
    "hs-family-only": {"JWT_DECODE_ALGORITHMS": ["HS256", "HS512"]},
}


@pytest.mark.parametrize("case", list(WEAK_CONFIGS))
def test_weak_configuration_warns(case: str, ec_pair: dict[str, Any]) -> None:
    config = dict(WEAK_CONFIGS[case])
    if case == "mixed-hs-and-es":
        config.update(ec_pair, JWT_ALGORITHM="ES256")
    with _recorded() as caught:
        _boot(**config)
    assert _security_warnings(caught), f"no JWTGuardSecurityWarning for {case}"


@pytest.mark.parametrize("case", list(SOUND_CONFIGS))
def test_sound_configuration_is_quiet(case: str) -> None:
    with _recorded() as caught:
        _boot(**SOUND_CONFIGS[case])
    assert _security_warnings(caught) == []


@pytest.mark.parametrize("case", list(WEAK_CONFIGS))
def test_strict_refuses_weak_configuration(case: str, ec_pair: dict[str, Any]) -> None:
    config = dict(WEAK_CONFIGS[case], JWT_STRICT=True, JWT_COOKIE_SECURE=True)
    if case == "insecure-cookies-in-production":
        config["JWT_COOKIE_SECURE"] = False
        _strict_refuses_or_forces_secure(config)
        return
    if case == "mixed-hs-and-es":
        config.update(ec_pair, JWT_ALGORITHM="ES256")
    with pytest.raises(ConfigurationError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _boot(**config)


def _strict_refuses_or_forces_secure(config: dict[str, Any]) -> None:
    """JWT_STRICT with JWT_COOKIE_SECURE=False: refuse to start, or override it
    (the ``__Host-`` prefix needs Secure).  Never plain-HTTP cookies."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sec = _boot(**config)
    except ConfigurationError:
        return
    cookies = sec.client.post("/login").headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "secure" in [a.strip().lower() for a in cookie.split(";")[1:]], cookie


# --- strict runtime


@pytest.fixture(scope="module")
def strict() -> SecApp:
    with warnings.catch_warnings():
        warnings.simplefilter("error", JWTGuardSecurityWarning)
        return security_app(JWT_STRICT=True, JWT_COOKIE_SECURE=True)


def _strict_send(sec: SecApp, location: str, token: str, **kwargs: Any) -> Any:
    if location != "cookies":
        return send(sec.client, location, token, **kwargs)
    environ = {
        "HTTP_COOKIE": f"__Host-access_token_cookie={token}",
        "HTTP_X_CSRF_TOKEN": csrf_of(token),
    }
    return sec.client.post("/protected", environ_overrides=environ)


@pytest.mark.parametrize("location", LOCATIONS)
def test_strict_control_valid_token(strict: SecApp, location: str) -> None:
    assert_accepted(_strict_send(strict, location, strict.access()))


@pytest.mark.parametrize("location", LOCATIONS)
def test_strict_requires_type_claim(strict: SecApp, hs: SecApp, location: str) -> None:
    claims = unverified_payload(strict.access(CANARY_SUB))
    del claims["type"]
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims, SECRET)
    assert_rejected(_strict_send(strict, location, token), INVALID, token=token)
    # Outside strict mode a missing type means "access" (compatibility).
    claims = unverified_payload(hs.access("alice"))
    del claims["type"]
    token = hs_sign({"alg": "HS256", "typ": "JWT"}, claims, SECRET)
    assert_accepted(send(hs.client, location, token))


PAIRS = list(itertools.combinations(LOCATIONS, 2))


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
@pytest.mark.parametrize("same", [True, False], ids=["same-token", "two-tokens"])
def test_strict_refuses_tokens_in_two_locations(strict: SecApp, first: str, second: str, same: bool) -> None:
    a = strict.access("alice")
    b = a if same else strict.access("mallory")
    environ: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    for location, token in ((first, a), (second, b)):
        if location == "headers":
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        elif location == "cookies":
            environ["HTTP_COOKIE"] = f"__Host-access_token_cookie={token}"
            environ["HTTP_X_CSRF_TOKEN"] = csrf_of(token)
        elif location == "query_string":
            kwargs["query_string"] = {"jwt": token}
        else:
            kwargs["json"] = {"access_token": token}
    resp = strict.client.post("/protected", environ_overrides=environ, **kwargs)
    assert_rejected(resp, INVALID, token=a, secrets=("mallory",))


def test_strict_cookies_use_host_prefix(strict: SecApp) -> None:
    resp = strict.client.post("/login")
    assert resp.status_code == 200
    cookies = resp.headers.getlist("Set-Cookie")
    assert len(cookies) >= 2
    for cookie in cookies:
        name = cookie.split("=", 1)[0]
        attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
        assert name.startswith("__Host-"), cookie
        assert "secure" in attrs, cookie
        assert "path=/" in attrs, cookie
        assert not any(a.startswith("domain=") for a in attrs), cookie
        assert "samesite=lax" in attrs, cookie


def test_strict_ignores_unprefixed_cookie(strict: SecApp) -> None:
    token = strict.access(CANARY_SUB)
    environ = {"HTTP_COOKIE": f"access_token_cookie={token}", "HTTP_X_CSRF_TOKEN": csrf_of(token)}
    resp = strict.client.post("/protected", environ_overrides=environ)
    assert_rejected(resp, MISSING, token=token)


@pytest.mark.parametrize("outcome", ["accepted", "forged", "expired"])
def test_strict_query_string_responses_are_not_cached(strict: SecApp, outcome: str) -> None:
    from datetime import timedelta

    token = strict.access("alice")
    if outcome == "forged":
        token = token[:-4] + "AAAA"
    elif outcome == "expired":
        token = strict.access("alice", expires_delta=timedelta(seconds=-60))
    resp = send(strict.client, "query_string", token)
    assert resp.status_code == (200 if outcome == "accepted" else 422 if outcome == "forged" else 401)
    assert "no-store" in resp.headers.get("Cache-Control", "")
    assert resp.headers.get("Referrer-Policy") == "no-referrer"


def test_default_mode_accepts_tokens_in_two_locations(hs: SecApp) -> None:
    """Compatibility: outside strict mode the first configured location wins."""
    token = hs.access("alice")
    resp = hs.client.get(
        "/protected", headers={"Authorization": f"Bearer {token}"}, query_string={"jwt": token}
    )
    assert_accepted(resp)
