"""What the benchmarks share: prepared WSGI requests timed in batches, and the machine's description.

A request is built once (``prepare``) and replayed through ``app.wsgi_app`` with a
fresh ``wsgi.input`` each time; ``time_requests`` reports wall and thread CPU time
per call. ``spread_pct`` is the noise gauge every table shows; ``machine_info`` heads
every results file.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from apps import REPO, csrf_of
from werkzeug.test import EnvironBuilder

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class RequestCase:
    key: str
    label: str
    variant: str  # which app: base / user_lookup / blocklist
    method: str
    path: str
    # "auth", "cookie", "csrf", "query", "json": where the token goes.
    token_in: tuple[str, ...] = ()
    protected: bool = True


@dataclass
class PreparedRequest:
    environ: dict[str, Any]
    body: bytes


def prepare(case: RequestCase, token: str) -> PreparedRequest:
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    json_body: dict[str, str] | None = None
    if "auth" in case.token_in:
        headers["Authorization"] = f"Bearer {token}"
    if "cookie" in case.token_in:
        headers["Cookie"] = f"access_token_cookie={token}"
    if "csrf" in case.token_in:
        headers["X-CSRF-TOKEN"] = csrf_of(token)
    if "query" in case.token_in:
        query["jwt"] = token
    if "json" in case.token_in:
        json_body = {"access_token": token}
    builder = EnvironBuilder(
        path=case.path,
        method=case.method,
        headers=headers,
        query_string=query or None,
        json=json_body,
        base_url="http://localhost/",
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    body = environ["wsgi.input"].read()
    return PreparedRequest(environ, body)


def call_once(wsgi: WsgiApp, req: PreparedRequest) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(s: str, _headers: Any, _exc: Any = None) -> Callable[[bytes], None]:
        status.append(s)
        return lambda _data: None

    env = req.environ.copy()
    env["wsgi.input"] = BytesIO(req.body)
    it = wsgi(env, start_response)
    try:
        body = b"".join(it)
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
    return status[0], body


def time_requests(wsgi: WsgiApp, req: PreparedRequest, n: int) -> tuple[float, float]:
    """(wall ns, thread CPU ns) per call over ``n`` calls; raises unless every response is 200."""
    statuses: list[str] = []
    append = statuses.append
    noop: Callable[[bytes], None] = lambda _data: None  # noqa: E731

    def start_response(s: str, _headers: Any, _exc: Any = None) -> Callable[[bytes], None]:
        append(s)
        return noop

    base = req.environ
    body = req.body
    gc.collect()
    c0 = time.thread_time_ns()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        env = base.copy()
        env["wsgi.input"] = BytesIO(body)
        it = wsgi(env, start_response)
        for _chunk in it:
            pass
        close = getattr(it, "close", None)
        if close is not None:
            close()
    elapsed = time.perf_counter_ns() - t0
    cpu = time.thread_time_ns() - c0
    bad = [s for s in statuses if s != "200 OK"]
    if bad or len(statuses) != n:
        raise RuntimeError(f"{len(bad)} of {n} responses were not 200 (e.g. {bad[:1]})")
    return elapsed / n, cpu / n


def spread_pct(values: list[float]) -> float:
    """Interquartile range of the rounds as % of the median (a noise gauge)."""
    if len(values) < 4:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return 100.0 * (q[2] - q[0]) / statistics.median(values)


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pyv = subprocess.run([sys.executable, "-V"], capture_output=True, text=True, check=False)
    versions = {}
    for dist in ("Flask", "Werkzeug", "PyJWT", "Flask-JWT-Extended", "flask-jwt-guard"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "source tree"
    git = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%h %s", "--", "src"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = git.stdout.strip() or "unknown"
    if dirty.stdout.strip():
        commit += " (+ uncommitted changes in src/)"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "python": (pyv.stdout or pyv.stderr).strip(),
        "cpu": f"{cpu} ({_ncpu()} logical CPUs)",
        "platform": platform.platform(),
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def _ncpu() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
