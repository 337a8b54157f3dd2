"""Plain helpers: a real OpenID provider (``oidc-provider`` under Node.js) for the tests.

:func:`install` installs the npm package pinned in ``tests/servers/oidc/package-lock.json``
with ``npm ci`` into ``~/.cache/flask-jwt-guard-oidc/<version>-<hash>`` (``$XDG_CACHE_HOME``
is honoured), once: later runs find it there. The install is made in a temporary folder
beside it and renamed into place when complete, under a file lock, so an interrupted or
concurrent run never leaves a half-installed cache behind.

:func:`start` runs ``tests/servers/oidc/provider.mjs`` on a loopback port (a free one, or
the port of a provider it replaces: a restart with a new key is a key rotation), waits for
its ready line (bounded), and returns an :class:`OIDCProvider` that gets access tokens with
the client credentials grant. Node.js or npm missing: the test is skipped, saying so.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

OIDC_DIR = Path(__file__).parent / "oidc"
NODE_MAJOR = 20  # oidc-provider 8.x supports Node.js 18 LTS and later; Node 20 is what we run
INSTALL_TIMEOUT = 240.0  # seconds for `npm ci` from an empty npm cache
START_TIMEOUT = 15.0  # seconds for the provider's ready line
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
CLIENT_ID, CLIENT_SECRET = "flask-jwt-guard-tests", "not-a-real-secret-" + "0" * 32
API = "https://api.example.test"
OTHER_API = "https://other.example.test"


def executable(name: str) -> str:
    """The path of ``name`` on ``PATH``; skips the test when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found: the OpenID provider tests need Node.js {NODE_MAJOR}+ and npm")
    return path


def node() -> str:
    """The ``node`` executable, checked to be recent enough (skips the test otherwise)."""
    path = executable("node")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < NODE_MAJOR:
        pytest.skip(
            f"node {version or '(unknown version)'} is too old: the OpenID provider needs {NODE_MAJOR}+"
        )
    return path


def provider_version() -> str:
    """The ``oidc-provider`` version pinned in ``package.json``."""
    manifest = json.loads((OIDC_DIR / "package.json").read_text(encoding="utf-8"))
    return str(manifest["dependencies"]["oidc-provider"])


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flask-jwt-guard-oidc"


def install() -> Path:
    """The folder where the pinned provider is installed (``npm ci`` the first time)."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((OIDC_DIR / name).read_bytes())
    root = cache_root()
    target = root / f"{provider_version()}-{digest.hexdigest()[:12]}"
    if (target / ".complete").exists():
        return target
    npm = executable("npm")  # needed only to install
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be installing the same version
        if (target / ".complete").exists():
            return target
        work = Path(tempfile.mkdtemp(prefix=".install-", dir=root))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copy(OIDC_DIR / name, work / name)
            env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--ignore-scripts", "--loglevel=error"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
            if result.returncode != 0:
                raise RuntimeError(f"npm ci failed ({result.returncode}):\n{result.stderr[-3000:]}")
            (work / ".complete").touch()
            shutil.rmtree(target, ignore_errors=True)  # an incomplete one from an older layout
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


@dataclass
class OIDCProvider:
    """A running provider: its issuer, the ``kid`` of its one signing key, and its process."""

    process: subprocess.Popen[bytes]
    issuer: str
    port: int
    kid: str
    folder: Path
    log: Path

    def token(self, resource: str = API, scope: str = "api:read") -> str:
        """An access token (a JWT for ``resource``) by the client credentials grant."""
        body = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "resource": resource, "scope": scope}
        )
        credentials = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        request = urllib.request.Request(
            f"{self.issuer}/token",
            data=body.encode(),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        try:
            with opener.open(request, timeout=10) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as err:
            raise AssertionError(f"POST /token: {err.code} {err.read()[:500]!r}") from err
        return str(answer["access_token"])

    def stderr(self) -> str:
        """What the provider wrote on stderr so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def start(folder: Path, *, port: int = 0, kid: str = "key-1", token_ttl: int = 300) -> OIDCProvider:
    """Start the provider installed in ``folder``; ``port`` 0 picks a free one.

    :raises RuntimeError: it did not say it was ready within ``START_TIMEOUT`` (it is stopped).
    """
    script = folder / "provider.mjs"
    # Copied next to its node_modules, where Node resolves "oidc-provider" from (os.replace: atomic).
    staged = folder / f".provider-{os.getpid()}.mjs"
    shutil.copy(OIDC_DIR / "provider.mjs", staged)
    os.replace(staged, script)
    log = Path(tempfile.mkstemp(prefix="oidc-provider-", suffix=".log")[1])
    env = {
        **os.environ,
        "OIDC_PORT": str(port),
        "OIDC_KID": kid,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_RESOURCES": f"{API} {OTHER_API}",
        "OIDC_TOKEN_TTL": str(token_ttl),
        "NODE_ENV": "test",
    }
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        with open(log, "ab") as err:
            process = subprocess.Popen(
                [node(), str(script)],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        line = _ready_line(process, deadline)
        if line is not None:
            ready = json.loads(line)
            return OIDCProvider(process, ready["issuer"], int(ready["port"]), ready["kid"], folder, log)
        stop_process(process)
        text = log.read_text(encoding="utf-8", errors="replace")
        # The port of the provider just stopped may take a moment to be free again.
        if port and "EADDRINUSE" in text and time.monotonic() < deadline:
            time.sleep(0.1)
            continue
        raise RuntimeError(f"the OpenID provider did not start within {START_TIMEOUT:g} s:\n{text[-3000:]}")


def _ready_line(process: subprocess.Popen[bytes], deadline: float) -> str | None:
    """The first stdout line, or ``None`` when the process ends or the deadline passes first."""
    assert process.stdout is not None
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                return None
            buffer += chunk
    return buffer.split(b"\n", 1)[0].decode()


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
    if process.stdout is not None:
        process.stdout.close()


def stop(provider: OIDCProvider) -> None:
    """Stop the provider (its port closes) and remove its log."""
    stop_process(provider.process)
    provider.log.unlink(missing_ok=True)


def restart(provider: OIDCProvider, kid: str) -> OIDCProvider:
    """Stop ``provider`` and start it again on the same port (same issuer) with a new key ``kid``."""
    stop(provider)
    return start(provider.folder, port=provider.port, kid=kid)
