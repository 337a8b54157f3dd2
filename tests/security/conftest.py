"""Fixtures and helpers for the attack suite.

Every hostile request goes through the full Flask stack.  The library under
test is ``flask_jwt_guard``; setting ``JWT_SECURITY_IMPL=flask_jwt_extended``
runs the same cases against the reference implementation (useful to check the
tests themselves: a few cases are expected to fail there).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import Flask, jsonify

IMPL_NAME = os.environ.get("JWT_SECURITY_IMPL", "flask_jwt_guard")
lib: Any = importlib.import_module(IMPL_NAME)
IS_REFERENCE = IMPL_NAME == "flask_jwt_extended"

# Documented default responses.
MISSING = 401
EXPIRED = 401
INVALID = 422
REVOKED = 401
FRESH_REQUIRED = 401
CSRF_FAILED = 401
WRONG_TYPE = 422

LOCATIONS = ("headers", "cookies", "query_string", "json")
HS_SECRET = "s3cr3t-" + "k" * 57  # 64 bytes: no short-secret warning
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
    return json.loads(b64d(token.split(".")[1]))


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


@dataclass
class KeyPair:
    alg: str
    private: Any
    public: Any
    private_pem: str
    public_pem: str


def _pair(alg: str, private: Any) -> KeyPair:
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


@pytest.fixture(scope="session")
def rsa_keys() -> KeyPair:
    return _pair("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def other_rsa_keys() -> KeyPair:
    return _pair("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ec_keys() -> KeyPair:
    return _pair("ES256", ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="session")
def ec384_keys() -> KeyPair:
    return _pair("ES384", ec.generate_private_key(ec.SECP384R1()))


@pytest.fixture(scope="session")
def ed_keys() -> KeyPair:
    return _pair("EdDSA", ed25519.Ed25519PrivateKey.generate())


# --- app factory


@dataclass
class SecApp:
    app: Flask
    revoked: set[str] = field(default_factory=set)

    @property
    def client(self) -> Any:
        return self.app.test_client(use_cookies=False)

    def access(self, identity: str = "alice", **kwargs: Any) -> str:
        with self.app.app_context():
            return lib.create_access_token(identity=identity, **kwargs)

    def refresh(self, identity: str = "alice", **kwargs: Any) -> str:
        with self.app.app_context():
            return lib.create_refresh_token(identity=identity, **kwargs)

    def revoke(self, token: str) -> None:
        self.revoked.add(unverified_payload(token)["jti"])


def make_app(**config: Any) -> SecApp:
    """An app reading tokens from all four locations, with a jti blocklist."""
    app = Flask(f"security-{id(config)}")
    app.config.update(
        TESTING=True,
        JWT_SECRET_KEY=HS_SECRET,
        JWT_TOKEN_LOCATION=list(LOCATIONS),
        JWT_COOKIE_SECURE=False,
        JWT_COOKIE_CSRF_PROTECT=True,
    )
    app.config.update(config)
    sec = SecApp(app)
    jwt_manager = lib.JWTManager(app)

    @jwt_manager.token_in_blocklist_loader
    def _blocked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        return payload.get("jti") in sec.revoked

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

    return sec


def rsa_app(keys: KeyPair, alg: str = "RS256", **config: Any) -> SecApp:
    return make_app(
        JWT_ALGORITHM=alg,
        JWT_PRIVATE_KEY=keys.private_pem,
        JWT_PUBLIC_KEY=keys.public_pem,
        **config,
    )


@pytest.fixture(scope="session")
def hs() -> SecApp:
    return make_app()


@pytest.fixture(scope="session")
def rs(rsa_keys: KeyPair) -> SecApp:
    return rsa_app(rsa_keys)


@pytest.fixture(scope="session")
def es(ec_keys: KeyPair) -> SecApp:
    return rsa_app(ec_keys, "ES256")


@pytest.fixture(scope="session")
def ed(ed_keys: KeyPair) -> SecApp:
    return rsa_app(ed_keys, "EdDSA")


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
