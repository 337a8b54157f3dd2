"""Load and faults: gunicorn (2 workers x threads) under a mix of valid,
expired, forged and revoked tokens in all four locations.

Asserts zero 5xx, every bad token refused with its documented status, every
valid token accepted as its own identity, revocation seen by both workers (also
for tokens revoked while the server runs), and flat worker memory.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.helpers import UNDER_TEST

from .forge import csrf_of, hs_sign, unverified_payload

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]  # for ``tests.helpers``
# The server imports the library from where this process did, whatever sys.path says.
LIB_PATH = Path(UNDER_TEST.__file__).resolve().parents[1]
SECRET = "load-test-secret-" + "z" * 47
WARMUP, MAIN = 500, 3000
RSS_GROWTH_LIMIT_KB = 12 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry))
    return kids


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def _request(port: int, location: str, token: str) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers: dict[str, str] = {"Connection": "close"}
        body = None
        method, path = "GET", "/protected"
        if location == "headers":
            headers["Authorization"] = f"Bearer {token}"
        elif location == "cookies":
            method = "POST"
            headers["Cookie"] = f"access_token_cookie={token}"
            headers["X-CSRF-TOKEN"] = csrf_of(token)
        elif location == "query_string":
            path += "?jwt=" + quote(token, safe="")
        else:
            method = "POST"
            body = json.dumps({"access_token": token})
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = {"raw": data[:200].decode("latin-1")}
        return resp.status, parsed
    finally:
        conn.close()


@pytest.fixture()
def server(tmp_path: Path) -> Any:
    revoked_file = tmp_path / "revoked.txt"
    revoked_file.write_text("")
    port = _free_port()
    env = {
        **os.environ,
        "LOAD_JWT_SECRET": SECRET,
        "LOAD_REVOKED_FILE": str(revoked_file),
        "JWT_TEST_IMPL": UNDER_TEST.__name__,
        "PYTHONPATH": os.pathsep.join(
            [str(LIB_PATH), str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")]
        ),
    }
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    cmd = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "load_app:create_app()"]
    proc = subprocess.Popen(cmd, cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield proc, port, revoked_file, tmp_path / "gunicorn.log"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def _mint() -> dict[str, list[tuple[str, str]]]:
    """(token, identity) pairs per kind, minted with the library itself."""
    from .load_app import create_app

    app = create_app(SECRET, "/nonexistent/revoked.txt")
    lib = UNDER_TEST
    kinds: dict[str, list[tuple[str, str]]] = {k: [] for k in ("valid", "expired", "forged")}
    with app.app_context():
        for i in range(24):
            kinds["valid"].append((lib.create_access_token(identity=f"user{i}"), f"user{i}"))
        for i in range(8):
            tok = lib.create_access_token(identity=f"old{i}", expires_delta=timedelta(seconds=-90))
            kinds["expired"].append((tok, f"old{i}"))
        for i in range(8):
            tok = lib.create_access_token(identity=f"forged{i}")
            claims = unverified_payload(tok)
            claims["sub"] = "admin"
            forged = [
                tok[:-6] + ("AAAAAA" if not tok.endswith("AAAAAA") else "BBBBBB"),
                hs_sign({"alg": "HS256", "typ": "JWT"}, claims, b"guessed-secret"),
                hs_sign({"alg": "none", "typ": "JWT"}, claims, b"").rsplit(".", 1)[0] + ".",
                tok.split(".")[0]
                + "."
                + hs_sign({"alg": "HS256"}, claims, b"x").split(".")[1]
                + "."
                + tok.split(".")[2],
            ][i % 4]
            kinds["forged"].append((forged, "admin"))
    return kinds


EXPECTED = {"valid": 200, "expired": 401, "forged": 422, "revoked": 401}
LOCATIONS = ("headers", "cookies", "query_string", "json")


def test_mixed_traffic_under_gunicorn(server: Any) -> None:
    proc, port, revoked_file, log_path = server
    kinds = _mint()
    # 8 tokens revoked before start, 4 more revoked while the server runs.
    valid = kinds["valid"]
    kinds["revoked"], late, kinds["valid"] = valid[:8], valid[8:12], valid[12:]
    revoked_file.write_text("".join(unverified_payload(t)["jti"] + "\n" for t, _ in valid[:8]))
    rng = random.Random(20240607)

    def plan(n: int, pool: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str, str]]:
        names = list(pool)
        out = []
        for _ in range(n):
            kind = rng.choice(names)
            token, identity = rng.choice(pool[kind])
            out.append((kind, rng.choice(LOCATIONS), token, identity))
        return out

    def run(requests: list[tuple[str, str, str, str]]) -> list[str]:
        def one(item: tuple[str, str, str, str]) -> str | None:
            kind, location, token, identity = item
            try:
                status, body = _request(port, location, token)
            except OSError as exc:
                return f"{kind}/{location}: connection error {exc!r}"
            if status >= 500:
                return f"{kind}/{location}: {status} {body}"
            if status != EXPECTED[kind]:
                return f"{kind}/{location}: expected {EXPECTED[kind]}, got {status} {body}"
            if status == 200 and body.get("identity") != identity:
                return f"{kind}/{location}: identity {body.get('identity')!r} != {identity!r}"
            if status != 200 and token in json.dumps(body):
                return f"{kind}/{location}: token echoed"
            counts[kind, status] += 1
            return None

        with ThreadPoolExecutor(max_workers=16) as pool:
            return [r for r in pool.map(one, requests) if r]

    counts: Counter[tuple[str, int]] = Counter()
    workers = _children(proc.pid)
    assert len(workers) == 2, f"expected 2 gunicorn workers, found {workers}"

    warm_pool = {**kinds, "valid": kinds["valid"] + late}
    problems = run(plan(WARMUP, warm_pool))
    assert not problems, problems[:10]
    rss_before = {pid: _rss_kb(pid) for pid in workers}

    # Revoke more tokens while the server is running (atomic replace).
    tmp = revoked_file.with_suffix(".new")
    tmp.write_text(revoked_file.read_text() + "".join(unverified_payload(t)["jti"] + "\n" for t, _ in late))
    os.replace(tmp, revoked_file)
    kinds["revoked"] = kinds["revoked"] + late

    started = time.monotonic()
    problems = run(plan(MAIN, kinds))
    elapsed = time.monotonic() - started
    rss_after = {pid: _rss_kb(pid) for pid in workers}

    assert proc.poll() is None, "gunicorn died"
    assert _children(proc.pid) == workers or set(_children(proc.pid)) == set(workers), (
        "a worker was restarted (crash or timeout)"
    )
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert not problems, f"{len(problems)} bad responses, e.g. {problems[:10]}"
    total = sum(counts.values())
    assert total == WARMUP + MAIN
    for kind in EXPECTED:
        assert counts[kind, EXPECTED[kind]] > 0, f"no {kind} requests were sent"
    growth = {pid: rss_after[pid] - rss_before[pid] for pid in workers}
    print(
        f"\nload: {total} requests, main phase {MAIN} in {elapsed:.2f}s "
        f"({MAIN / elapsed:.0f} req/s); by kind/status {dict(counts)}; "
        f"RSS kB before {rss_before} after {rss_after} growth {growth}"
    )
    for pid, delta in growth.items():
        assert delta < RSS_GROWTH_LIMIT_KB, f"worker {pid} grew by {delta} kB"
