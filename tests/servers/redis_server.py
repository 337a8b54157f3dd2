"""Plain helpers: real ``redis-server`` processes (one server, or a 3-node cluster) for the tests.

Each server runs from its own temporary folder on a free loopback port, keeps
nothing on disk (``--save "" --appendonly no``) and logs to ``redis.log`` there.
Every wait is bounded, and a server that fails to come up is stopped before the
error is raised. ``valkey-server``/``valkey-cli`` serve when the Redis ones are absent.
"""

from __future__ import annotations

import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

START_TIMEOUT = 10.0  # seconds for a server to answer PING
CLUSTER_TIMEOUT = 30.0  # seconds for `redis-cli --cluster create` and for every node to say cluster_state:ok
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL


def executable(*names: str) -> str:
    """The path of the first of ``names`` on ``PATH``; skips the test when there is none."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"{' or '.join(names)} not found: install the redis-server Debian package (make system-deps)")


def free_port(cluster: bool = False) -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    :param cluster: also leave port + 10000 free (the cluster bus), with both below 65536.
    """
    if not cluster:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port
    for _ in range(100):
        port = random.randrange(20000, 45000)
        if bindable(port) and bindable(port + 10000):
            return port
    raise RuntimeError("no free pair of ports for a cluster node")


def bindable(port: int) -> bool:
    """Whether ``port`` on 127.0.0.1 can be bound now."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def client(port: int, timeout: float = 1.0) -> redis.Redis:
    """A plain client for one server, without retries (close it, or use it in ``with``)."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


@dataclass
class RedisServer:
    """A ``redis-server`` process we started, and how to start it again."""

    port: int
    directory: Path
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log_tail(self, lines: int = 20) -> str:
        log = self.directory / "redis.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def launch(server: RedisServer) -> None:
    """Start ``server``'s process on its port and wait until it answers PING.

    :raises RuntimeError: it exited or did not answer within ``START_TIMEOUT`` (it is stopped first).
    """
    command = [
        executable("redis-server", "valkey-server"),
        "--port", str(server.port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(server.directory),
        "--logfile", "redis.log",
        *server.args,
    ]  # fmt: skip
    server.process = subprocess.Popen(
        command, cwd=server.directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + START_TIMEOUT
    with client(server.port, timeout=0.5) as probe:
        while True:
            try:
                if probe.ping():
                    return
            except redis.RedisError:
                pass
            if server.process.poll() is not None or time.monotonic() > deadline:
                stop(server)
                raise RuntimeError(f"redis-server on port {server.port} did not start:\n{server.log_tail()}")
            time.sleep(0.02)


def start(directory: Path, *args: str) -> RedisServer:
    """A new server on a free port, run from ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # the free port may be taken before the server binds it
        server = RedisServer(free_port(cluster="--cluster-enabled" in args), directory, args)
        try:
            launch(server)
            return server
        except RuntimeError:
            if attempt == 2 or "Address already in use" not in server.log_tail():
                raise
    raise AssertionError("unreachable")


def stop(server: RedisServer) -> None:
    """Stop the process (SIGTERM, then SIGKILL after ``STOP_TIMEOUT``); no-op when not running."""
    process, server.process = server.process, None
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGCONT)  # a paused server would not act on SIGTERM
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


def restart(server: RedisServer) -> None:
    """Start the server again on the same port (empty: nothing is saved)."""
    stop(server)
    launch(server)


def pause(server: RedisServer) -> None:
    """Freeze the process (SIGSTOP): the kernel still accepts connections, nothing answers."""
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)


def resume(server: RedisServer) -> None:
    """Undo :func:`pause`."""
    assert server.process is not None
    server.process.send_signal(signal.SIGCONT)


@dataclass
class RedisCluster:
    """Three ``redis-server`` processes forming one cluster (no replicas)."""

    servers: list[RedisServer]

    @property
    def ports(self) -> list[int]:
        return [server.port for server in self.servers]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"


def start_cluster(directory: Path, size: int = 3) -> RedisCluster:
    """A cluster of ``size`` primaries, each run from ``directory/node-<i>``, once every node is ok.

    :raises RuntimeError: ``redis-cli --cluster create`` failed, or the cluster was not ok in time
        (every node is stopped first).
    """
    cli = executable("redis-cli", "valkey-cli")
    cluster = RedisCluster([])
    try:
        for i in range(size):
            cluster.servers.append(
                start(
                    directory / f"node-{i}", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"
                )
            )
        created = subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port in cluster.ports)]
            + ["--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=CLUSTER_TIMEOUT,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}\n{created.stderr}")
        deadline = time.monotonic() + CLUSTER_TIMEOUT
        while not all(cluster_ok(port) for port in cluster.ports):
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster on ports {cluster.ports} not ok after {CLUSTER_TIMEOUT} s")
            time.sleep(0.05)
        return cluster
    except BaseException:
        stop_cluster(cluster)
        raise


def cluster_ok(port: int) -> bool:
    """Whether the node on ``port`` sees a healthy cluster with every slot assigned."""
    try:
        with client(port) as node:
            info = node.cluster("INFO")  # parsed by redis-py into a dict of strings
    except redis.RedisError:
        return False
    return bool(info.get("cluster_state") == "ok" and info.get("cluster_slots_ok") == "16384")


def stop_cluster(cluster: RedisCluster) -> None:
    """Stop every node."""
    for server in cluster.servers:
        stop(server)
