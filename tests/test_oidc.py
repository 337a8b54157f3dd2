"""End to end against a real OpenID provider: ``oidc-provider`` under Node.js
(tests/servers/oidc_provider.py, tests/servers/oidc/provider.mjs), issuing JWT access tokens by the
client credentials grant with a resource indicator as audience.

RemoteJWKS on its own: discovery, the token's ``kid`` found, PyJWT verifying the token with that
key, a key rotation (the provider restarted on the same port with a new key) and an outage. Then a
Flask app configured with nothing but ``JWT_OIDC_ISSUER``, ``JWT_DECODE_ISSUER`` and
``JWT_DECODE_AUDIENCE`` accepting those tokens.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

import flask_jwt_guard as guard
from flask_jwt_guard.jwks import DEFAULT_MAX_AGE, RemoteJWKS
from tests.helpers import Env, make_app
from tests.servers import oidc_provider
from tests.servers.oidc_provider import API, CLIENT_ID, OTHER_API, OIDCProvider, restart, start, stop

TIMEOUT = 2.0


class MovableClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Restartable:
    """A provider of one test's own, which it may stop, and restart with a new key."""

    def __init__(self, folder: Path) -> None:
        self.current = start(folder, kid="key-1")
        self.issuer = self.current.issuer

    def rotate(self, kid: str) -> OIDCProvider:
        self.current = restart(self.current, kid)
        assert self.current.issuer == self.issuer
        return self.current

    def down(self) -> None:
        stop(self.current)


@pytest.fixture(scope="module")
def provider_folder() -> Path:
    return oidc_provider.install()


@pytest.fixture(scope="module")
def provider(provider_folder: Path) -> Iterator[OIDCProvider]:
    running = start(provider_folder)
    try:
        yield running
    finally:
        stop(running)


@pytest.fixture
def rotating(provider_folder: Path) -> Iterator[Restartable]:
    own = Restartable(provider_folder)
    try:
        yield own
    finally:
        stop(own.current)


# --------------------------------------------------------------------------- RemoteJWKS


def test_discovery_finds_the_key_of_a_real_token(provider: OIDCProvider) -> None:
    token = provider.token()
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "typ": "at+jwt", "kid": provider.kid}
    remote = RemoteJWKS(issuer=provider.issuer, timeout=TIMEOUT)
    key = remote.get(header["kid"])
    assert key is not None and key.algorithm == "RS256"
    assert remote.jwks_uri == f"{provider.issuer}/jwks"
    claims = jwt.decode(token, key.material, algorithms=[key.algorithm], audience=API, issuer=provider.issuer)
    assert claims["sub"] == CLIENT_ID and claims["client_id"] == CLIENT_ID and claims["scope"] == "api:read"
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(provider.token(OTHER_API), key.material, algorithms=["RS256"], audience=API)
    assert remote.get("no-such-kid") is None


def test_remote_jwks_follows_a_key_rotation_and_outlives_an_outage(rotating: Restartable) -> None:
    clock = MovableClock(time.time())
    remote = RemoteJWKS(issuer=rotating.issuer, timeout=TIMEOUT, clock=clock)
    old_token = rotating.current.token()
    old_key = remote.get("key-1")
    assert old_key is not None

    rotating.down()
    clock.now += DEFAULT_MAX_AGE + 60  # the cached set is stale, and the provider is down
    start_time = time.monotonic()
    assert remote.get("key-1") is old_key
    assert remote.get("key-2") is None
    assert time.monotonic() - start_time < TIMEOUT + 0.5

    new_token = rotating.rotate("key-2").token()
    assert remote.get("key-2") is None  # the rate limit: the failed fetch was just now
    clock.now += 60
    new_key = remote.get("key-2")
    assert new_key is not None
    assert jwt.decode(new_token, new_key.material, algorithms=["RS256"], audience=API)["sub"] == CLIENT_ID
    assert remote.get("key-1") is None  # gone from the provider's set
    assert set(remote.keys()) == {"key-2"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(old_token, new_key.material, algorithms=["RS256"], audience=API)


# --------------------------------------------------------------------------- a Flask app


def oidc_app(issuer: str) -> Env:
    """An app whose whole JWT configuration is the provider's issuer and the API's audience."""
    config = {"JWT_OIDC_ISSUER": issuer, "JWT_DECODE_ISSUER": issuer, "JWT_DECODE_AUDIENCE": API}
    return make_app(guard, config, secret=None)


def test_an_app_accepts_the_providers_tokens(provider: OIDCProvider) -> None:
    env = oidc_app(provider.issuer)
    status, body = env.get("/protected", provider.token())
    assert (status, body["identity"], body["type"]) == (200, CLIENT_ID, "access")
    status, body = env.get("/protected", provider.token(OTHER_API))
    assert status == 422, body
    status, body = env.get("/protected", token=provider.token()[:-4] + "AAAA")
    assert status == 422, body


def test_an_app_follows_a_key_rotation(rotating: Restartable) -> None:
    env = oidc_app(rotating.issuer)
    old_token = rotating.current.token()
    assert env.get("/protected", old_token)[0] == 200
    new_token = rotating.rotate("key-2").token()
    state = env.app.extensions["jwt_guard"]
    state.clock = lambda: time.time() + 61  # past the default JWT_JWKS_MIN_REFRESH_INTERVAL (60 s)
    status, body = env.get("/protected", new_token)
    assert status == 200, body
    status, body = env.get("/protected", old_token)  # its key is gone from the provider's set
    assert status == 422, body
