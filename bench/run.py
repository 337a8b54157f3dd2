"""Per-request cost of Flask-JWT-Guard vs Flask-JWT-Extended, side by side.

Builds the same app on both libraries in one process (all four token locations,
HS256) and times requests through ``app.wsgi_app(environ, start_response)``,
interleaving the two libraries in rounds (alternating which goes first) and
reporting the median over rounds of the per-call time. Then ``revocation.py`` times
the revocation checks (its own section of the results; ``--no-revocation`` skips it).

    .venv/bin/python bench/run.py            # full run (2-3 min), writes bench/results/
    .venv/bin/python bench/run.py --quick    # a few seconds, prints only
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask, Response

sys.path.insert(0, str(Path(__file__).resolve().parent))

import revocation  # noqa: E402
from apps import IDENTITY, OURS, PEER, build_app, import_lib, make_token  # noqa: E402
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

TARGET_OVERHEAD_RATIO = 0.35  # our overhead / peer's overhead, every protected case
TARGET_FLOOR_MULTIPLE = 2.5  # our header overhead / the stdlib floor's overhead
TARGET_CREATE_RATIO = 0.6  # our create_access_token time / peer's

REQUEST_CASES: list[RequestCase] = [
    RequestCase("open", "unprotected route", "base", "GET", "/open", protected=False),
    RequestCase("floor", "stdlib HS256 floor", "base", "GET", "/floor", ("auth",), False),
    RequestCase("header", "header", "base", "GET", "/protected", ("auth",)),
    RequestCase("cookie", "cookie (GET)", "base", "GET", "/protected", ("cookie",)),
    RequestCase("cookie_csrf", "cookie + CSRF (POST)", "base", "POST", "/protected", ("cookie", "csrf")),
    RequestCase("query", "query string", "base", "GET", "/protected", ("query",)),
    RequestCase("json", "JSON body (POST)", "base", "POST", "/protected", ("json",)),
    RequestCase("user_lookup", "header + user_lookup_loader", "user_lookup", "GET", "/me", ("auth",)),
    RequestCase(
        "blocklist",
        "header + token_in_blocklist_loader",
        "blocklist",
        "GET",
        "/protected",
        ("auth",),
    ),
]
FUNC_CASES = {"create": "create_access_token", "set_cookies": "set_access_cookies"}


# --- one library's side -----------------------------------------------------------


@dataclass
class Side:
    name: str
    lib: ModuleType
    apps: dict[str, Flask]
    token: str
    requests: dict[str, PreparedRequest] = field(default_factory=dict)
    rounds: dict[str, list[float]] = field(default_factory=dict)  # wall ns per call
    cpu_rounds: dict[str, list[float]] = field(default_factory=dict)  # thread CPU ns per call

    @classmethod
    def build(cls, name: str) -> Side:
        lib = import_lib(name)
        apps = {v: build_app(lib, v) for v in ("base", "user_lookup", "blocklist")}
        token = make_token(lib, apps["base"])
        side = cls(name, lib, apps, token)
        for case in REQUEST_CASES:
            side.requests[case.key] = prepare(case, token)
        return side

    def verify(self) -> None:
        """Every case must answer 200 with the expected identity before we time it."""
        for case in REQUEST_CASES:
            wsgi = self.apps[case.variant].wsgi_app
            status, body = call_once(wsgi, self.requests[case.key])
            expected = IDENTITY if case.key != "open" else "anonymous"
            if status != "200 OK" or json.loads(body).get("sub") != expected:
                raise SystemExit(
                    f"[{self.name}] case {case.key!r}: got {status} {body[:200]!r}; "
                    "refusing to benchmark a failing request"
                )
        resp = Response()
        with self.apps["base"].app_context():
            self.lib.create_access_token(identity=IDENTITY)
            self.lib.set_access_cookies(resp, self.token)
        cookies = resp.headers.getlist("Set-Cookie")
        if not any(c.startswith("access_token_cookie=") for c in cookies):
            raise SystemExit(f"[{self.name}] set_access_cookies set no access cookie: {cookies}")

    def measure_request(self, key: str, n: int) -> None:
        case = next(c for c in REQUEST_CASES if c.key == key)
        wsgi = self.apps[case.variant].wsgi_app
        self.record(key, *time_requests(wsgi, self.requests[key], n))

    def record(self, key: str, wall_ns: float, cpu_ns: float) -> None:
        self.rounds.setdefault(key, []).append(wall_ns)
        self.cpu_rounds.setdefault(key, []).append(cpu_ns)

    def measure_create(self, n: int) -> None:
        create = self.lib.create_access_token
        with self.apps["base"].app_context():
            gc.collect()
            c0 = time.thread_time_ns()
            t0 = time.perf_counter_ns()
            for _ in range(n):
                create(identity=IDENTITY)
            elapsed = time.perf_counter_ns() - t0
            cpu = time.thread_time_ns() - c0
        self.record("create", elapsed / n, cpu / n)

    def measure_set_cookies(self, n: int) -> None:
        set_cookies = self.lib.set_access_cookies
        token = self.token
        responses = [Response() for _ in range(n)]
        with self.apps["base"].app_context():
            gc.collect()
            c0 = time.thread_time_ns()
            t0 = time.perf_counter_ns()
            for resp in responses:
                set_cookies(resp, token)
            elapsed = time.perf_counter_ns() - t0
            cpu = time.thread_time_ns() - c0
        self.record("set_cookies", elapsed / n, cpu / n)

    def median_us(self, key: str, cpu: bool = False) -> float:
        return statistics.median((self.cpu_rounds if cpu else self.rounds)[key]) / 1000.0

    def spread_pct(self, key: str) -> float:
        """Interquartile range of the rounds as % of the median (a noise gauge)."""
        return spread_pct(self.rounds[key])


# --- the run ----------------------------------------------------------------------


def run(ours: Side, peer: Side, rounds: int, n_req: int, n_func: int) -> None:
    started = time.perf_counter()
    for side in (ours, peer):  # warm-up: caches, imports, branch predictors
        for case in REQUEST_CASES:
            side.measure_request(case.key, max(10, n_req // 10))
        side.measure_create(max(10, n_func // 10))
        side.measure_set_cookies(max(10, n_func // 10))
        side.rounds.clear()
        side.cpu_rounds.clear()
    for r in range(rounds):
        order = (ours, peer) if r % 2 == 0 else (peer, ours)
        for case in REQUEST_CASES:
            for side in order:
                side.measure_request(case.key, n_req)
        for side in order:
            side.measure_create(n_func)
        for side in order:
            side.measure_set_cookies(n_func)
        print(f"  round {r + 1}/{rounds} done ({time.perf_counter() - started:.0f}s)", flush=True)


@dataclass
class Row:
    key: str
    label: str
    ours_us: float
    peer_us: float
    ours_over: float | None
    peer_over: float | None
    ratio: float | None
    target: str
    met: bool | None
    spread: float
    cpu_ratio: float | None = None  # the same ratio computed from thread CPU time


def _ratios(ours: Side, peer: Side, cpu: bool) -> tuple[dict[str, float], float, float]:
    """Per-case ratio (overhead ratio for requests, time ratio for functions), the floor's
    overhead and our header overhead, from wall (``cpu=False``) or CPU medians."""
    open_o, open_p = ours.median_us("open", cpu), peer.median_us("open", cpu)
    ratios: dict[str, float] = {}
    for case in REQUEST_CASES:
        if case.protected:
            oo = ours.median_us(case.key, cpu) - open_o
            po = peer.median_us(case.key, cpu) - open_p
            ratios[case.key] = oo / po if po > 0 else float("nan")
    for key in FUNC_CASES:
        ratios[key] = ours.median_us(key, cpu) / peer.median_us(key, cpu)
    floor_over = ours.median_us("floor", cpu) - open_o
    header_over = ours.median_us("header", cpu) - open_o
    return ratios, floor_over, header_over


def analyse(ours: Side, peer: Side) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    ratios, floor_over, header_over = _ratios(ours, peer, cpu=False)
    cpu_ratios, cpu_floor, cpu_header = _ratios(ours, peer, cpu=True)
    open_o, open_p = ours.median_us("open"), peer.median_us("open")
    for case in REQUEST_CASES:
        o, p = ours.median_us(case.key), peer.median_us(case.key)
        spread = max(ours.spread_pct(case.key), peer.spread_pct(case.key))
        if case.key == "open":
            rows.append(Row(case.key, case.label, o, p, None, None, None, "baseline", None, spread))
            continue
        oo, po = o - open_o, p - open_p
        if case.protected:
            ratio = ratios[case.key]
            rows.append(
                Row(case.key, case.label, o, p, oo, po, ratio, f"≤ {TARGET_OVERHEAD_RATIO}",
                    ratio <= TARGET_OVERHEAD_RATIO, spread, cpu_ratios[case.key])
            )  # fmt: skip
        else:
            rows.append(Row(case.key, case.label, o, p, oo, po, None, "reference", None, spread))
    for key, label in FUNC_CASES.items():
        o, p = ours.median_us(key), peer.median_us(key)
        spread = max(ours.spread_pct(key), peer.spread_pct(key))
        ratio = ratios[key]
        if key == "create":
            target, met = f"≤ {TARGET_CREATE_RATIO}", ratio <= TARGET_CREATE_RATIO
        else:
            target, met = "info", None
        rows.append(Row(key, label, o, p, None, None, ratio, target, met, spread, cpu_ratios[key]))
    floor_multiple = header_over / floor_over if floor_over > 0 else float("nan")
    summary = {
        "floor_overhead_us": floor_over,
        "header_overhead_us": header_over,
        "floor_multiple": floor_multiple,
        "floor_multiple_met": floor_multiple <= TARGET_FLOOR_MULTIPLE,
        "cpu_floor_multiple": cpu_header / cpu_floor if cpu_floor > 0 else float("nan"),
    }
    return rows, summary


def _fmt(v: float | None, digits: int = 1) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _met(m: bool | None) -> str:
    return "" if m is None else ("✅" if m else "❌")


def table(rows: list[Row], summary: dict[str, Any], ours: str, peer: str) -> str:
    lines = [
        f"| case | {ours} µs | {peer} µs | {ours} overhead µs | {peer} overhead µs "
        "| ratio (ours/peer) | target | met | spread | ratio by CPU time |",
        "|---|---:|---:|---:|---:|---:|---|:---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {_fmt(r.ours_us)} | {_fmt(r.peer_us)} | {_fmt(r.ours_over)} "
            f"| {_fmt(r.peer_over)} | {_fmt(r.ratio, 2)} | {r.target} | {_met(r.met)} "
            f"| {r.spread:.0f}% | {_fmt(r.cpu_ratio, 2)} |"
        )
    fm = summary["floor_multiple"]
    lines += [
        "",
        f"Header-token overhead as a multiple of the stdlib floor's overhead: "
        f"**{fm:.2f}×** ({summary['header_overhead_us']:.1f} µs / "
        f"{summary['floor_overhead_us']:.1f} µs; target ≤ {TARGET_FLOOR_MULTIPLE}) "
        f"{_met(summary['floor_multiple_met'])} (by CPU time: "
        f"{summary['cpu_floor_multiple']:.2f}×)",
    ]
    return "\n".join(lines)


def chart(rows: list[Row], summary: dict[str, Any], ours: str, peer: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    req = [r for r in rows if r.ours_over is not None and r.key != "floor"]
    funcs = [r for r in rows if r.key in FUNC_CASES]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 6.5), gridspec_kw={"width_ratios": [3, 1.2]})
    labels = [r.label for r in req]
    ys = list(range(len(req)))
    h = 0.38
    ax1.barh([y - h / 2 for y in ys], [r.ours_over or 0 for r in req], h, label=ours, color="#2a9d8f")
    ax1.barh([y + h / 2 for y in ys], [r.peer_over or 0 for r in req], h, label=peer, color="#e76f51")
    floor = summary["floor_overhead_us"]
    ax1.axvline(floor, color="#264653", ls="--", lw=1.2, label=f"stdlib floor ({floor:.0f} µs)")
    ax1.axvline(
        floor * TARGET_FLOOR_MULTIPLE, color="#264653", ls=":", lw=1.2,
        label=f"{TARGET_FLOOR_MULTIPLE}× floor (header target)",
    )  # fmt: skip
    ax1.set_yticks(ys, labels)
    ax1.invert_yaxis()
    ax1.set_xlabel("overhead over the unprotected route, µs per request (median)")
    ax1.set_title("Per-request overhead through app.wsgi_app")
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)
    for y, r in zip(ys, req, strict=True):
        if r.ratio is not None:
            ax1.text((r.ours_over or 0) + 2, y - h / 2, f"{r.ratio:.2f}× peer", va="center", fontsize=8)
    xs = list(range(len(funcs)))
    ax2.bar([x - h / 2 for x in xs], [r.ours_us for r in funcs], h, label=ours, color="#2a9d8f")
    ax2.bar([x + h / 2 for x in xs], [r.peer_us for r in funcs], h, label=peer, color="#e76f51")
    ax2.set_xticks(xs, [r.label for r in funcs], fontsize=8)
    ax2.set_ylabel("µs per call (median)")
    ax2.set_title("Token creation / cookies")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_results(
    out: Path,
    rows: list[Row],
    summary: dict[str, Any],
    ours: Side,
    peer: Side,
    params: dict[str, int],
    revoked: revocation.Result | None,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    png = out / "overhead.png"
    chart(rows, summary, ours.name, peer.name, png)
    md = [
        "# Benchmark: per-request cost, Flask-JWT-Guard vs Flask-JWT-Extended",
        "",
        f"- date: {info['date']}",
        f"- library at: {info['commit']}",
        f"- python: {info['python']}",
        f"- CPU: {info['cpu']}",
        f"- platform: {info['platform']}",
        f"- versions: {info['versions']}",
        f"- method: `bench/run.py`; same app on both libraries (token locations "
        f"headers, cookies, query_string, json; HS256), called through `app.wsgi_app`; "
        f"{params['rounds']} interleaved rounds × {params['n_req']} requests per case "
        f"({params['n_func']} calls for the function cases), alternating which library "
        f"goes first; the cell is the median over rounds of the per-call time. Overhead = "
        f"case − the same library's unprotected route. Spread = the larger interquartile "
        f"range of the two libraries' rounds, as % of the median. 'Ratio by CPU time' is the "
        f"same ratio from `time.thread_time_ns` (immune to preemption by other processes): "
        f"when it agrees with the wall-clock ratio, machine load did not skew the result.",
        "",
        table(rows, summary, ours.name, peer.name),
        "",
        f"![overhead chart]({png.name})",
        "",
    ]
    if revoked is not None:
        md.append(revocation.markdown(revoked))
    (out / "results.md").write_text("\n".join(md))
    raw = {
        "info": info,
        "params": params,
        "summary": summary,
        "rounds_ns": {ours.name: ours.rounds, f"peer:{peer.name}": peer.rounds},
    }
    if revoked is not None:
        raw["revocation"] = revocation.as_json(revoked)
    (out / "results.json").write_text(json.dumps(raw, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds, small batches; print only")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 25; quick 5)")
    ap.add_argument("--n", type=int, help="requests per case per round (default 500; quick 100)")
    ap.add_argument("--ours", default=OURS, help=f"module under test (default {OURS})")
    ap.add_argument("--peer", default=PEER, help=f"module to compare with (default {PEER})")
    ap.add_argument("--out", type=Path, help="results dir (default bench/results; quick: none)")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--no-revocation", action="store_true", help="skip the revocation cases")
    args = ap.parse_args(argv)

    rounds = args.rounds or (5 if args.quick else 25)
    n_req = args.n or (100 if args.quick else 500)
    n_func = n_req * 3
    out: Path | None = args.out or (None if args.quick else RESULTS)

    ours = Side.build(args.ours)
    peer = Side.build(args.peer)
    ours.verify()
    peer.verify()
    print(f"ours={ours.name} peer={peer.name}: all cases answer 200; timing {rounds} rounds")
    run(ours, peer, rounds, n_req, n_func)
    rows, summary = analyse(ours, peer)
    text = table(rows, summary, ours.name, peer.name)
    print()
    print(text)
    revoked = None
    if not args.no_revocation:
        print()
        rev_rounds = args.rounds or (5 if args.quick else revocation.ROUNDS)
        rev_n = args.n or (100 if args.quick else revocation.N)
        revoked = revocation.measure(rev_rounds, rev_n, args.ours, args.peer)
        print()
        print(revocation.table(revoked))
    if out is not None:
        params = {"rounds": rounds, "n_req": n_req, "n_func": n_func}
        write_results(out, rows, summary, ours, peer, params, revoked)
        print(f"\nwrote {out / 'results.md'} and {out / 'overhead.png'}")
    missed = [r.label for r in rows if r.met is False]
    if not summary["floor_multiple_met"]:
        missed.append("header vs floor")
    if revoked is not None:
        missed += revoked.missed
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
