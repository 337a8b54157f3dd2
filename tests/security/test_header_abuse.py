"""JOSE header abuse: embedded or remote keys, hostile ``kid``, ``crit``, ``b64``.

RFC 8725 section 3.10 (do not trust keys named by the token), RFC 7515 section
4.1.11 (``crit``), RFC 7797 (unencoded payload: not supported, must be refused).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.helpers import SECRET

from .forge import (
    CANARY_SUB,
    INVALID,
    LOCATIONS,
    KeyPair,
    SecApp,
    assert_rejected,
    assert_safe,
    b64e,
    hs_sign,
    jdump,
    self_signed_cert,
    send,
    unverified_payload,
)


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []
    body = b"{}"

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def key_server(other_rsa_keys: KeyPair) -> Iterator[tuple[str, list[str]]]:
    """A local server offering the attacker's JWKS; records every fetch."""
    jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(other_rsa_keys.public))
    _Recorder.body = json.dumps({"keys": [{**jwk, "kid": "evil", "use": "sig"}]}).encode()
    _Recorder.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()


def _attacker_headers(attacker: KeyPair, url: str) -> dict[str, dict[str, Any]]:
    jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(attacker.public))
    der = self_signed_cert(attacker).public_bytes(serialization.Encoding.DER)
    return {
        "jwk": {"jwk": jwk},
        "jwk-with-kid": {"jwk": {**jwk, "kid": "evil"}, "kid": "evil"},
        "jku": {"jku": f"{url}/jwks.json", "kid": "evil"},
        "x5u": {"x5u": f"{url}/cert.pem"},
        "x5c": {"x5c": [base64.b64encode(der).decode()]},
        "x5c-and-x5t": {"x5c": [base64.b64encode(der).decode()], "x5t": "AAAA"},
        "jku-and-jwk": {"jku": f"{url}/jwks.json", "jwk": jwk},
    }


EMBEDDED = ["jwk", "jwk-with-kid", "jku", "x5u", "x5c", "x5c-and-x5t", "jku-and-jwk"]


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", EMBEDDED)
def test_embedded_key_signed_by_attacker(
    rs: SecApp,
    other_rsa_keys: KeyPair,
    key_server: tuple[str, list[str]],
    location: str,
    case: str,
) -> None:
    url, hits = key_server
    before = len(hits)
    claims = unverified_payload(rs.access(CANARY_SUB))
    headers = _attacker_headers(other_rsa_keys, url)[case]
    token = pyjwt.encode(claims, other_rsa_keys.private, algorithm="RS256", headers=headers)
    assert_rejected(send(rs.client, location, token), INVALID, token=token)
    assert hits[before:] == [], f"the library fetched {hits[before:]}"


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", ["jku", "x5u"])
def test_remote_key_url_never_fetched_even_when_signature_is_real(
    rs: SecApp,
    rsa_keys: KeyPair,
    other_rsa_keys: KeyPair,
    key_server: tuple[str, list[str]],
    location: str,
    case: str,
) -> None:
    url, hits = key_server
    before = len(hits)
    claims = unverified_payload(rs.access("alice"))
    headers = _attacker_headers(other_rsa_keys, url)[case]
    token = pyjwt.encode(claims, rsa_keys.private, algorithm="RS256", headers=headers)
    assert_safe(send(rs.client, location, token), token=token, identity="alice")
    assert hits[before:] == [], f"the library fetched {hits[before:]}"


@pytest.mark.parametrize("location", LOCATIONS)
def test_embedded_symmetric_jwk(hs: SecApp, location: str) -> None:
    claims = unverified_payload(hs.access(CANARY_SUB))
    attacker_secret = b"attacker-chosen-secret-0123456789abcdef"
    header = {"alg": "HS256", "typ": "JWT", "jwk": {"kty": "oct", "k": b64e(attacker_secret)}}
    token = hs_sign(header, claims, attacker_secret)
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


# --- kid

HOSTILE_KIDS: dict[str, Any] = {
    "path-traversal": "../../../../../../dev/null",
    "path-traversal-win": "..\\..\\..\\windows\\win.ini",
    "absolute-path": "/etc/passwd",
    "sql": "x' UNION SELECT 'secret' --",
    "sql-or": "' OR '1'='1",
    "command": "key; cat /etc/passwd",
    "template": "{{7*7}}${7*7}",
    "url": "http://127.0.0.1:1/key",
    "nul": "key\x00.pem",
    "newline": "a\nb",
    "rtl-override": "\u202ekid",
    "10kb": "k" * 10240,
    "empty": "",
}
NON_STRING_KIDS: dict[str, Any] = {
    "int": 1,
    "null": None,
    "bool": True,
    "list": ["a"],
    "object": {"$ne": ""},
    "float-nan": float("nan"),
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kid", list(HOSTILE_KIDS))
def test_hostile_kid_with_forged_signature(hs: SecApp, location: str, kid: str) -> None:
    claims = unverified_payload(hs.access(CANARY_SUB))
    header = {"alg": "HS256", "typ": "JWT", "kid": HOSTILE_KIDS[kid]}
    token = hs_sign(header, claims, b"")
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kid", list(HOSTILE_KIDS))
def test_hostile_kid_with_real_signature_is_opaque(hs: SecApp, location: str, kid: str) -> None:
    """``kid`` is opaque to the library: same identity or a clean 422, nothing else."""
    claims = unverified_payload(hs.access("alice"))
    token = hs_sign({"alg": "HS256", "typ": "JWT", "kid": HOSTILE_KIDS[kid]}, claims, SECRET)
    assert_safe(send(hs.client, location, token), token=token, identity="alice")


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kid", list(NON_STRING_KIDS))
def test_non_string_kid(hs: SecApp, location: str, kid: str) -> None:
    claims = unverified_payload(hs.access(CANARY_SUB))
    header = {"alg": "HS256", "typ": "JWT", "kid": NON_STRING_KIDS[kid]}
    token = hs_sign(header, claims, SECRET)
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


# --- crit and b64

CRITS: dict[str, Any] = {
    "unknown-extension": {"crit": ["x-unknown"], "x-unknown": 1},
    "unknown-not-present": {"crit": ["x-unknown"]},
    "empty-list": {"crit": []},
    "string": {"crit": "exp"},
    "registered-name": {"crit": ["exp"], "exp": 1},
    "non-string-member": {"crit": [1]},
    "null": {"crit": None},
    "object": {"crit": {"b64": True}},
    "b64-listed-but-absent": {"crit": ["b64"]},
    "b64-false-with-crit": {"crit": ["b64"], "b64": False},
    "b64-false-without-crit": {"b64": False},
    "b64-string": {"crit": ["b64"], "b64": "false"},
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("case", list(CRITS))
def test_crit_and_b64(hs: SecApp, location: str, case: str) -> None:
    claims = unverified_payload(hs.access(CANARY_SUB))
    token = hs_sign({"alg": "HS256", "typ": "JWT", **CRITS[case]}, claims, SECRET)
    assert_rejected(send(hs.client, location, token), INVALID, token=token)


@pytest.mark.parametrize("location", LOCATIONS)
def test_unencoded_payload_rfc7797(hs: SecApp, location: str) -> None:
    """A real RFC 7797 JWS (payload not base64url-encoded) is not a JWT here."""
    import hashlib
    import hmac

    claims = unverified_payload(hs.access(CANARY_SUB))
    header = b64e(jdump({"alg": "HS256", "b64": False, "crit": ["b64"]}))
    payload = jdump(claims)
    mac = hmac.new(SECRET.encode(), header.encode() + b"." + payload, hashlib.sha256)
    token = f"{header}.{b64e(payload)}.{b64e(mac.digest())}"
    assert_rejected(send(hs.client, location, token), INVALID, token=token)
