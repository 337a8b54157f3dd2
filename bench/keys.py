"""Per-request cost of asymmetric keys, Flask-JWT-Guard vs Flask-JWT-Extended, side by side.

Part 1, for RS256, ES256 and EdDSA (one key of each, the Authorization header,
``@jwt_required()``): Flask-JWT-Guard with ``JWT_SIGNING_KEYS`` (a JWK Set holding
the key), Flask-JWT-Guard configured the peer's way (``JWT_ALGORITHM`` with
``JWT_PRIVATE_KEY``/``JWT_PUBLIC_KEY`` PEMs of the same key), and the peer
configured that way. A "floor" route verifies the same token with the standard
library and ``cryptography`` alone (a public key object loaded once), so that the
signature check, which costs both libraries the same, can be taken out.

Part 2: a cached JWK Set lookup. A local JWKS server (loopback, free port) serves
an RS256 public key; Flask-JWT-Guard reads it through ``JWT_JWKS_URI`` with
``JWT_DECODE_ISSUER``/``JWT_DECODE_AUDIENCE``, against the same library and the
peer given that public key as ``JWT_PUBLIC_KEY``: the difference is the lookup by
``kid``. Then ``RemoteJWKS.get`` for a cached ``kid`` in a tight loop.

The method is ``run.py``'s: every app built in one process and called through
``app.wsgi_app``; interleaved rounds (the case list runs forwards, then backwards);
medians over rounds; overhead = protected route - the same app's unprotected
route. A profile of each protected route checks that no key is parsed per request.

    .venv/bin/python bench/keys.py           # ~45 s, writes bench/results/keys.{md,json}
    .venv/bin/python bench/keys.py --quick   # a few seconds, prints only
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import json
import pstats
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt as pyjwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask, Response, jsonify

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import IDENTITY, OURS, PEER, add_floor_route, import_lib  # noqa: E402
from harness import (  # noqa: E402
    PreparedRequest,
    RequestCase,
    call_once,
    machine_info,
    prepare,
    spread_pct,
    time_requests,
)

RESULTS = Path(__file__).resolve().parent / "results"
ALGORITHMS = ("RS256", "ES256", "EdDSA")
TARGET_RATIO = 0.5  # our overhead / the peer's overhead
TARGET = f"≤ {TARGET_RATIO}"
NOISY_SPREAD = 20  # % (interquartile range / median of the per-round ratios) that calls for a re-run
ISSUER = "https://issuer.bench.invalid/"
AUDIENCE = "bench-api"
REMOTE_KID = "bench-jwks-rs256"

OPEN = RequestCase("open", "unprotected", "base", "GET", "/open", protected=False)
PROTECTED = RequestCase("protected", "header", "base", "GET", "/protected", ("auth",))
FLOOR = RequestCase("floor", "floor", "base", "GET", "/floor", ("auth",), False)


# --- keys and the floor ------------------------------------------------------------


@dataclass(frozen=True)
class KeyMaterial:
    alg: str
    jwk: dict[str, Any]  # private, with kid and alg
    private_pem: str
    public_pem: str
    public_key: Any  # a cryptography public key object

    @classmethod
    def generate(cls, alg: str, kid: str | None = None) -> KeyMaterial:
        jwk = import_lib(f"{OURS}.keys").generate_jwk(alg, kid=kid)
        private = pyjwt.PyJWK(jwk, algorithm=alg).key
        public = private.public_key()
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        return cls(alg, jwk, private_pem, public_pem, public)

    def public_jwk_set(self) -> dict[str, Any]:
        """The public JWK Set a provider would publish for this key."""
        key_set: dict[str, Any] = import_lib(f"{OURS}.keys").public_key_set({"keys": [self.jwk]})
        return key_set


def _b64d(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_ECDSA = ec.ECDSA(hashes.SHA256())


def floor_verifier(alg: str, public_key: Any) -> Callable[[str], dict[str, Any]]:
    """Verify a token of ``alg`` with the standard library and ``cryptography`` only.

    The key object is made once, outside. Split, parse the header, check ``alg``,
    verify the signature, parse the payload, check ``exp``; raises ValueError.
    """
    verify: Callable[[bytes, bytes], None]
    if alg == "RS256":

        def verify(sig: bytes, msg: bytes) -> None:
            public_key.verify(sig, msg, _PKCS1, _SHA256)

    elif alg == "ES256":

        def verify(sig: bytes, msg: bytes) -> None:
            if len(sig) != 64:
                raise ValueError("bad signature length")
            r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            public_key.verify(encode_dss_signature(r, s), msg, _ECDSA)

    elif alg == "EdDSA":
        verify = public_key.verify
    else:
        raise ValueError(alg)

    def check(token: str) -> dict[str, Any]:
        header_b64, payload_b64, sig_b64 = token.split(".")
        if json.loads(_b64d(header_b64)).get("alg") != alg:
            raise ValueError("bad alg")
        try:
            verify(_b64d(sig_b64), f"{header_b64}.{payload_b64}".encode())
        except InvalidSignature:
            raise ValueError("bad signature") from None
        payload: dict[str, Any] = json.loads(_b64d(payload_b64))
        if payload["exp"] <= time.time():
            raise ValueError("expired")
        return payload

    return check


# --- the apps ----------------------------------------------------------------------


def build_app(lib_name: str, name: str, config: dict[str, Any], floor: Callable[[str], Any] | None) -> Flask:
    """The app on ``lib_name``: /open, /protected (header only), and /floor when given a verifier."""
    lib = import_lib(lib_name)
    app = Flask(f"bench_keys_{name}")
    app.config.update(JWT_TOKEN_LOCATION=["headers"], **config)
    lib.JWTManager(app)
    get_jwt_identity = lib.get_jwt_identity

    @app.get("/open")
    def open_route() -> Response:
        return jsonify(sub="anonymous")

    @app.get("/protected")
    @lib.jwt_required()
    def protected() -> Response:
        return jsonify(sub=get_jwt_identity())

    if floor is not None:
        add_floor_route(app, floor)

    return app


@dataclass
class Subject:
    """One app: its token, its prepared requests, and its timings by route."""

    key: str
    lib: str
    app: Flask
    token: str
    routes: tuple[RequestCase, ...]
    requests: dict[str, PreparedRequest] = field(default_factory=dict)
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for case in self.routes:
            self.requests[case.key] = prepare(case, self.token)

    @property
    def is_ours(self) -> bool:
        return self.lib == OURS

    def check(self) -> None:
        for case in self.routes:
            status, body = call_once(self.app.wsgi_app, self.requests[case.key])
            expected = "anonymous" if case.key == "open" else IDENTITY
            if status != "200 OK" or json.loads(body).get("sub") != expected:
                raise SystemExit(f"[{self.key}] {case.key}: {status} {body[:200]!r}; not benchmarking that")

    def measure(self, route: str, n: int) -> None:
        wall, cpu = time_requests(self.app.wsgi_app, self.requests[route], n)
        self.wall.setdefault(route, []).append(wall)
        self.cpu.setdefault(route, []).append(cpu)

    def median_us(self, route: str, cpu: bool = False) -> float:
        return statistics.median((self.cpu if cpu else self.wall)[route]) / 1000.0

    def overhead_us(self, route: str = "protected", cpu: bool = False) -> float:
        return self.median_us(route, cpu) - self.median_us("open", cpu)

    def overhead_rounds(self, route: str = "protected") -> list[float]:
        return [(p - o) / 1000.0 for p, o in zip(self.wall[route], self.wall["open"], strict=True)]


def own_token(subject_lib: str, app: Flask) -> str:
    with app.app_context():
        token: str = import_lib(subject_lib).create_access_token(identity=IDENTITY)
    return token


def part1_subjects(material: KeyMaterial) -> list[Subject]:
    alg = material.alg
    pem = {
        "JWT_ALGORITHM": alg,
        "JWT_PRIVATE_KEY": material.private_pem,
        "JWT_PUBLIC_KEY": material.public_pem,
    }
    floor = floor_verifier(alg, material.public_key)
    made = [
        (f"{alg}/guard-keyset", OURS, {"JWT_SIGNING_KEYS": {"keys": [material.jwk]}}, None),
        (f"{alg}/guard-pem", OURS, pem, floor),
        (f"{alg}/peer-pem", PEER, pem, None),
    ]
    subjects = []
    for key, lib, config, floor_fn in made:
        app = build_app(lib, key, config, floor_fn)
        routes = (OPEN, PROTECTED, FLOOR) if floor_fn else (OPEN, PROTECTED)
        subjects.append(Subject(key, lib, app, own_token(lib, app), routes))
    return subjects


# --- part 2: a local JWKS server -----------------------------------------------------


class JWKSServer:
    """Serves one JWK Set at /jwks.json on a free loopback port, counting the fetches."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        body = json.dumps(jwks).encode()
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                served.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/jwk-set+json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "public, max-age=3600")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.fetches = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> JWKSServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def provider_token(material: KeyMaterial) -> str:
    """A token as a provider would sign it: kid in the header, iss/aud/sub/iat/exp/jti."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": IDENTITY,
        "iat": now,
        "nbf": now,
        "exp": now + 86400,
        "jti": str(uuid.uuid4()),
    }
    return pyjwt.encode(claims, material.private_pem, algorithm="RS256", headers={"kid": REMOTE_KID})


def part2_subjects(material: KeyMaterial, jwks_url: str) -> list[Subject]:
    iss_aud = {"JWT_DECODE_ISSUER": ISSUER, "JWT_DECODE_AUDIENCE": AUDIENCE}
    public_pem = {"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": material.public_pem, **iss_aud}
    token = provider_token(material)
    made = [
        ("jwks/guard-remote", OURS, {"JWT_JWKS_URI": jwks_url, **iss_aud}),
        ("jwks/guard-pem", OURS, public_pem),
        ("jwks/peer-pem", PEER, public_pem),
    ]
    return [
        Subject(key, lib, build_app(lib, key, config, None), token, (OPEN, PROTECTED))
        for key, lib, config in made
    ]


# --- timing ---------------------------------------------------------------------------


def run_rounds(subjects: list[Subject], rounds: int, n: int) -> None:
    cases = [(s, c.key) for s in subjects for c in s.routes]
    for s, route in cases:  # warm-up: caches, the first JWKS fetch, branch predictors
        s.measure(route, max(20, n // 5))
    for s in subjects:
        s.wall.clear()
        s.cpu.clear()
    started = time.perf_counter()
    for r in range(rounds):
        for s, route in cases if r % 2 == 0 else reversed(cases):
            s.measure(route, n)
        if (r + 1) % 5 == 0 or r + 1 == rounds:
            print(f"  round {r + 1}/{rounds} ({time.perf_counter() - started:.0f}s)", flush=True)


def ns_per_call(fn: Callable[[], object], n: int, rounds: int) -> tuple[float, float]:
    """(median ns per call, IQR % of the median) over ``rounds`` loops of ``n`` calls, loop cost taken out."""
    loop = range(n)
    per_round = []
    for _ in range(rounds):
        gc.collect()
        t0 = time.perf_counter_ns()
        for _ in loop:
            pass
        empty = time.perf_counter_ns() - t0
        t0 = time.perf_counter_ns()
        for _ in loop:
            fn()
        per_round.append((time.perf_counter_ns() - t0 - empty) / n)
    return statistics.median(per_round), spread_pct(per_round)


def verify_ab(remote: Subject, pem: Subject, rounds: int, n: int) -> dict[str, Any]:
    """``JWTState.verify_token`` of the same token, JWKS app vs PEM app, outside any request.

    Interleaved rounds of thread CPU time; the paired per-round differences isolate the
    lookup from the noise of whole requests.
    """
    per: dict[str, list[float]] = {remote.key: [], pem.key: []}
    calls = []
    for s in (remote, pem):
        state = s.app.extensions["jwt_guard"]
        with s.app.app_context():
            settings = state.settings
        state.verify_token(s.token, settings)  # raises if it does not verify
        calls.append((s.key, state.verify_token, s.token, settings))
    for r in range(rounds):
        for key, verify, token, settings in calls if r % 2 == 0 else reversed(calls):
            gc.collect()
            c0 = time.thread_time_ns()
            for _ in range(n):
                verify(token, settings)
            per[key].append((time.thread_time_ns() - c0) / n / 1000.0)
    diffs = [a - b for a, b in zip(per[remote.key], per[pem.key], strict=True)]
    q = statistics.quantiles(diffs, n=4)
    return {
        "remote_us": statistics.median(per[remote.key]),
        "pem_us": statistics.median(per[pem.key]),
        "diff_us": statistics.median(diffs),
        "diff_q1_us": q[0],
        "diff_q3_us": q[2],
    }


def micro_lookups(guard_remote: Subject, server: JWKSServer, rounds: int, n: int) -> dict[str, Any]:
    """ns per call of the cached lookups: RemoteJWKS.get, the state's remote_key, KeySet.get."""
    client = import_lib(f"{OURS}.jwks").RemoteJWKS(jwks_uri=server.url)
    if not client.refresh(force=True) or client.get(REMOTE_KID) is None:
        raise SystemExit("RemoteJWKS could not fetch the bench JWKS")
    state = guard_remote.app.extensions["jwt_guard"]
    with guard_remote.app.app_context():
        settings = state.settings
    key_set = import_lib(f"{OURS}.keys").KeySet([next(iter(client.keys().values()))])
    plain = dict(client.keys())
    cases: dict[str, Callable[[], object]] = {
        "RemoteJWKS.get (cached kid)": lambda: client.get(REMOTE_KID),
        "JWTState.remote_key (what a request calls)": lambda: state.remote_key(REMOTE_KID, settings),
        "KeySet.get (JWT_SIGNING_KEYS)": lambda: key_set.get(REMOTE_KID),
        "dict.get (reference)": lambda: plain.get(REMOTE_KID),
    }
    out = {}
    for label, fn in cases.items():
        if label != "dict.get (reference)" and fn() is None:
            raise SystemExit(f"{label}: no key")
        ns, spread = ns_per_call(fn, n, rounds)
        out[label] = {"ns": ns, "spread_pct": spread}
    return out


# --- profiling: is a key parsed per request? -------------------------------------------


def _parse_label(file: str, name: str) -> str | None:
    """The key-preparing function a profile entry is, if it is one."""
    for word in ("load_pem_", "load_der_", "load_ssh_", "from_jwk", "key_from_jwk", "load_key_set"):
        if word in name:
            return name.strip("<>").split(" ")[-1].split(".")[-1]
    if name == "prepare_key":
        return "PyJWT prepare_key"
    if name == "__init__" and file.endswith("api_jwk.py"):
        return "PyJWK()"
    if name == "build_settings":
        return "build_settings"
    if name in ("_attempt", "_download") and file.endswith("jwks.py"):
        return f"RemoteJWKS.{name}"
    return None


def parse_calls(subject: Subject, n: int) -> dict[str, float]:
    """Calls per request to functions that parse or prepare keys, over ``n`` protected requests."""
    prof = cProfile.Profile()
    wsgi, req = subject.app.wsgi_app, subject.requests["protected"]
    prof.enable()
    for _ in range(n):
        call_once(wsgi, req)
    prof.disable()
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    counts: dict[str, float] = {}
    for (file, _line, name), (_cc, calls, *_rest) in stats.items():
        label = _parse_label(file, name)
        if label:
            counts[label] = counts.get(label, 0) + calls / n
    return counts


# --- analysis --------------------------------------------------------------------------


@dataclass
class Row:
    case: str
    ours: Subject
    other: Subject
    target: str  # "≤ 0.5" or "info"
    floor: Subject | None = None  # the app whose /floor route verifies this algorithm's token

    @property
    def ratio(self) -> float:
        return self.ours.overhead_us() / self.other.overhead_us()

    @property
    def cpu_ratio(self) -> float:
        return self.ours.overhead_us(cpu=True) / self.other.overhead_us(cpu=True)

    @property
    def ratio_quartiles(self) -> tuple[float, float, float]:
        """Quartiles of the per-round ratios: how steady the ratio is."""
        per_round = [
            o / p if p > 0 else float("nan")
            for o, p in zip(self.ours.overhead_rounds(), self.other.overhead_rounds(), strict=True)
        ]
        q = statistics.quantiles(per_round, n=4)
        return q[0], q[1], q[2]

    @property
    def ratio_spread(self) -> float:
        """The interquartile range of the per-round ratios, as % of their median."""
        q1, q2, q3 = self.ratio_quartiles
        return 100.0 * (q3 - q1) / q2

    @property
    def met(self) -> bool | None:
        return None if self.target == "info" else self.ratio <= TARGET_RATIO

    @property
    def spread(self) -> float:
        return max(spread_pct(s.wall[r]) for s in (self.ours, self.other) for r in ("open", "protected"))

    def as_json(self) -> dict[str, Any]:
        q1, q2, q3 = self.ratio_quartiles
        out = {
            "case": self.case,
            "ours": self.ours.key,
            "other": self.other.key,
            "ours_us": self.ours.median_us("protected"),
            "other_us": self.other.median_us("protected"),
            "ours_open_us": self.ours.median_us("open"),
            "other_open_us": self.other.median_us("open"),
            "ours_overhead_us": self.ours.overhead_us(),
            "other_overhead_us": self.other.overhead_us(),
            "ratio": self.ratio,
            "ratio_q1": q1,
            "ratio_per_round_median": q2,
            "ratio_q3": q3,
            "cpu_ratio": self.cpu_ratio,
            "target": self.target,
            "met": self.met,
            "spread_pct": self.spread,
        }
        if self.floor is not None:
            out["floor"] = self.floor_stats()
        return out

    def floor_stats(self) -> dict[str, float]:
        """Medians of per-round values: the floor's overhead, what is left of each overhead
        without it, and what the target leaves for ours (paired by round, so that the
        machine's changes of speed between rounds cancel)."""
        assert self.floor is not None
        rounds = zip(
            self.floor.overhead_rounds("floor"),
            self.ours.overhead_rounds(),
            self.other.overhead_rounds(),
            strict=True,
        )
        per_round = [
            {
                "floor_overhead_us": f,
                "floor_share_of_other": f / p,
                "ours_over_floor_us": o - f,
                "other_over_floor_us": p - f,
                "ratio_of_remainders": (o - f) / (p - f),
                "allowed_over_floor_us": TARGET_RATIO * p - f,
            }
            for f, o, p in rounds
        ]
        return {name: statistics.median(r[name] for r in per_round) for name in per_round[0]}


def build_rows(part1: dict[str, list[Subject]], part2: list[Subject]) -> list[Row]:
    rows = []
    for alg, (keyset, pem, peer) in part1.items():
        rows.append(Row(f"{alg}: guard JWT_SIGNING_KEYS vs peer PEM", keyset, peer, TARGET, pem))
        rows.append(Row(f"{alg}: guard PEM vs peer PEM", pem, peer, TARGET, pem))
    remote, pem, peer = part2
    rows.append(Row("RS256 + iss/aud: guard JWT_JWKS_URI (cached) vs peer PEM", remote, peer, TARGET))
    rows.append(Row("RS256 + iss/aud: guard PEM vs peer PEM", pem, peer, TARGET))
    rows.append(Row("RS256 + iss/aud: guard JWT_JWKS_URI (cached) vs guard PEM", remote, pem, "info"))
    return rows


def _met(m: bool | None) -> str:
    return "" if m is None else ("✅" if m else "❌")


def tables(
    rows: list[Row],
    micro: dict[str, Any],
    ab: dict[str, Any],
    profile: dict[str, dict[str, float]],
    lookup: Row,
) -> str:
    lines = [
        "| case | guard µs | other µs | guard overhead µs | other overhead µs | ratio | per-round ratio "
        "| target | met | spread | ratio by CPU time |",
        "|---|---:|---:|---:|---:|---:|---|---|:---:|---:|---:|",
    ]
    for r in rows:
        q1, q2, q3 = r.ratio_quartiles
        lines.append(
            f"| {r.case} | {r.ours.median_us('protected'):.1f} | {r.other.median_us('protected'):.1f} "
            f"| {r.ours.overhead_us():.1f} | {r.other.overhead_us():.1f} | {r.ratio:.2f} "
            f"| {q2:.2f} ({q1:.2f}–{q3:.2f}) | {r.target} | {_met(r.met)} | {r.spread:.0f}% "
            f"| {r.cpu_ratio:.2f} |"
        )
    lines += [
        "",
        "Without the signature check: overhead minus the floor (a route verifying the same token "
        "with the standard library and `cryptography`, the public key object made once). The "
        "floor's share of the peer's overhead is what neither library can save; the last column "
        "is what the target leaves for the guard's own work. Each cell is the median of the "
        "per-round values.",
        "",
        "| case | floor overhead µs | floor ÷ peer overhead | guard − floor µs | peer − floor µs "
        f"| ratio of the remainders | guard − floor allowed by ≤ {TARGET_RATIO} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.floor is None:
            continue
        f = r.floor_stats()
        lines.append(
            f"| {r.case} | {f['floor_overhead_us']:.1f} | {f['floor_share_of_other']:.2f} "
            f"| {f['ours_over_floor_us']:.1f} | {f['other_over_floor_us']:.1f} "
            f"| {f['ratio_of_remainders']:.2f} | {f['allowed_over_floor_us']:.1f} |"
        )
    diffs = [
        a - b for a, b in zip(lookup.ours.overhead_rounds(), lookup.other.overhead_rounds(), strict=True)
    ]
    q = statistics.quantiles(diffs, n=4)
    diff_cpu = lookup.ours.overhead_us(cpu=True) - lookup.other.overhead_us(cpu=True)
    lines += [
        "",
        "Cost of the cached JWKS lookup (JWT_JWKS_URI − PEM, same library, same token):",
        "",
        f"- per request: **{statistics.median(diffs):+.1f} µs** (median of the per-round differences; "
        f"quartiles {q[0]:+.1f} to {q[2]:+.1f} µs; {diff_cpu:+.1f} µs from the CPU-time medians). "
        "Requests are too noisy here to resolve a few µs;",
        f"- `JWTState.verify_token` alone, outside a request, {ab['remote_us']:.1f} vs "
        f"{ab['pem_us']:.1f} µs CPU: **{ab['diff_us']:+.2f} µs** (quartiles of the per-round "
        f"differences {ab['diff_q1_us']:+.2f} to {ab['diff_q3_us']:+.2f} µs);",
        "- the lookups themselves, in a loop (loop cost taken out):",
        "",
        "| lookup, cached kid | ns per call | spread |",
        "|---|---:|---:|",
    ]
    for label, m in micro.items():
        lines.append(f"| `{label}` | {m['ns']:.0f} | {m['spread_pct']:.0f}% |")
    lines += [
        "",
        "Key parsing per protected request (cProfile; PEM/DER/JWK loading, PyJWT `prepare_key`, "
        "settings rebuilt, JWKS fetched):",
        "",
        "| app | calls per request |",
        "|---|---|",
    ]
    for key, counts in profile.items():
        shown = ", ".join(f"`{k}` {v:.2f}" for k, v in sorted(counts.items())) or "none"
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds, small batches; print only")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 30; quick 3)")
    ap.add_argument("--n", type=int, help="requests per case per round (default 80; quick 30)")
    ap.add_argument("--out", type=Path, help="results dir (default bench/results; quick: none)")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 30)
    n = args.n or (30 if args.quick else 80)
    out: Path | None = args.out or (None if args.quick else RESULTS)
    started = time.perf_counter()

    materials = {alg: KeyMaterial.generate(alg) for alg in ALGORITHMS}
    remote_material = KeyMaterial.generate("RS256", kid=REMOTE_KID)
    part1 = {alg: part1_subjects(m) for alg, m in materials.items()}
    with JWKSServer(remote_material.public_jwk_set()) as server:
        part2 = part2_subjects(remote_material, server.url)
        subjects = [s for group in part1.values() for s in group] + part2
        for s in subjects:
            s.check()
        print(f"{len(subjects)} apps answer 200 (keys made in {time.perf_counter() - started:.1f}s); "
              f"timing {rounds} rounds × {n} requests")  # fmt: skip
        run_rounds(subjects, rounds, n)
        profile = {s.key: parse_calls(s, max(50, n)) for s in subjects}
        ab = verify_ab(part2[0], part2[1], rounds, 100 if args.quick else 300)
        micro = micro_lookups(part2[0], server, rounds=max(5, rounds), n=20_000 if args.quick else 100_000)
        fetches = server.fetches
    rows = build_rows(part1, part2)
    lookup = rows[-1]
    text = tables(rows, micro, ab, profile, lookup)
    print()
    print(text)
    print(f"\nJWKS fetches by the app (and the micro-benchmark's own client): {fetches}")
    elapsed = time.perf_counter() - started

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        info = machine_info()
        md = [
            "# Benchmark: asymmetric keys and a cached JWK Set, Flask-JWT-Guard vs Flask-JWT-Extended",
            "",
            f"- date: {info['date']}",
            f"- library at: {info['commit']}",
            f"- python: {info['python']}",
            f"- CPU: {info['cpu']}",
            f"- platform: {info['platform']}",
            f"- versions: {info['versions']}",
            f"- method: `bench/keys.py` ({elapsed:.0f} s); every app in one process, called through "
            f"`app.wsgi_app`, token in the Authorization header, `@jwt_required()`; {rounds} interleaved "
            f"rounds × {n} requests per route (the case list forwards, then backwards); the cell is the "
            f"median over rounds. Overhead = protected route − the same app's unprotected route; "
            f"ratio = guard overhead / other overhead (target ≤ {TARGET_RATIO}). 'per-round ratio' = the "
            f"median (quartiles) of the ratios computed round by round, which cancels slow drifts in "
            f"the machine's speed; 'spread' = the largest interquartile range of the four timings "
            f"(both apps, both routes) as % of its median (a large spread with narrow per-round ratios "
            f"means that the machine changed speed between rounds, which the ratios cancel); "
            f"'ratio by CPU time' = the same ratio from "
            f"`time.thread_time_ns` (immune to preemption on this shared machine). Keys: RSA 3072 "
            f"(RS256), P-256 (ES256), Ed25519 (EdDSA), each made by `generate_jwk`; 'PEM' = "
            f"`JWT_ALGORITHM` + `JWT_PRIVATE_KEY`/`JWT_PUBLIC_KEY` of the same key. Part 2: a local "
            f"JWKS server on a loopback port (`Cache-Control: max-age=3600`), an RS256 token with "
            f"`kid`, `iss`, `aud`; the PEM apps get the same public key and iss/aud. JWKS fetches "
            f"during the run: {fetches} (the app's first one, before timing, and the micro-benchmark's "
            f"own client's).",
            "",
            text,
            "",
        ]
        (out / "keys.md").write_text("\n".join(md))
        raw = {
            "info": info,
            "params": {"rounds": rounds, "n": n, "elapsed_s": elapsed},
            "rows": [r.as_json() for r in rows],
            "micro_ns": micro,
            "verify_token_ab": ab,
            "parse_calls_per_request": profile,
            "jwks_fetches": fetches,
            "rounds_ns": {s.key: {"wall": s.wall, "cpu": s.cpu} for s in subjects},
        }
        (out / "keys.json").write_text(json.dumps(raw, indent=1) + "\n")
        print(f"wrote {out / 'keys.md'} and {out / 'keys.json'} ({elapsed:.0f} s)")
    noisy = max(r.ratio_spread for r in rows)
    if noisy > NOISY_SPREAD:
        print(f"per-round ratios spread up to {noisy:.0f}% (> {NOISY_SPREAD}%): a busy machine; re-run")
    missed = [r.case for r in rows if r.met is False]
    parsing = [s.key for s in subjects if s.is_ours and profile[s.key]]
    if missed:
        print(f"targets missed: {'; '.join(missed)}")
    if parsing:
        print(f"keys parsed per request by: {', '.join(parsing)}")
    return 1 if (args.check and (missed or parsing)) else 0


if __name__ == "__main__":
    sys.exit(main())
