"""Per-request cost of revocation: Flask-JWT-Guard's stores vs the peer's Redis ``GET`` recipe.

The header-protected route of ``apps.build_app`` (``GET /protected``, HS256), called
through ``app.wsgi_app`` as in ``run.py``, on six apps in one process:

- guard without a store, and peer without a blocklist loader: the baselines;
- guard with ``JWT_REVOCATION_STORE="memory"``;
- guard with ``JWT_REVOCATION_STORE="redis://..."``: one ``MGET`` per request, of the
  token's, its session's and its identity's keys;
- peer with the documented recipe: a ``token_in_blocklist_loader`` doing
  ``jwt_redis_blocklist.get(jti)`` on a ``redis.StrictRedis`` client;
- guard with the same loader and no store (reference);

plus the bare round trips (redis-py ``GET``, and ``MGET`` of three keys) for reference.
Both Redis apps use one ``redis-server``, started here on a free loopback port from a
temporary directory (nothing saved) and stopped at the end; each store already holds
revocations of other tokens. Rounds are interleaved (the order is reversed every other
round); the added cost of a case is the median over rounds of (case − the same library's
baseline, timed in the same round).

    .venv/bin/python bench/revocation.py            # 15-45 s; rewrites the Revocation part of bench/results/
    .venv/bin/python bench/revocation.py --quick    # a few seconds, prints only
    .venv/bin/python bench/revocation.py --profile  # where the memory store's microseconds go
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.metadata
import json
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import IDENTITY, OURS, PEER, build_app, claim_of, import_lib, make_token  # noqa: E402
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
SECTION = "## Revocation"

# Many short rounds: a case and its baseline are timed a few ms apart, so that their
# difference (a few µs out of ~70) survives other load on the machine. 15-45 s.
ROUNDS = 100  # default interleaved rounds
N = 150  # default requests per case per round
TARGET_MEMORY_ADDED_US = 3.0  # guard + memory store − guard without a store
TARGET_REDIS_RATIO = 1.0  # (guard + Redis store − guard) / (peer + GET recipe − peer)

HEADER = RequestCase("header", "header", "base", "GET", "/protected", ("auth",))
BACKGROUND_REVOKED = 1000  # revocations of other tokens already in each store
START_TIMEOUT = 10.0  # seconds for redis-server to answer PING
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL

SHORT = {"memory": "memory store", "redis_store": "Redis store", "redis_get": "GET in a blocklist loader"}


@dataclass(frozen=True)
class Case:
    side: str  # "ours", "peer", or "redis" (bare client calls)
    key: str  # "none", "memory", "redis_store", "redis_get"; "get", "mget3"
    redis: bool = False

    @property
    def series(self) -> str:
        return f"{self.side}:{self.key}"


#: In the order of one round (reversed every other round).
CASES = (
    Case("ours", "none"),
    Case("peer", "none"),
    Case("ours", "memory"),
    Case("ours", "redis_store", redis=True),
    Case("peer", "redis_get", redis=True),
    Case("ours", "redis_get", redis=True),
    Case("redis", "get", redis=True),
    Case("redis", "mget3", redis=True),
)


# --- redis-server ---------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    version: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


@contextmanager
def redis_server() -> Iterator[RedisServer | None]:
    """A ``redis-server`` on a free 127.0.0.1 port, run from a temporary directory, keeping
    nothing on disk; stopped on exit. ``None`` when redis-server or redis-py is missing."""
    exe = shutil.which("redis-server") or shutil.which("valkey-server")
    try:
        import redis  # noqa: F401
    except ImportError:
        print("redis-py not installed: skipping the Redis cases (pip install -e '.[redis]')")
        yield None
        return
    if exe is None:
        print("redis-server not found: skipping the Redis cases (make system-deps)")
        yield None
        return
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        for _attempt in range(3):  # the free port may be taken before the server binds it
            port = _free_port()
            command = [
                exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", tmp, "--logfile", "redis.log",
            ]  # fmt: skip
            process = subprocess.Popen(command, cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + START_TIMEOUT
            while process.poll() is None and time.monotonic() < deadline and not _answers_ping(port):
                time.sleep(0.02)
            if process.poll() is None and _answers_ping(port):
                break
            _stop(process)
        else:
            log = Path(tmp, "redis.log")
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"redis-server did not start:\n{tail}")
        try:
            yield RedisServer(port, " ".join(version.split()[:3]))
        finally:
            _stop(process)


# --- the apps -------------------------------------------------------------------


def recipe_client(port: int) -> Any:
    """The peer docs' client, ``redis.StrictRedis(host=..., port=..., db=0, decode_responses=True)``
    (on 127.0.0.1 rather than the docs' ``localhost``: the server listens there only)."""
    import redis

    return redis.StrictRedis(host="127.0.0.1", port=port, db=0, decode_responses=True)


def recipe_loader(client: Any) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    """The peer's documented Redis blocklist check, verbatim but for the client."""

    def check_if_token_is_revoked(jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> bool:
        jti = jwt_payload["jti"]
        token_in_redis = client.get(jti)
        return token_in_redis is not None

    return check_if_token_is_revoked


@dataclass
class Bench:
    ours: ModuleType
    peer: ModuleType
    server: RedisServer | None
    apps: dict[str, Flask] = field(default_factory=dict)
    requests: dict[str, PreparedRequest] = field(default_factory=dict)
    calls: dict[str, Callable[[], object]] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)  # series -> recipe client
    rounds: dict[str, list[float]] = field(default_factory=dict)  # wall ns per call
    cpu_rounds: dict[str, list[float]] = field(default_factory=dict)  # thread CPU ns per call

    @property
    def cases(self) -> list[Case]:
        return [c for c in CASES if self.server is not None or not c.redis]

    def lib(self, case: Case) -> ModuleType:
        return self.ours if case.side == "ours" else self.peer

    def build(self) -> None:
        server = self.server
        for case in self.cases:
            if case.side == "redis":
                continue
            lib = self.lib(case)
            if case.key == "none":
                app = build_app(lib)
            elif case.key == "memory":
                app = build_app(lib, config={"JWT_REVOCATION_STORE": "memory"})
            elif case.key == "redis_store":
                assert server is not None
                app = build_app(lib, config={"JWT_REVOCATION_STORE": server.url})
            else:
                assert server is not None
                client = self.clients[case.series] = recipe_client(server.port)
                app = build_app(lib, blocklist=recipe_loader(client))
            self.apps[case.series] = app
            self.requests[case.series] = prepare(HEADER, make_token(lib, app))
        if server is not None:
            bare = self.clients["redis:get"] = recipe_client(server.port)
            jti, tag = str(uuid.uuid4()), uuid.uuid4().hex[:16]
            three = [f"jwt_guard:{{{tag}}}:g", f"jwt_guard:{{{tag}}}:t:{jti}", f"jwt_guard:{{{tag}}}:s:{jti}"]
            self.calls["redis:get"] = lambda: bare.get(jti)
            self.calls["redis:mget3"] = lambda: bare.mget(three)
        self._fill_stores()

    def _fill_stores(self) -> None:
        """Revoke ``BACKGROUND_REVOKED`` tokens of other identities in every store."""
        for series, app in self.apps.items():
            if series in ("ours:memory", "ours:redis_store"):
                with app.app_context():
                    for i in range(BACKGROUND_REVOKED):
                        self.ours.revoke_token(self.ours.create_access_token(identity=f"other-{i}"))
        client = self.clients.get("redis:get")
        if client is not None:
            with client.pipeline(transaction=False) as pipe:
                for _ in range(BACKGROUND_REVOKED):
                    pipe.set(str(uuid.uuid4()), "", ex=3600)
                pipe.execute()

    def verify(self) -> None:
        """Every case answers 200 with the identity, and a revoked token of it gets 401."""
        for series, app in self.apps.items():
            status, body = call_once(app.wsgi_app, self.requests[series])
            if status != "200 OK" or json.loads(body).get("sub") != IDENTITY:
                raise SystemExit(f"[{series}] got {status} {body[:200]!r}; refusing to benchmark it")
            if series.endswith(":none"):
                continue
            lib = self.ours if series.startswith("ours:") else self.peer
            revoked = make_token(lib, app)
            if series in self.clients:
                self.clients[series].set(claim_of(revoked, "jti"), "", ex=3600)
            else:
                with app.app_context():
                    self.ours.revoke_token(revoked)
            status, body = call_once(app.wsgi_app, prepare(HEADER, revoked))
            if not status.startswith("401"):
                raise SystemExit(f"[{series}] a revoked token got {status} {body[:200]!r}: no check")

    def measure(self, case: Case, n: int) -> None:
        series = case.series
        if case.side == "redis":
            wall, cpu = time_calls(self.calls[series], n)
        else:
            wall, cpu = time_requests(self.apps[series].wsgi_app, self.requests[series], n)
        self.rounds.setdefault(series, []).append(wall)
        self.cpu_rounds.setdefault(series, []).append(cpu)

    def run(self, rounds: int, n: int) -> None:
        started = time.perf_counter()
        cases = self.cases
        for case in cases:  # warm-up: connections, caches
            self.measure(case, max(10, n // 10))
        self.rounds.clear()
        self.cpu_rounds.clear()
        gc.collect()
        gc.freeze()  # the apps' objects: each batch's gc.collect() then takes µs, not ms
        try:
            for r in range(rounds):
                for case in cases if r % 2 == 0 else cases[::-1]:
                    self.measure(case, n)
                if (r + 1) % 20 == 0 or r + 1 == rounds:
                    elapsed = time.perf_counter() - started
                    print(f"  revocation round {r + 1}/{rounds} ({elapsed:.0f}s)", flush=True)
        finally:
            gc.unfreeze()

    def close(self) -> None:
        for app in self.apps.values():
            with app.app_context():
                state = app.extensions.get("jwt_guard")
                store = state.store() if state is not None else None
                close = getattr(store, "close", None)
                if close is not None:
                    close()
        for client in self.clients.values():
            client.close()


def time_calls(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """(wall ns, thread CPU ns) per call of ``fn`` over ``n`` calls."""
    gc.collect()
    c0 = time.thread_time_ns()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn()
    elapsed = time.perf_counter_ns() - t0
    cpu = time.thread_time_ns() - c0
    return elapsed / n, cpu / n


# --- analysis -------------------------------------------------------------------


@dataclass
class Added:
    """What a case adds to its library's baseline: medians over rounds of paired differences, µs."""

    wall: float
    q1: float
    q3: float
    cpu: float

    @classmethod
    def of(cls, bench: Bench, series: str, baseline: str) -> Added:
        diffs = [a - b for a, b in zip(bench.rounds[series], bench.rounds[baseline], strict=True)]
        cpu = [a - b for a, b in zip(bench.cpu_rounds[series], bench.cpu_rounds[baseline], strict=True)]
        q1, _, q3 = statistics.quantiles(diffs, n=4) if len(diffs) >= 4 else (min(diffs), 0, max(diffs))
        return cls(statistics.median(diffs) / 1000, q1 / 1000, q3 / 1000, statistics.median(cpu) / 1000)


@dataclass
class Row:
    key: str
    label: str
    ours_us: float | None
    peer_us: float | None
    ours_added: Added | None
    peer_added: Added | None
    ratio: float | None
    target: str
    met: bool | None
    spread: float


@dataclass
class Result:
    rows: list[Row]
    bare_us: dict[str, float]  # "get", "mget3" -> median µs per call
    params: dict[str, int]
    info: dict[str, str]
    rounds_ns: dict[str, list[float]]
    cpu_rounds_ns: dict[str, list[float]]

    @property
    def missed(self) -> list[str]:
        return [r.label for r in self.rows if r.met is False]


def _median_us(bench: Bench, series: str) -> float:
    return statistics.median(bench.rounds[series]) / 1000


def analyse(bench: Bench, params: dict[str, int], info: dict[str, str]) -> Result:
    have = set(bench.rounds)

    def spread(*series: str) -> float:
        return max(spread_pct(bench.rounds[s]) for s in series)

    rows = [
        Row(
            "baseline", "header, no revocation check (baseline)",
            _median_us(bench, "ours:none"), _median_us(bench, "peer:none"),
            None, None, None, "baseline", None, spread("ours:none", "peer:none"),
        ),
    ]  # fmt: skip
    memory = Added.of(bench, "ours:memory", "ours:none")
    rows.append(
        Row(
            "memory", 'guard + `JWT_REVOCATION_STORE="memory"`',
            _median_us(bench, "ours:memory"), None, memory, None, None,
            f"≤ {TARGET_MEMORY_ADDED_US:g} µs added", memory.wall <= TARGET_MEMORY_ADDED_US,
            spread("ours:memory", "ours:none"),
        )
    )  # fmt: skip
    if "ours:redis_store" in have:
        recipe = Added.of(bench, "peer:redis_get", "peer:none")
        for key, series, label, is_target in (
            ("redis_store", "ours:redis_store",
             "guard + Redis store (one MGET: token, session, identity) vs peer + Redis GET recipe", True),
            ("redis_get", "ours:redis_get",
             "guard + the recipe's GET in a `token_in_blocklist_loader` vs peer + recipe (reference)", False),
        ):  # fmt: skip
            ours = Added.of(bench, series, "ours:none")
            ratio = ours.wall / recipe.wall if recipe.wall > 0 else float("nan")
            rows.append(
                Row(
                    key, label, _median_us(bench, series), _median_us(bench, "peer:redis_get"),
                    ours, recipe, ratio,
                    f"≤ {TARGET_REDIS_RATIO:g}" if is_target else "reference",
                    ratio <= TARGET_REDIS_RATIO if is_target else None,
                    spread(series, "ours:none", "peer:redis_get", "peer:none"),
                )
            )  # fmt: skip
    bare = {c.key: _median_us(bench, c.series) for c in bench.cases if c.side == "redis"}
    return Result(rows, bare, params, info, dict(bench.rounds), dict(bench.cpu_rounds))


# --- output ---------------------------------------------------------------------


def _fmt(v: float | None, digits: int = 1) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _iqr(a: Added | None) -> str:
    return "—" if a is None else f"{a.q1:.1f} … {a.q3:.1f}"


def table(result: Result) -> str:
    lines = [
        "| case | guard µs | peer µs | guard added µs | peer added µs | ratio (guard/peer added) | target "
        "| met | spread | added µs, IQR over rounds (guard; peer) | added µs by CPU time (guard; peer) |",
        "|---|---:|---:|---:|---:|---:|---|:---:|---:|---:|---:|",
    ]
    for r in result.rows:
        oa, pa = r.ours_added, r.peer_added
        met = "" if r.met is None else ("✅" if r.met else "❌")
        iqr = _iqr(oa) + (f"; {_iqr(pa)}" if pa else "")
        cpu = _fmt(oa.cpu if oa else None) + (f"; {_fmt(pa.cpu)}" if pa else "")
        lines.append(
            f"| {r.label} | {_fmt(r.ours_us)} | {_fmt(r.peer_us)} | {_fmt(oa.wall if oa else None)} "
            f"| {_fmt(pa.wall if pa else None)} | {_fmt(r.ratio, 2)} | {r.target} | {met} "
            f"| {r.spread:.0f}% | {iqr} | {cpu} |"
        )
    base = result.rows[0].ours_us or float("nan")
    relative = ", ".join(
        f"{SHORT[r.key]} +{100 * r.ours_added.wall / base:.1f}%"
        for r in result.rows[1:]
        if r.ours_added is not None
    )
    lines += ["", f"Added to the guard's baseline request, relative (machine speed cancels out): {relative}."]
    if result.bare_us:
        lines += [
            "",
            f"Bare round trips to the same server (redis-py, no Flask): `GET` "
            f"{result.bare_us['get']:.1f} µs, `MGET` of three keys {result.bare_us['mget3']:.1f} µs.",
        ]
    else:
        lines += ["", "Redis cases skipped: no redis-server (or no redis-py) on this machine."]
    return "\n".join(lines)


def markdown(result: Result, alone: bool = False) -> str:
    """The Revocation section of results.md.

    :param alone: measured by ``revocation.py`` on its own, not in the run of the tables above it.
    """
    p, info = result.params, result.info
    apart = (
        ["- measured on its own (`bench/revocation.py`), not in the run above: compare these rows with "
         "each other, not with the tables above"]
        if alone
        else []
    )  # fmt: skip
    return "\n".join(
        [
            SECTION,
            "",
            *apart,
            f"- date: {info['date']}; library at: {info['commit']}",
            f"- server: {info.get('redis_server', 'none')} on 127.0.0.1 (this machine), "
            f"redis-py {info.get('redis_py', '—')}; {BACKGROUND_REVOKED} other tokens already revoked "
            "in each store",
            f"- method: `bench/revocation.py`; header-protected route (HS256) through `app.wsgi_app`, "
            f"{p['rounds']} interleaved rounds × {p['n_req']} requests per case (order reversed every other "
            "round). µs = median over rounds of the per-request time. Added = median over rounds of "
            "(case − the same library without any revocation check, timed in the same round); its IQR "
            "shows how well the difference is resolved. Spread = the largest IQR, as % of the median, "
            "of the series involved. The peer's recipe is its documented `token_in_blocklist_loader` "
            "doing `jwt_redis_blocklist.get(jti)` with `redis.StrictRedis(..., decode_responses=True)`. "
            "CPU time is this thread's only: for the Redis cases it leaves out the wait for the server, "
            "so it shows the client-side work.",
            "",
            table(result),
            "",
        ]
    )


def as_json(result: Result) -> dict[str, Any]:
    def added(a: Added | None) -> dict[str, float] | None:
        return None if a is None else {"wall_us": a.wall, "q1_us": a.q1, "q3_us": a.q3, "cpu_us": a.cpu}

    return {
        "info": result.info,
        "params": result.params,
        "rows": [
            {
                "key": r.key,
                "label": r.label,
                "ours_us": r.ours_us,
                "peer_us": r.peer_us,
                "ours_added": added(r.ours_added),
                "peer_added": added(r.peer_added),
                "ratio": r.ratio,
                "target": r.target,
                "met": r.met,
                "spread_pct": r.spread,
            }
            for r in result.rows
        ],  # fmt: skip
        "bare_round_trip_us": result.bare_us,
        "rounds_ns": result.rounds_ns,
        "cpu_rounds_ns": result.cpu_rounds_ns,
    }


def update_results(out: Path, result: Result) -> None:
    """Replace the Revocation section of ``out/results.md`` and the ``revocation`` key of results.json."""
    out.mkdir(parents=True, exist_ok=True)
    md_path, json_path = out / "results.md", out / "results.json"
    md = md_path.read_text() if md_path.exists() else "# Benchmark results\n\n"
    cut = md.find(SECTION)
    md = (md[:cut] if cut >= 0 else md.rstrip("\n") + "\n\n") + markdown(result, alone=True)
    md_path.write_text(md)
    raw = json.loads(json_path.read_text()) if json_path.exists() else {}
    raw["revocation"] = as_json(result)
    json_path.write_text(json.dumps(raw, indent=1) + "\n")


# --- entry points ---------------------------------------------------------------


def measure(rounds: int, n: int, ours: str = OURS, peer: str = PEER) -> Result:
    """Start redis-server, build and check the apps, time them, stop the server."""
    with redis_server() as server:
        bench = Bench(import_lib(ours), import_lib(peer), server)
        try:
            bench.build()
            bench.verify()
            print(f"revocation: {len(bench.cases)} cases answer 200 (and 401 once revoked); {rounds} rounds")
            bench.run(rounds, n)
        finally:
            bench.close()
    info = machine_info()
    if server is not None:
        info["redis_server"] = server.version
        info["redis_py"] = importlib.metadata.version("redis")
    return analyse(bench, {"rounds": rounds, "n_req": n}, info)


def profile(n: int) -> None:
    """Where the memory store's added microseconds go: pieces timed alone, then cProfile."""
    import hashlib
    import timeit

    from flask_jwt_guard import revocation as rv

    lib = import_lib(OURS)
    app = build_app(lib, config={"JWT_REVOCATION_STORE": "memory"})
    req = prepare(HEADER, make_token(lib, app))
    with app.app_context():
        state = app.extensions["jwt_guard"]
        settings = state.settings
        token = lib.create_access_token(identity=IDENTITY)
        claims = state.verify_token(token, settings)[1]
        store = state.store(settings)
        prefix = settings.revocation.key_prefix
        tag = rv.identity_tag(IDENTITY)
        keys = [rv.identity_key(prefix, tag), rv.token_key(prefix, tag, claims["jti"])]
        keys.append(rv.session_key(prefix, tag, claims["sid"]))
        pieces: dict[str, Callable[[], object]] = {
            "state.check_revocation (all of it)": lambda: state.check_revocation(claims, settings),
            "  state.store(settings)": lambda: state.store(settings),
            "  identity_tag(sub)": lambda: rv.identity_tag(IDENTITY),
            "    json.dumps(sub, sort_keys=True, separators=..., default=str)": lambda: json.dumps(
                IDENTITY, sort_keys=True, separators=(",", ":"), default=str
            ),
            "    sha256(text).hexdigest()[:16]": lambda: hashlib.sha256(b'"user-1"').hexdigest()[:16],
            "  three key f-strings": lambda: (
                rv.identity_key(prefix, tag),
                rv.token_key(prefix, tag, claims["jti"]),
                rv.session_key(prefix, tag, claims["sid"]),
            ),
            "  MemoryStore.lookup(3 keys)": lambda: store.lookup(keys),
        }
        print("timed alone (best of 7 × 20000 calls, µs per call):")
        for label, fn in pieces.items():
            best = min(timeit.repeat(fn, number=20000, repeat=7)) / 20000 * 1e6
            print(f"  {best:6.2f}  {label}")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        call_once(app.wsgi_app, req)
    prof.disable()
    stats = pstats.Stats(prof)
    print(f"\ncProfile over {n} requests (seconds in all; inflated for small functions):")
    stats.sort_stats("cumulative").print_callees("check_revocation|identity_tag|memory.py.*lookup")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds, small batches; print only")
    ap.add_argument("--rounds", type=int, help=f"interleaved rounds (default {ROUNDS}; quick 5)")
    ap.add_argument("--n", type=int, help=f"requests per case per round (default {N}; quick 100)")
    ap.add_argument("--out", type=Path, help="results dir (default bench/results; quick: none)")
    ap.add_argument("--profile", action="store_true", help="profile the memory-store path instead")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args(argv)
    if args.profile:
        profile(args.n or 5000)
        return 0
    rounds = args.rounds or (5 if args.quick else ROUNDS)
    n = args.n or (100 if args.quick else N)
    result = measure(rounds, n)
    print()
    print(table(result))
    out: Path | None = args.out or (None if args.quick else RESULTS)
    if out is not None:
        update_results(out, result)
        print(f"\nupdated the Revocation section of {out / 'results.md'} and results.json")
    if result.missed:
        print(f"targets missed: {', '.join(result.missed)}")
    return 1 if (args.check and result.missed) else 0


if __name__ == "__main__":
    sys.exit(main())
