"""RemoteJWKS against a local JWKS server (tests/servers/jwks_server.py): cache and Cache-Control,
the refetch rate limit under a flood of kids and under concurrency, outages (down, slow, dripping,
garbage, huge) with the cached keys still in use, the URL rules, redirects, private keys, discovery,
and every call bounded by the timeout.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from flask_jwt_guard.exceptions import ConfigurationError
from flask_jwt_guard.jwks import (
    DEFAULT_MAX_AGE,
    MAX_MAX_AGE,
    MIN_MAX_AGE,
    RemoteJWKS,
    max_age_of,
    url_problem,
)
from tests.servers.jwks_server import JWKSServer, SigningKey, jwk_set, server_tls_context, tls_files

TIMEOUT = 0.5  # the client's timeout in the fault tests
SLACK = 0.5  # how much longer than TIMEOUT a call may take
T0 = 1_700_000_000.0


class MovableClock:
    """A clock the test sets (the cache and the rate limit read it)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[JWKSServer]:
    server = JWKSServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def key() -> SigningKey:
    return SigningKey("k1")


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


def remote(server: JWKSServer, clock: Any = time.time, **options: Any) -> RemoteJWKS:
    options.setdefault("timeout", TIMEOUT)
    return RemoteJWKS(jwks_uri=server.url(), clock=clock, **options)


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - start


def random_kid() -> str:
    return uuid.uuid4().hex


# --------------------------------------------------------------------------- basics


def test_fetched_once_and_cached(server: JWKSServer, key: SigningKey) -> None:
    server.serve(jwk_set(key))
    keys = remote(server)
    assert keys.keys() == {}
    found = keys.get("k1")
    assert found is not None and found.kid == "k1" and found.algorithm == "ES256"
    assert jwt.decode(key.token(), found.material, algorithms=[found.algorithm])["sub"] == "alice"
    for _ in range(100):
        assert keys.get("k1") is found
    assert server.count() == 1
    assert set(keys.keys()) == {"k1"}


def test_keys_without_alg_take_it_from_kty_and_crv(server: JWKSServer) -> None:
    ec_key, rsa_key = SigningKey("ec", with_alg=False), SigningKey("rsa", kty="RSA", with_alg=False)
    server.serve(jwk_set(ec_key, rsa_key))
    keys = remote(server)
    for signer in (ec_key, rsa_key):
        found = keys.get(signer.kid)
        assert found is not None and found.algorithm == signer.algorithm
        assert found.verify(signer.algorithm, *signing_parts(signer.token()))


def signing_parts(token: str) -> tuple[bytes, bytes]:
    head, payload, signature = token.split(".")
    return f"{head}.{payload}".encode(), jwt.utils.base64url_decode(signature)


@pytest.mark.parametrize("kid", [None, "", 7, ["k1"], {"k": 1}])
def test_a_kid_not_a_string_is_none_without_a_fetch(server: JWKSServer, key: SigningKey, kid: Any) -> None:
    server.serve(jwk_set(key))
    assert remote(server).get(kid) is None
    assert server.count() == 0


def test_refresh_follows_the_rate_limit_unless_forced(
    server: JWKSServer, key: SigningKey, clock: MovableClock
) -> None:
    server.serve(jwk_set(key))
    keys = remote(server, clock)
    assert keys.refresh() is True
    assert keys.refresh() is False
    assert keys.refresh(force=True) is True
    assert server.count() == 2
    clock.now += 60
    assert keys.refresh() is True
    server.stop()
    assert keys.refresh(force=True) is False
    assert set(keys.keys()) == {"k1"}


def test_constructor_refuses_bad_configuration() -> None:
    with pytest.raises(ConfigurationError, match="jwks_uri or an issuer"):
        RemoteJWKS()
    with pytest.raises(ConfigurationError, match="timeout"):
        RemoteJWKS("https://idp.example.test/jwks", timeout=0)
    with pytest.raises(ConfigurationError, match="min_refresh_interval"):
        RemoteJWKS("https://idp.example.test/jwks", min_refresh_interval=-1)


# --------------------------------------------------------------------------- Cache-Control


@pytest.mark.parametrize(
    ("headers", "fresh_for"),
    [
        ({}, DEFAULT_MAX_AGE),
        ({"Cache_Control": "public, max-age=300"}, 300),
        ({"Cache_Control": "max-age=300", "Age": "100"}, 200),
        ({"Cache_Control": "max-age=5"}, MIN_MAX_AGE),
        ({"Cache_Control": "max-age=99999999"}, MAX_MAX_AGE),
        ({"Cache_Control": "no-store"}, MIN_MAX_AGE),
        ({"Cache_Control": "no-cache, max-age=3600"}, MIN_MAX_AGE),
        ({"Cache_Control": "max-age=soon"}, DEFAULT_MAX_AGE),
    ],
)
def test_cache_control_sets_how_long_keys_are_fresh(
    server: JWKSServer, key: SigningKey, clock: MovableClock, headers: dict[str, str], fresh_for: float
) -> None:
    server.serve(jwk_set(key), **headers)
    keys = remote(server, clock, min_refresh_interval=0)
    assert keys.get("k1") is not None
    clock.now = T0 + fresh_for - 1
    assert keys.get("k1") is not None
    assert server.count() == 1
    clock.now = T0 + fresh_for
    assert keys.get("k1") is not None
    assert server.count() == 2


def test_max_age_of() -> None:
    assert max_age_of(None) == DEFAULT_MAX_AGE
    assert max_age_of('max-age="120"') == 120
    assert max_age_of("MAX-AGE=120, must-revalidate") == 120
    assert max_age_of("max-age=120", age="100") == MIN_MAX_AGE
    assert max_age_of("max-age=-5") == DEFAULT_MAX_AGE


def test_a_stale_set_is_replaced_and_dropped_keys_are_gone(server: JWKSServer, clock: MovableClock) -> None:
    old, new = SigningKey("old"), SigningKey("new")
    server.serve(jwk_set(old), Cache_Control="max-age=120")
    keys = remote(server, clock)
    assert keys.get("old") is not None
    server.serve(jwk_set(new), Cache_Control="max-age=120")
    clock.now += 119
    assert keys.get("old") is not None  # still fresh: no fetch
    assert server.count() == 1
    clock.now += 1
    assert keys.get("old") is None  # stale: fetched again, and the provider dropped it
    assert keys.get("new") is not None
    assert server.count() == 2


# --------------------------------------------------------------------------- rate limit, concurrency


def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval(
    server: JWKSServer, key: SigningKey, clock: MovableClock
) -> None:
    server.serve(jwk_set(key))
    keys = remote(server, clock, min_refresh_interval=60)
    assert keys.get("k1") is not None
    start = time.monotonic()
    assert all(keys.get(random_kid()) is None for _ in range(200))
    elapsed = time.monotonic() - start
    assert server.count() == 1  # all 200 within the interval of the first fetch
    clock.now += 60
    assert all(keys.get(random_kid()) is None for _ in range(200))
    assert server.count() == 2  # one more interval, one more fetch
    assert keys.get("k1") is not None
    assert elapsed < 0.5  # rate-limited lookups do not wait for anything


def test_an_unknown_kid_fetches_again_once_the_interval_has_passed(
    server: JWKSServer, clock: MovableClock
) -> None:
    first, second = SigningKey("first"), SigningKey("second")
    server.serve(jwk_set(first))
    keys = remote(server, clock, min_refresh_interval=30)
    assert keys.get("first") is not None
    server.serve(jwk_set(first, second))  # the provider adds a key
    assert keys.get("second") is None  # within the interval: no fetch
    clock.now += 30
    assert keys.get("second") is not None
    assert server.count() == 2


def test_a_clock_that_goes_back_does_not_block_fetching(server: JWKSServer, clock: MovableClock) -> None:
    server.serve(jwk_set(SigningKey("a")))
    keys = remote(server, clock)
    assert keys.get("a") is not None
    server.serve(jwk_set(SigningKey("b")))
    clock.now -= 3600
    assert keys.get("b") is not None


def run_threads(count: int, target: Any) -> list[Any]:
    """``target()`` in ``count`` threads released together; their results and durations."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait(5)
        results[index] = timed(target)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_lookups_of_unknown_kids_make_one_fetch(server: JWKSServer, key: SigningKey) -> None:
    server.serve(jwk_set(key))
    server.mode, server.delay = "slow", 0.3  # long enough for all 20 to arrive during the fetch
    keys = remote(server, timeout=2.0)
    results = run_threads(20, lambda: keys.get(random_kid()))
    assert server.count() == 1
    assert all(found is None for found, _ in results)
    assert max(elapsed for _, elapsed in results) < 2.0 + SLACK


def test_callers_that_waited_for_a_fetch_do_not_fetch_again_even_without_an_interval(
    server: JWKSServer, key: SigningKey
) -> None:
    server.serve(jwk_set(key))
    server.mode, server.delay = "slow", 0.3
    keys = remote(server, timeout=2.0, min_refresh_interval=0)
    results = run_threads(20, lambda: keys.get(random_kid()))
    assert server.count() == 1
    assert all(found is None for found, _ in results)


def test_concurrent_first_lookups_all_get_the_key_from_one_fetch(server: JWKSServer, key: SigningKey) -> None:
    server.serve(jwk_set(key))
    server.mode, server.delay = "slow", 0.3
    keys = remote(server, timeout=2.0)
    results = run_threads(20, lambda: keys.get("k1"))
    assert server.count() == 1
    assert all(found is not None and found.kid == "k1" for found, _ in results)


# --------------------------------------------------------------------------- outages


OUTAGES = ["down", "slow", "drip", "garbage", "not_a_set", "huge", "huge_declared", "status", "redirect"]


def misbehave(server: JWKSServer, how: str) -> None:
    if how == "down":
        server.stop()
    else:
        server.mode = how
        server.delay = {"slow": 5.0, "drip": 0.2}.get(how, 0.0)


@pytest.mark.parametrize("how", OUTAGES)
def test_cached_keys_keep_working_when_the_provider_fails(
    server: JWKSServer, key: SigningKey, clock: MovableClock, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve(jwk_set(key), Cache_Control="max-age=60")
    keys = remote(server, clock)
    assert keys.get("k1") is not None
    misbehave(server, how)
    caplog.set_level(logging.INFO, logger="flask_jwt_guard")
    for _ in range(2):
        clock.now += 61  # past the max-age and the interval: every round tries again
        found, elapsed = timed(keys.get, "k1")
        assert found is not None and found.kid == "k1"  # the stale key is still used
        assert elapsed < TIMEOUT + SLACK
        clock.now += 61
        found, elapsed = timed(keys.get, random_kid())
        assert found is None
        assert elapsed < TIMEOUT + SLACK
    assert set(keys.keys()) == {"k1"}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once per streak, not per attempt
    assert "Cannot fetch the JWK Set" in warnings[0].getMessage()
    # The provider comes back: the next fetch succeeds, says so once, and a new failure is news again.
    if how == "down":
        server.start()
    server.serve(jwk_set(key, SigningKey("k2")))
    clock.now += 61
    assert keys.get("k2") is not None
    assert any("fetched again" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
    misbehave(server, how)
    clock.now += 61
    assert keys.get(random_kid()) is None
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


@pytest.mark.parametrize("how", OUTAGES)
def test_no_keys_at_all_means_none_never_an_error(server: JWKSServer, key: SigningKey, how: str) -> None:
    server.serve(jwk_set(key))
    misbehave(server, how)
    keys = remote(server)
    found, elapsed = timed(keys.get, "k1")
    assert found is None
    assert elapsed < TIMEOUT + SLACK
    assert keys.keys() == {}


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'"keys"',
        b'{"keys": {}}',
        b'{"keys": []}',
        b'{"keys": [1, "two", null]}',
        b"[" * 100_000 + b"]" * 100_000,  # nested deeper than the JSON parser goes
        b'{"keys": [' + b"\xff" * 10 + b"]}",  # not UTF-8
    ],
)
def test_garbage_of_every_kind_is_a_failed_fetch(server: JWKSServer, body: bytes) -> None:
    server.mode, server.raw_body = "raw", body
    keys = remote(server)
    found, elapsed = timed(keys.get, "k1")
    assert found is None
    assert elapsed < TIMEOUT + SLACK
    assert keys.keys() == {}


def test_each_call_is_bounded_by_the_timeout_even_when_the_name_lookup_hangs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    real_getaddrinfo = socket.getaddrinfo

    def hanging_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).endswith(".invalid"):
            release.wait(10)
            raise socket.gaierror("no such host")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    keys = RemoteJWKS(jwks_uri="https://hanging-dns.invalid/jwks.json", timeout=TIMEOUT)
    try:
        found, elapsed = timed(keys.get, "k1")
    finally:
        release.set()
    assert found is None
    assert elapsed < TIMEOUT + SLACK


def test_a_dripping_body_is_cut_off_at_the_timeout(server: JWKSServer, key: SigningKey) -> None:
    # Every byte arrives well within a socket timeout, but the whole body would take minutes.
    server.serve(jwk_set(key))
    server.mode, server.delay = "drip", 0.1
    found, elapsed = timed(remote(server).get, "k1")
    assert found is None
    assert TIMEOUT - 0.05 < elapsed < TIMEOUT + SLACK


def test_the_size_cap(server: JWKSServer, key: SigningKey) -> None:
    server.serve(jwk_set(key))
    size = len(json.dumps(jwk_set(key)))
    assert remote(server, max_bytes=size - 1).get("k1") is None
    assert remote(server, max_bytes=size).get("k1") is not None


# --------------------------------------------------------------------------- URLs, redirects


@pytest.mark.parametrize(
    "url",
    [
        "https://idp.example.test/jwks",
        "https://idp.example.test:8443/jwks?tenant=1",
        "http://127.0.0.1:5000/jwks",
        "http://127.8.9.10/jwks",
        "http://[::1]:5000/jwks",
        "http://localhost/jwks",
        "http://LOCALHOST:80/jwks",
    ],
)
def test_urls_allowed(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid/jwks",
        "http://10.0.0.1/jwks",
        "http://[::ffff:8.8.8.8]/jwks",
        "http://localhost.example.invalid/jwks",
        "ftp://idp.example.test/jwks",
        "file:///etc/passwd",
        "https:///jwks",
        "https://user:secret@idp.example.test/jwks",
        "https://idp.example.test:99999/jwks",
        "//idp.example.test/jwks",
        "jwks.json",
        None,
        42,
    ],
)
def test_urls_refused(url: Any) -> None:
    assert url_problem(url) is not None


def test_allow_http_lets_plain_http_through() -> None:
    assert url_problem("http://idp.example.test/jwks", allow_http=True) is None
    assert url_problem("ftp://idp.example.test/jwks", allow_http=True) is not None


@pytest.mark.parametrize("option", ["jwks_uri", "issuer"])
def test_http_to_a_remote_host_is_refused_before_any_traffic(
    monkeypatch: pytest.MonkeyPatch, option: str
) -> None:
    looked_up: list[Any] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host) or [])
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: looked_up.append(a) or None)
    start = time.monotonic()
    with pytest.raises(ConfigurationError, match="https://"):
        RemoteJWKS(**{option: "http://example.invalid/"})
    assert time.monotonic() - start < 0.1
    assert looked_up == []
    RemoteJWKS(**{option: "http://example.invalid/"}, allow_http=True)  # allowed on request


def test_a_discovered_http_jwks_uri_is_refused_before_any_traffic(
    server: JWKSServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve(
        {"issuer": server.base, "jwks_uri": "http://example.invalid/jwks.json"},
        path="/.well-known/openid-configuration",
    )
    looked_up: list[Any] = []
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host) or real_getaddrinfo(host, *a, **k)
    )
    keys = RemoteJWKS(issuer=server.base, timeout=TIMEOUT)
    assert keys.get("k1") is None
    assert "example.invalid" not in looked_up
    assert server.count() == 1  # the discovery document only
    assert "must be https://" in caplog.text


def test_redirects_are_refused(server: JWKSServer, key: SigningKey, caplog: pytest.LogCaptureFixture) -> None:
    server.serve(jwk_set(key), path="/elsewhere.json")
    server.mode, server.location = "redirect", server.url("/elsewhere.json")
    keys = remote(server)
    assert keys.get("k1") is None
    assert server.count("/jwks.json") == 1
    assert server.count("/elsewhere.json") == 0
    assert "redirects are refused" in caplog.text


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[JWKSServer, Path]]:
    """An https:// server, and the CA file that makes its certificate trusted."""
    ca, cert, private_key = tls_files(tmp_path)
    server = JWKSServer(tls=server_tls_context(cert, private_key)).start()
    try:
        yield server, ca
    finally:
        server.stop()


def test_https_with_a_trusted_certificate(
    tls_server: tuple[JWKSServer, Path], key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ca = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # read by OpenSSL when the client's context is made
    server.serve(jwk_set(key))
    keys = remote(server)
    assert keys.jwks_uri is not None and keys.jwks_uri.startswith("https://127.0.0.1:")
    assert keys.get("k1") is not None


def test_https_with_an_untrusted_certificate_is_refused(
    tls_server: tuple[JWKSServer, Path],
    key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, _ = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server.serve(jwk_set(key))
    assert remote(server).get("k1") is None
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert server.count() == 0


# --------------------------------------------------------------------------- what a set may hold


def test_private_and_unusable_keys_are_skipped_the_rest_kept(server: JWKSServer, key: SigningKey) -> None:
    leaked, first = SigningKey("leaked"), SigningKey("k1")
    server.serve(
        jwk_set(
            leaked.private_jwk(),  # private members: a provider leaking its key
            {"kty": "oct", "kid": "secret", "alg": "HS256", "k": "c2VjcmV0"},  # a shared secret
            {**SigningKey("enc").jwk, "use": "enc"},  # an encryption key
            {**SigningKey("wrap").jwk, "key_ops": ["wrapKey"]},
            {**SigningKey("rsa-oaep", kty="RSA", with_alg=False).jwk, "alg": "RSA-OAEP"},
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
            {"kty": "EC", "crv": "P-256"},  # no kid
            first,
            "not a JWK",
            key,  # a second "k1": the first one wins
        )
    )
    keys = remote(server)
    found = keys.get("k1")
    assert found is not None and set(keys.keys()) == {"k1"}
    assert found.verify("ES256", *signing_parts(first.token()))
    assert not found.verify("ES256", *signing_parts(key.token()))
    for kid in ("leaked", "secret", "enc", "wrap", "rsa-oaep", "broken"):
        assert keys.get(kid) is None


def test_a_set_of_private_keys_only_is_a_failed_fetch(
    server: JWKSServer, key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve(jwk_set(key.private_jwk()))
    keys = remote(server)
    assert keys.get("k1") is None
    assert "no usable signing key" in caplog.text and "private members" in caplog.text


# --------------------------------------------------------------------------- discovery


def serve_discovery(server: JWKSServer, issuer: str, jwks_uri: str | None = None) -> None:
    server.documents["/.well-known/openid-configuration"] = {
        "issuer": issuer,
        "jwks_uri": jwks_uri or server.url(),
    }


def test_discovery_finds_the_jwks_uri(server: JWKSServer, key: SigningKey) -> None:
    server.serve(jwk_set(key))
    serve_discovery(server, server.base)
    keys = RemoteJWKS(issuer=server.base, timeout=TIMEOUT)
    assert keys.jwks_uri is None
    assert keys.get("k1") is not None
    assert keys.jwks_uri == server.url()
    assert server.count("/.well-known/openid-configuration") == 1 and server.count("/jwks.json") == 1


def test_discovery_with_a_trailing_slash_in_the_issuer(server: JWKSServer, key: SigningKey) -> None:
    server.serve(jwk_set(key))
    serve_discovery(server, server.base + "/")
    assert RemoteJWKS(issuer=server.base + "/", timeout=TIMEOUT).get("k1") is not None
    assert server.count("/.well-known/openid-configuration") == 1


@pytest.mark.parametrize("named", ["https://evil.example.test", "{base}/", "{base}/tenant", None])
def test_discovery_must_name_the_same_issuer(
    server: JWKSServer, key: SigningKey, named: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    server.serve(jwk_set(key))
    server.documents["/.well-known/openid-configuration"] = {
        "issuer": None if named is None else named.format(base=server.base),
        "jwks_uri": server.url(),
    }
    keys = RemoteJWKS(issuer=server.base, timeout=TIMEOUT)
    assert keys.get("k1") is None
    assert server.count("/jwks.json") == 0
    assert "names the issuer" in caplog.text


def test_a_configured_jwks_uri_skips_discovery(server: JWKSServer, key: SigningKey) -> None:
    server.serve(jwk_set(key))
    keys = RemoteJWKS(jwks_uri=server.url(), issuer=server.base, timeout=TIMEOUT)
    assert keys.get("k1") is not None
    assert server.count("/.well-known/openid-configuration") == 0


def test_the_jwks_uri_is_discovered_again_after_a_failure(
    server: JWKSServer, key: SigningKey, clock: MovableClock
) -> None:
    server.serve(jwk_set(key))
    serve_discovery(server, server.base)
    keys = RemoteJWKS(issuer=server.base, timeout=TIMEOUT, clock=clock)
    assert keys.get("k1") is not None
    # The provider moves its set: the old URL is gone, discovery names the new one.
    server.documents["/v2/jwks.json"] = server.documents.pop("/jwks.json")
    serve_discovery(server, server.base, server.url("/v2/jwks.json"))
    clock.now += 60
    assert keys.get("k2") is None  # the old URL answers 404: a failure, and discovery is due again
    clock.now += 60
    server.documents["/v2/jwks.json"] = jwk_set(key, SigningKey("k2"))
    assert keys.get("k2") is not None
    assert keys.jwks_uri == server.url("/v2/jwks.json")
    assert server.count("/.well-known/openid-configuration") == 2


def test_the_discovery_document_is_cached_with_its_max_age(
    server: JWKSServer, key: SigningKey, clock: MovableClock
) -> None:
    server.serve(jwk_set(key))
    serve_discovery(server, server.base)
    keys = RemoteJWKS(issuer=server.base, timeout=TIMEOUT, clock=clock, min_refresh_interval=0)
    assert keys.get("k1") is not None
    for _ in range(3):
        assert keys.get(random_kid()) is None
    assert server.count("/.well-known/openid-configuration") == 1
    assert server.count("/jwks.json") == 4
    clock.now += DEFAULT_MAX_AGE
    assert keys.get(random_kid()) is None
    assert server.count("/.well-known/openid-configuration") == 2


def test_when_discovery_fails_the_known_jwks_uri_is_used(
    server: JWKSServer, key: SigningKey, clock: MovableClock
) -> None:
    server.serve(jwk_set(key))
    serve_discovery(server, server.base)
    keys = RemoteJWKS(issuer=server.base, timeout=TIMEOUT, clock=clock)
    assert keys.get("k1") is not None
    del server.documents["/.well-known/openid-configuration"]
    server.documents["/jwks.json"] = jwk_set(key, SigningKey("k2"))
    clock.now += DEFAULT_MAX_AGE
    assert keys.get("k2") is not None
