"""Plain helpers of the attack suite: forging tokens, sending them, judging the answers.

Fixtures live in ``conftest.py``; everything a test file imports comes from here.

The library attacked is :data:`tests.helpers.UNDER_TEST` (``flask_jwt_guard``, or
``flask_jwt_extended`` with ``JWT_TEST_IMPL=flask_jwt_extended``, which is how the suite
itself is checked: a few cases are expected to fail there).  Apps are built with
:func:`tests.helpers.make_app` and sign with :data:`tests.helpers.SECRET`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any
from urllib.parse import quote

import jwt as pyjwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from flask import Flask, jsonify, request
from flask.testing import FlaskClient

from tests.helpers import GUARD, UNDER_TEST, Env, make_app

lib: Any = UNDER_TEST
IS_REFERENCE = UNDER_TEST is not GUARD

# Documented default responses.
MISSING = 401
EXPIRED = 401
INVALID = 422
REVOKED = 401
FRESH_REQUIRED = 401
CSRF_FAILED = 401
WRONG_TYPE = 422

LOCATIONS = ("headers", "cookies", "query_string", "json")
CANARY_SUB = "canary-identity-7f3a9c"


# --- base64url / JSON


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def jdump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def split(token: str) -> tuple[str, str, str]:
    h, p, s = token.split(".")
    return h, p, s


def unverified_payload(token: str) -> dict[str, Any]:
    return json.loads(b64d(token.split(".")[1]))  # type: ignore[no-any-return]


def raw_payload(claims: dict[str, Any], raw: dict[str, str]) -> bytes:
    """``claims`` as JSON text, the members named in ``raw`` replaced by raw JSON text.

    ``raw_payload(claims, {"exp": "1e400"})`` writes ``"exp":1e400`` byte for byte,
    which no JSON encoder would produce.
    """
    kept = {name: value for name, value in claims.items() if name not in raw}
    members = [jdump(kept).decode()[1:-1]] if kept else []
    members += [f"{json.dumps(name)}:{text}" for name, text in raw.items()]
    return ("{" + ",".join(members) + "}").encode()


def hs_sign(header: Any, payload: Any, key: bytes | str, digest: Any = hashlib.sha256) -> str:
    """Build a JWS by hand: header/payload may be dicts or raw JSON bytes."""
    if isinstance(key, str):
        key = key.encode()
    h = header if isinstance(header, bytes) else jdump(header)
    p = payload if isinstance(payload, bytes) else jdump(payload)
    signing_input = f"{b64e(h)}.{b64e(p)}"
    mac = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{b64e(mac)}"


def resign(token: str, key: bytes | str, header: Any = None, payload: Any = None) -> str:
    """Re-sign ``token`` with HS256 after replacing its header and/or payload."""
    h, p, _ = split(token)
    return hs_sign(
        header if header is not None else json.loads(b64d(h)),
        payload if payload is not None else json.loads(b64d(p)),
        key,
    )


# --- keys


@dataclass(frozen=True)
class KeyPair:
    alg: str
    private: Any
    public: Any
    private_pem: str
    public_pem: str


def key_pair(alg: str, private: Any) -> KeyPair:
    public = private.public_key()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return KeyPair(alg, private, public, private_pem, public_pem)


def self_signed_cert(keys: KeyPair) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwt-guard-test")])
    now = dt.datetime.now(dt.UTC)
    signer_hash = None if keys.alg == "EdDSA" else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(keys.public)
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(keys.private, signer_hash)
    )


def asym_sign(header: Any, payload: Any, keys: KeyPair) -> str:
    """Like :func:`hs_sign`, signed with ``keys.private`` under ``keys.alg``."""
    h = header if isinstance(header, bytes) else jdump(header)
    p = payload if isinstance(payload, bytes) else jdump(payload)
    signing_input = f"{b64e(h)}.{b64e(p)}"
    algorithm = pyjwt.algorithms.get_default_algorithms()[keys.alg]
    return f"{signing_input}.{b64e(algorithm.sign(signing_input.encode('ascii'), keys.private))}"


# --- the app under attack

#: WSGI environ key carrying the jti blocklist of the test that sends the request.
REVOKED_ENVIRON_KEY = "jwt_guard_tests.revoked"


def security_routes(app: Flask, lib: ModuleType) -> None:
    """The routes every attack aims at; each answers with what the library saw."""

    def who() -> Any:
        claims = lib.get_jwt()
        return jsonify(identity=lib.get_jwt_identity(), jti=claims.get("jti"))

    @app.route("/protected", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @lib.jwt_required()
    def protected() -> Any:
        return who()

    @app.route("/fresh", methods=["GET", "POST"])
    @lib.jwt_required(fresh=True)
    def fresh() -> Any:
        return who()

    @app.route("/refresh", methods=["GET", "POST"])
    @lib.jwt_required(refresh=True)
    def refresh() -> Any:
        return who()

    @app.route("/optional", methods=["GET", "POST"])
    @lib.jwt_required(optional=True)
    def optional() -> Any:
        return jsonify(identity=lib.get_jwt_identity())

    @app.route("/login", methods=["POST"])
    def login() -> Any:
        resp = jsonify(ok=True)
        lib.set_access_cookies(resp, lib.create_access_token(identity="alice"))
        lib.set_refresh_cookies(resp, lib.create_refresh_token(identity="alice"))
        return resp


def blocklist_from_environ(jwt: Any) -> None:
    """``setup`` for :func:`make_app`: revoked jtis come with each request (see :class:`SecApp`)."""

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        return payload.get("jti") in request.environ.get(REVOKED_ENVIRON_KEY, ())


@dataclass(frozen=True)
class SecApp:
    """An app under attack, and the jti blocklist of one test.

    The app is built once and shared (it is never changed after it is built); the
    blocklist is per test: :meth:`for_test` pairs the app with a new empty one, and
    every request from :attr:`client` carries it in its WSGI environ.  An instance
    made by :func:`security_app` has no blocklist and refuses :meth:`revoke`, so a
    revocation can never leak from one test into another.
    """

    env: Env
    revoked: set[str] | None = None

    @property
    def app(self) -> Flask:
        return self.env.app

    def for_test(self) -> SecApp:
        return replace(self, revoked=set())

    @property
    def client(self) -> FlaskClient:
        client = self.app.test_client(use_cookies=False)
        client.environ_base[REVOKED_ENVIRON_KEY] = self.revoked if self.revoked is not None else ()
        return client

    def access(self, identity: str = "alice", **kwargs: Any) -> str:
        return self.env.access_token(identity, **kwargs)

    def refresh(self, identity: str = "alice", **kwargs: Any) -> str:
        return self.env.refresh_token(identity, **kwargs)

    def revoke(self, token: str) -> None:
        if self.revoked is None:
            raise RuntimeError("this app is shared between tests: revoke through a per-test fixture")
        self.revoked.add(unverified_payload(token)["jti"])


def security_app(**config: Any) -> SecApp:
    """An app reading tokens from all four locations, with the security routes and a blocklist."""
    config = {
        "JWT_TOKEN_LOCATION": list(LOCATIONS),
        "JWT_COOKIE_SECURE": False,
        "JWT_COOKIE_CSRF_PROTECT": True,
        **config,
    }
    return SecApp(make_app(lib, config, routes=security_routes, setup=blocklist_from_environ))


def asym_app(keys: KeyPair, alg: str = "RS256", **config: Any) -> SecApp:
    return security_app(
        JWT_ALGORITHM=alg,
        JWT_PRIVATE_KEY=keys.private_pem,
        JWT_PUBLIC_KEY=keys.public_pem,
        **config,
    )


# --- transport


def csrf_of(token: str) -> str:
    """Best-effort: the CSRF claim of a (possibly hostile) token, else a dummy."""
    try:
        value = unverified_payload(token).get("csrf")
    except Exception:
        return "no-csrf-claim"
    return value if isinstance(value, str) and value else "no-csrf-claim"


def send(
    client: Any,
    location: str,
    token: str,
    *,
    method: str | None = None,
    path: str = "/protected",
    csrf: str | None = None,
    refresh: bool = False,
    extra_environ: dict[str, str] | None = None,
) -> Any:
    """Place ``token`` in one location and send the request.

    Header, cookie and CSRF values are put straight into the WSGI environ, as
    a server would (latin-1 text, no validation by the test client), so hostile
    values arrive byte for byte.  Cookie requests default to POST so that the
    double-submit CSRF check runs; the CSRF header carries the token's own
    ``csrf`` claim unless ``csrf`` is given.
    """
    environ: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    if location == "headers":
        method = method or "GET"
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    elif location == "cookies":
        method = method or "POST"
        name = "refresh_token_cookie" if refresh else "access_token_cookie"
        environ["HTTP_COOKIE"] = f"{name}={token}"
        if method not in ("GET", "HEAD", "OPTIONS"):
            header = "HTTP_X_CSRF_TOKEN"
            environ[header] = csrf if csrf is not None else csrf_of(token)
    elif location == "query_string":
        method = method or "GET"
        raw = token.encode("utf-8", "surrogateescape")
        kwargs["query_string"] = "jwt=" + quote(raw, safe="")
    elif location == "json":
        method = method or "POST"
        key = "refresh_token" if refresh else "access_token"
        kwargs["data"] = json.dumps({key: token})
        kwargs["content_type"] = "application/json"
    else:  # pragma: no cover - programming error
        raise ValueError(location)
    environ.update(extra_environ or {})
    return client.open(path, method=method, environ_overrides=environ, **kwargs)


# --- checks

LEAK_MARKERS = ("Traceback", 'File "', "Exception", "werkzeug", "site-packages")


def _needles(token: str | None, secrets: Iterable[str]) -> list[str]:
    needles = [s for s in secrets if s and len(s) >= 6]
    if token and len(token) >= 12:
        needles.append(token)
        needles.extend(seg for seg in token.split(".") if len(seg) >= 12)
    return needles


def assert_no_leak(resp: Any, token: str | None = None, secrets: Iterable[str] = ()) -> None:
    text = resp.get_data(as_text=True)
    for marker in LEAK_MARKERS:
        assert marker not in text, f"response leaks {marker!r}: {text[:300]!r}"
    for needle in _needles(token, secrets):
        assert needle[:64] not in text, f"response echoes {needle[:40]!r}...: {text[:300]!r}"


def assert_rejected(
    resp: Any,
    status: int | Iterable[int] | None = None,
    *,
    token: str | None = None,
    secrets: Iterable[str] = (CANARY_SUB,),
) -> None:
    """A refusal: 4xx, a JSON object with a ``msg`` string, nothing echoed."""
    assert resp.status_code < 500, f"server error {resp.status_code}: {resp.get_data()[:300]!r}"
    assert 400 <= resp.status_code < 500, f"not refused: {resp.status_code} {resp.get_data()[:200]!r}"
    if status is not None:
        allowed = {status} if isinstance(status, int) else set(status)
        assert resp.status_code in allowed, (
            f"expected {sorted(allowed)}, got {resp.status_code}: {resp.get_data()[:200]!r}"
        )
    assert resp.is_json, f"not JSON: {resp.content_type} {resp.get_data()[:200]!r}"
    body = resp.get_json()
    assert isinstance(body, dict) and isinstance(body.get("msg"), str), body
    assert_no_leak(resp, token, secrets)


COOKIE_UNSAFE = set(' ",;\\\t\r\n\x00') | {chr(c) for c in range(0x7F, 0x100)}


def statuses_for(location: str, token: str, statuses: int | Iterable[int]) -> set[int]:
    """Expected statuses, widened to "missing" (401) when a cookie parser must drop the value."""
    allowed = {statuses} if isinstance(statuses, int) else set(statuses)
    if location == "cookies" and (not token or COOKIE_UNSAFE & set(token)):
        allowed.add(MISSING)
    return allowed


def assert_accepted(resp: Any, identity: str = "alice") -> None:
    assert resp.status_code == 200, f"{resp.status_code}: {resp.get_data()[:300]!r}"
    assert resp.get_json()["identity"] == identity


def assert_safe(resp: Any, token: str | None = None, identity: str | None = None) -> None:
    """Either refused as in ``assert_rejected`` or the same 200 as ``identity``."""
    if resp.status_code == 200 and identity is not None:
        assert resp.get_json()["identity"] == identity
    else:
        assert_rejected(resp, token=token)


def each_location(fn: Callable[..., Any]) -> Callable[..., Any]:
    return pytest.mark.parametrize("location", LOCATIONS)(fn)
