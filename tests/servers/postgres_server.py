"""A throwaway PostgreSQL server: ``initdb`` in a temporary folder, on a free loopback port.

Plain helpers (no pytest): :func:`find_bindir`, then :func:`start_postgres`, and
:meth:`PostgresServer.stop` / :meth:`PostgresServer.start` (same port, same data),
:meth:`PostgresServer.pause` / :meth:`PostgresServer.resume` (a server that accepts connections
and never answers) and :meth:`PostgresServer.destroy`. PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` user (created by Debian's package), else ``nobody``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DATABASE = "jwt_guard"
SUPERUSER = "postgres"
# Settings for a test server: no fsync, quick to start and stop.
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
WAIT = 30  # seconds pg_ctl may wait for a start or a stop


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` and ``pg_ctl``, if any."""
    found = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")]
    found = [d for d in found if (d / "initdb").is_file() and (d / "pg_ctl").is_file()]
    found.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return found[-1] if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_as() -> str | None:
    """The user to run the server as: ``None`` (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class PostgresServer:
    """A server made by :func:`start_postgres`; ``folder`` holds its data, socket and log."""

    bindir: Path
    folder: Path
    port: int
    user: str | None

    @property
    def datadir(self) -> Path:
        return self.folder / "data"

    @property
    def logfile(self) -> Path:
        return self.folder / "server.log"

    def url(self, driver: str = "postgresql+psycopg", database: str = DATABASE) -> str:
        """A SQLAlchemy URL for ``database`` on this server, over TCP."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, timeout: float = WAIT + 10) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.folder
        )

    def check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise RuntimeError(f"{what} failed ({result.returncode}): {result.stdout}{result.stderr}\n{log}")

    def start(self) -> None:
        """Start the server (on its port) and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 {SERVER_OPTIONS}"
        started = self.run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-o", options,
            "-w", "-t", str(WAIT), "start",
        )  # fmt: skip
        self.check(started, "pg_ctl start")

    def stop(self, mode: str = "fast", wait: int = WAIT) -> None:
        """Stop the server (``fast``: disconnect clients; ``immediate``: no clean shutdown)."""
        stopped = self.run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", str(wait), "stop")
        self.check(stopped, "pg_ctl stop")

    def postmaster_pid(self) -> int:
        """The postmaster's process id, from ``postmaster.pid``."""
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def children(self, parent: int) -> list[int]:
        """The processes whose parent is ``parent`` (the backends and workers of this server)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()  # after "pid (command)"
            except OSError:  # ended meanwhile
                continue
            if int(fields[1]) == parent:
                found.append(int(stat.parent.name))
        return found

    def pause(self) -> None:
        """SIGSTOP this server's postmaster, then its children: the kernel still accepts
        connections and acknowledges data, and nothing answers (until :meth:`resume`)."""
        postmaster = self.postmaster_pid()
        os.kill(postmaster, signal.SIGSTOP)  # first: it forks no child after the list is made
        for pid in self.children(postmaster):
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                continue

    def resume(self) -> None:
        """SIGCONT what :meth:`pause` stopped."""
        postmaster = self.postmaster_pid()
        for pid in self.children(postmaster):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                continue
        os.kill(postmaster, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL the postmaster (its backends exit when they find it gone): a last resort."""
        pid = int((self.datadir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGCONT)  # were it paused
        os.kill(pid, signal.SIGKILL)

    def is_running(self) -> bool:
        """Whether ``pg_ctl status`` finds the server running."""
        return self.run("pg_ctl", "-D", str(self.datadir), "status").returncode == 0

    def destroy(self) -> None:
        """Stop the server if it runs (immediately, or killed, if it will not), and delete its folder."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                self.resume()  # were it paused
            if self.is_running():
                for mode in ("fast", "immediate"):
                    try:
                        self.stop(mode, wait=10)
                        break
                    except (RuntimeError, subprocess.TimeoutExpired):
                        continue
                else:
                    self.kill()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(bindir: Path) -> PostgresServer:
    """Initialise a cluster in a new temporary folder, start it, and create :data:`DATABASE`.

    The folder is made in the system's temporary directory (not pytest's, which only root
    may enter) and given to the user the server runs as.
    """
    user = run_as()
    folder = Path(tempfile.mkdtemp(prefix="jwt-guard-pg-"))
    server = PostgresServer(bindir=bindir, folder=folder, port=free_port(), user=user)
    try:
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        initdb = server.run(
            "initdb", "-D", str(server.datadir), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        server.check(initdb, "initdb")
        server.start()
        created = subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(server.port), "-U", SUPERUSER, DATABASE],
            capture_output=True, text=True, timeout=WAIT, check=False,
        )  # fmt: skip
        server.check(created, "createdb")
    except BaseException:
        server.destroy()
        raise
    return server
