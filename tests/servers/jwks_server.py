"""Plain helpers: a local JWKS server whose behaviour each test sets, and keys to serve.

:class:`JWKSServer` is a threaded :mod:`http.server` on a free loopback port. It
serves JSON documents by path (a JWK Set, a discovery document), counts the
requests it gets, and can be switched at any time to misbehave: answer slowly,
drip its body, send garbage or a huge body, redirect, fail with a status, or go
down (its port closed) and come back up on the same port.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

#: What the server can do; see :class:`JWKSServer`.
MODES = frozenset(
    {"serve", "slow", "drip", "garbage", "huge", "huge_declared", "redirect", "status", "not_a_set", "raw"}
)
HUGE = 4 * 1024 * 1024  # bytes sent in "huge" mode


class JWKSServer:
    """A JWKS server for one test.

    :ivar documents: JSON documents by path (``/jwks.json`` and so on).
    :ivar mode: ``serve`` (the default), ``slow`` (wait ``delay`` then serve),
        ``drip`` (serve one byte every ``delay`` seconds), ``garbage`` (not JSON),
        ``huge`` (a JSON-looking body of several megabytes, no length),
        ``huge_declared`` (a ``Content-Length`` of several megabytes),
        ``redirect`` (302 to ``location``), ``status`` (answer ``status``),
        ``not_a_set`` (JSON, but not ``{"keys": [...]}``), ``raw`` (``raw_body`` as it is).
    :ivar headers: extra response headers (``Cache-Control``, ``Age``).
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls  # serve https:// with this server-side context
        self.documents: dict[str, Any] = {}
        self.mode = "serve"
        self.delay = 0.0
        self.status = 500
        self.location = "/elsewhere.json"
        self.raw_body = b""
        self.headers: dict[str, str] = {}
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------------------ control

    def start(self) -> JWKSServer:
        """Listen (on the same port as before, after :meth:`stop`)."""
        self._stopping.clear()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                server._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        httpd.daemon_threads = True
        if self.tls is not None:
            httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port ("down"); requests in progress are let go at once."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with TLS)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def url(self, path: str = "/jwks.json") -> str:
        """The URL of ``path`` on this server."""
        return self.base + path

    def count(self, path: str | None = None) -> int:
        """Requests received, for ``path`` or in all."""
        with self._lock:
            return self.requests[path] if path is not None else sum(self.requests.values())

    def serve(self, jwks: Any, path: str = "/jwks.json", **headers: str) -> None:
        """Serve ``jwks`` at ``path`` normally from now on (``Cache_Control="max-age=60"``...)."""
        self.documents[path] = jwks
        self.mode = "serve"
        self.headers = {name.replace("_", "-"): value for name, value in headers.items()}

    # ------------------------------------------------------------------ behaviour

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path
        with self._lock:
            self.requests[path] += 1
        mode = self.mode
        try:
            if mode == "slow" and self._stopping.wait(self.delay):
                return
            if mode == "garbage":
                return self._send(handler, 200, b"<html>this is not JSON</html>")
            if mode == "raw":
                return self._send(handler, 200, self.raw_body)
            if mode == "not_a_set":
                return self._send(handler, 200, b'{"keys": "none here"}')
            if mode == "status":
                return self._send(handler, self.status, b'{"error": "provider trouble"}')
            if mode == "redirect":
                return self._send(handler, 302, b"", Location=self.location)
            if mode in ("huge", "huge_declared"):
                return self._send_huge(handler, declared=mode == "huge_declared")
            document = self.documents.get(path)
            if document is None:
                return self._send(handler, 404, b'{"error": "not found"}')
            body = json.dumps(document).encode()
            if mode == "drip":
                return self._send_drip(handler, body)
            self._send(handler, 200, body, **self.headers)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up, as it should
            pass

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _send_huge(self, handler: BaseHTTPRequestHandler, declared: bool) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declared:
            handler.send_header("Content-Length", str(HUGE))
        handler.end_headers()
        handler.wfile.write(b'{"keys": [')
        chunk = b" " * 65536
        for _ in range(HUGE // len(chunk)):
            if self._stopping.is_set():
                return
            handler.wfile.write(chunk)

    def _send_drip(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        for byte in body:
            if self._stopping.wait(self.delay):
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()


# --------------------------------------------------------------------------- keys


class SigningKey:
    """A private key that signs test tokens, and its public JWK."""

    def __init__(self, kid: str, kty: str = "EC", with_alg: bool = True) -> None:
        self.kid = kid
        if kty == "EC":
            self.algorithm = "ES256"
            self.private: Any = ec.generate_private_key(ec.SECP256R1())
            self.jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.algorithm = "RS256"
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.jwk.update(kid=kid, use="sig")
        if with_alg:
            self.jwk["alg"] = self.algorithm

    def private_jwk(self) -> dict[str, Any]:
        """The JWK with its private members (a provider must never publish this)."""
        algorithm = ECAlgorithm if self.algorithm == "ES256" else RSAAlgorithm
        jwk: dict[str, Any] = algorithm.to_jwk(self.private, as_dict=True)
        jwk.update(kid=self.kid, alg=self.algorithm, use="sig")
        return jwk

    def token(self, **claims: Any) -> str:
        """A token signed by this key, with its ``kid`` in the header."""
        return jwt.encode({"sub": "alice", **claims}, self.private, self.algorithm, headers={"kid": self.kid})


def jwk_set(*keys: SigningKey | dict[str, Any]) -> dict[str, Any]:
    """``{"keys": [...]}`` of public JWKs (or of JWK dicts given as they are)."""
    return {"keys": [key.jwk if isinstance(key, SigningKey) else key for key in keys]}


# --------------------------------------------------------------------------- TLS


def tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it signed for ``127.0.0.1`` and ``localhost``.

    :returns: the paths of the CA certificate, the server certificate and the server key (PEM).
    """
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flask-jwt-guard test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The server side of :func:`tls_files`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
