"""Throughput under gunicorn: Flask-JWT-Guard vs Flask-JWT-Extended, side by side.

Serves ``throughput_app:app`` on each library with gunicorn (sync workers, 2 by
default) on free 127.0.0.1 ports and loads one server at a time with ``wrk``
(bounded: threads, connections and duration are fixed) on the unprotected route
and on the header-protected route. Repetitions alternate which library goes
first; the reported figure is the median requests/s.

    .venv/bin/python bench/throughput.py            # writes bench/results/throughput.md
    .venv/bin/python bench/throughput.py --quick    # one short repetition, prints only
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from apps import OURS, PEER, build_app, import_lib, make_token  # noqa: E402
from run import machine_info  # noqa: E402

RESULTS = HERE / "results"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def http_status(url: str, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as e:
        return e.code


class Server:
    """A gunicorn master (+ workers) in its own process group; always stopped."""

    def __init__(self, lib: str, workers: int) -> None:
        self.lib = lib
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"gunicorn-{lib}-", suffix=".log", delete=False
        )
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [
            str(gunicorn) if gunicorn.exists() else "gunicorn",
            "--workers", str(workers),
            "--worker-class", "sync",
            "--bind", f"{HOST}:{self.port}",
            "--chdir", str(HERE),
            "--log-level", "warning",
            "--graceful-timeout", "3",
            "throughput_app:app",
        ]  # fmt: skip
        env = dict(os.environ, BENCH_LIB=lib)
        self.proc = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.url = f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn ({self.lib}) exited:\n{self.logtext()}")
            try:
                if http_status(self.url + "/open") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn ({self.lib}) not ready in {timeout}s:\n{self.logtext()}")

    def logtext(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM the master (it stops its workers), then make sure the group is gone."""
        pgid = self.proc.pid  # start_new_session: the master leads its own group
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        for _ in range(50):  # workers left behind by a dead master: same group
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                break
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    errors: str


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(url: str, threads: int, conns: int, seconds: float, headers: dict[str, str]) -> WrkResult:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds:g}s", "--timeout", "5s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True)
    text = out.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if rps is None:
        raise RuntimeError(f"could not parse wrk output:\n{text}\n{out.stderr}")
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        errors=errors.group(0) if errors else "",
    )


ROUTES = {"unprotected": "/open", "header-protected": "/protected"}


def measure(
    libs: list[str], reps: int, workers: int, threads: int, conns: int, seconds: float
) -> dict[tuple[int, str], list[WrkResult]]:
    """Results keyed by (index into ``libs``, route name).

    One server per library, both up for the whole run (an idle sync worker costs
    nothing); each repetition loads route by route, library by library, alternating
    which library goes first, so slow drifts in machine load hit both alike.
    """
    tokens = {}
    for lib in libs:
        mod = import_lib(lib)
        tokens[lib] = make_token(mod, build_app(mod))
    results: dict[tuple[int, str], list[WrkResult]] = {}
    servers: list[Server] = []
    try:
        for lib in libs:
            servers.append(Server(lib, workers))
        for idx, server in enumerate(servers):
            server.wait_ready()
            auth = {"Authorization": f"Bearer {tokens[libs[idx]]}"}
            status = http_status(server.url + "/protected", auth)
            if status != 200:
                raise RuntimeError(f"{libs[idx]}: /protected answered {status}, not 200")
            for path in ROUTES.values():  # warm-up
                run_wrk(server.url + path, threads, conns, 1, auth)
        for rep in range(reps):
            order = list(enumerate(servers))
            if rep % 2:
                order.reverse()
            for name, path in ROUTES.items():
                for idx, server in order:
                    lib = libs[idx]
                    hdrs = {"Authorization": f"Bearer {tokens[lib]}"} if path == "/protected" else {}
                    res = run_wrk(server.url + path, threads, conns, seconds, hdrs)
                    if res.non2xx:
                        raise RuntimeError(f"{lib} {path}: {res.non2xx} non-2xx responses")
                    results.setdefault((idx, name), []).append(res)
                    print(
                        f"  rep {rep + 1}/{reps} {lib:20s} {name:17s} {res.rps:8.0f} req/s "
                        f"p50 {res.p50_ms:.2f} ms p99 {res.p99_ms:.2f} ms {res.errors}",
                        flush=True,
                    )
    finally:
        for server in servers:
            server.stop()
    return results


def report(results: dict[tuple[int, str], list[WrkResult]], ours: str, peer: str, params: str) -> str:
    def med(side: int, route: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in results[(side, route)])

    lines = [
        f"| route | {ours} req/s | {peer} req/s | ours/peer | {ours} p50 / p99 ms | {peer} p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route in ROUTES:
        o, p = med(0, route, "rps"), med(1, route, "rps")
        lines.append(
            f"| {route} (`{ROUTES[route]}`) | {o:.0f} | {p:.0f} | {o / p:.2f} "
            f"| {med(0, route, 'p50_ms'):.2f} / {med(0, route, 'p99_ms'):.2f} "
            f"| {med(1, route, 'p50_ms'):.2f} / {med(1, route, 'p99_ms'):.2f} |"
        )
    lines.append("")
    for side, lib in enumerate((ours, peer)):
        u, h = med(side, "unprotected", "rps"), med(side, "header-protected", "rps")
        lines.append(f"- {lib}: the protected route serves {100 * h / u:.0f}% of the unprotected rate")
    lines += ["", params]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one 2 s repetition; print only")
    ap.add_argument("--reps", type=int, help="repetitions per library (default 5)")
    ap.add_argument("--duration", type=float, help="wrk seconds per run (default 3)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--ours", default=OURS)
    ap.add_argument("--peer", default=PEER)
    ap.add_argument("--out", type=Path, help="results dir (default bench/results; quick: none)")
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    reps = args.reps or (1 if args.quick else 5)
    seconds = args.duration or (2 if args.quick else 3)
    out: Path | None = args.out or (None if args.quick else RESULTS)

    load0 = f"{os.getloadavg()[0]:.2f}"
    results = measure([args.ours, args.peer], reps, args.workers, args.threads, args.connections, seconds)
    params = (
        f"gunicorn {args.workers} sync workers on {HOST}; `wrk -t{args.threads} "
        f"-c{args.connections} -d{seconds:g}s`; median of {reps} repetitions alternating which "
        f"library goes first; every response checked 2xx; load average before/after "
        f"{load0} / {os.getloadavg()[0]:.2f}. Note: load generator and server "
        f"share the machine's CPUs, so absolute numbers understate a dedicated server; the "
        f"ratio is the comparison."
    )
    text = report(results, args.ours, args.peer, params)
    print()
    print(text)
    if out is not None:
        info = machine_info()
        out.mkdir(parents=True, exist_ok=True)
        md = [
            "# Throughput under gunicorn: Flask-JWT-Guard vs Flask-JWT-Extended",
            "",
            f"- date: {info['date']}",
            f"- library at: {info['commit']}",
            f"- python: {info['python']}",
            f"- CPU: {info['cpu']}",
            f"- versions: {info['versions']}",
            "- command: `.venv/bin/python bench/throughput.py`",
            "",
            text,
            "",
        ]
        (out / "throughput.md").write_text("\n".join(md))
        print(f"\nwrote {out / 'throughput.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
