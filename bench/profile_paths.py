"""Profile the protected request paths of one JWT library through ``app.wsgi_app``.

Runs each path many times under cProfile (deterministic: exact call counts,
inflated cost for tiny functions) and under pyinstrument (sampling: closer to
true proportions), then writes the top functions by cumulative and by self time
— restricted to the library and PyJWT, and overall — as per-request µs into
``bench/results/profile_data.md``. The human-written analysis lives in
``bench/results/profile.md``.

    .venv/bin/python bench/profile_paths.py                  # flask_jwt_guard
    .venv/bin/python bench/profile_paths.py --lib flask_jwt_extended --out /tmp/p.md
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import OURS, build_app, import_lib, make_token  # noqa: E402
from harness import PreparedRequest, call_once, prepare, time_requests  # noqa: E402
from run import REQUEST_CASES  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PATHS = ("header", "cookie", "cookie_csrf", "query", "json")

StatKey = tuple[str, int, str]


def short(key: StatKey) -> str:
    filename, line, func = key
    if filename == "~":
        return func  # builtins: "<method 'encode' of 'str' objects>"
    parts = Path(filename).parts
    for anchor in ("site-packages", "src", "lib"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor) :]
            break
    return f"{'/'.join(parts)}:{line}({func})"


def in_scope(key: StatKey, lib: str) -> bool:
    filename = key[0].replace("\\", "/")
    return f"/{lib}/" in filename or "/jwt/" in filename


def top_table(
    stats: dict[StatKey, Any], n_req: int, sort: str, limit: int, keep: Callable[[StatKey], bool]
) -> list[str]:
    idx = 3 if sort == "cumulative" else 2
    rows = sorted(((k, v) for k, v in stats.items() if keep(k)), key=lambda kv: -kv[1][idx])
    out = [
        "| function | calls/request | self µs/request | cumulative µs/request |",
        "|---|---:|---:|---:|",
    ]
    for key, (_cc, nc, tt, ct, _callers) in rows[:limit]:
        out.append(f"| `{short(key)}` | {nc / n_req:.1f} | {tt / n_req * 1e6:.2f} | {ct / n_req * 1e6:.2f} |")
    return out


def drive(wsgi: Any, req: PreparedRequest, n: int) -> None:
    for _ in range(n):
        call_once(wsgi, req)


def profile_path(lib_name: str, key: str, n: int, limit: int) -> list[str]:
    lib = import_lib(lib_name)
    case = next(c for c in REQUEST_CASES if c.key == key)
    app = build_app(lib, case.variant)
    req = prepare(case, make_token(lib, app))
    status, body = call_once(app.wsgi_app, req)
    if status != "200 OK":
        raise SystemExit(f"{key}: {status} {body[:200]!r}")
    open_req = prepare(REQUEST_CASES[0], "")
    plain, base = [], []
    for _ in range(5):  # thread CPU time, interleaved: robust to other load on the machine
        plain.append(time_requests(app.wsgi_app, req, n // 5)[1] / 1000)
        base.append(time_requests(app.wsgi_app, open_req, n // 5)[1] / 1000)
    plain_us, open_us = statistics.median(plain), statistics.median(base)

    prof = cProfile.Profile()
    prof.enable()
    drive(app.wsgi_app, req, n)
    prof.disable()
    stats: dict[StatKey, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]

    out = [
        f"## {case.label}: `{case.method} {case.path}`",
        "",
        f"Unprofiled (thread CPU time, median of 5 batches): {plain_us:.1f} µs/request; "
        f"unprotected route {open_us:.1f} µs "
        f"(overhead {plain_us - open_us:.1f} µs). Profiled over {n} requests.",
        "",
        f"### {lib_name} + PyJWT, by cumulative time",
        "",
        *top_table(stats, n, "cumulative", limit, lambda k: in_scope(k, lib_name)),
        "",
        f"### {lib_name} + PyJWT, by self time",
        "",
        *top_table(stats, n, "self", limit, lambda k: in_scope(k, lib_name)),
        "",
        "### everything, by self time",
        "",
        *top_table(stats, n, "self", limit, lambda k: True),
        "",
    ]
    try:
        from pyinstrument import Profiler
    except ImportError:
        return out
    sampler = Profiler(interval=0.0001)
    sampler.start()
    drive(app.wsgi_app, req, n * 3)
    sampler.stop()
    opts = {"show_regex": rf".*({lib_name}|/jwt/|/json/|base64|hmac).*", "filter_threshold": 0.01}
    tree = sampler.output_text(unicode=False, color=False, processor_options=opts)
    flat = sampler.output_text(unicode=False, color=False, flat=True, processor_options=opts)
    flat_top = "\n".join(flat.strip().splitlines()[: limit + 6])
    out += [
        f"### pyinstrument over {n * 3} requests (sampling; time in seconds)",
        "",
        "```",
        tree.strip(),
        "```",
        "",
        "Flat, by self time:",
        "",
        "```",
        flat_top,
        "```",
        "",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--lib", default=OURS)
    ap.add_argument("--n", type=int, default=3000, help="requests per path")
    ap.add_argument("--limit", type=int, default=20, help="rows per table")
    ap.add_argument("--paths", nargs="*", default=list(PATHS), choices=[c.key for c in REQUEST_CASES])
    ap.add_argument("--out", type=Path, default=RESULTS / "profile_data.md")
    args = ap.parse_args(argv)
    md = [
        f"# Profile data: {args.lib} (generated by `bench/profile_paths.py`)",
        "",
        "cProfile figures are per request and inflated for small functions "
        "(profiling overhead per call); use them for call counts and relative weight. "
        "The pyinstrument trees are sampled and closer to real proportions.",
        "",
    ]
    for key in args.paths:
        print(f"profiling {key} ...", flush=True)
        md += profile_path(args.lib, key, args.n, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(md))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
