"""The SQL store: revocations in one table of a PostgreSQL or SQLite database, through SQLAlchemy Core.

Install the ``[sql]`` extra (SQLAlchemy) and a driver (``psycopg`` for PostgreSQL).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import math
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    Float,
    Index,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    exc,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.engine.url import URL
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql import ColumnElement

from ..exceptions import ConfigurationError

DEFAULT_TABLE = "jwt_guard_revocations"
#: The width of the ``key`` column; longer keys are stored shortened by a hash (see :func:`column_key`).
KEY_LENGTH = 255
# The execution option that makes a SQLite transaction opened by from_url's engine take the write
# lock at BEGIN (BEGIN IMMEDIATE), so that concurrent writers queue on the busy timeout.
_WRITE = "jwt_guard_write"
#: Seconds a caller waits beyond the store's ``timeout`` (see :class:`SQLStore`), so that the
#: server's ``statement_timeout``, which names the cause and leaves the connection usable, comes first.
GRACE = 0.5

T = TypeVar("T")


def column_key(key: str) -> str:
    """``key`` as stored: unchanged up to :data:`KEY_LENGTH` characters, else its start and a SHA-256."""
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: KEY_LENGTH - len(digest) - 1]}#{digest}"


def revocations_table(metadata: MetaData, name: str = DEFAULT_TABLE) -> Table:
    """The table: ``key`` (primary key), ``value``, ``expires_at`` (seconds since the epoch; NULL: never)."""
    return Table(
        name,
        metadata,
        Column("key", String(KEY_LENGTH), primary_key=True),
        Column("value", String(255), nullable=False),
        Column("expires_at", Float, nullable=True),
        Index(f"{name}_expires_at_idx", "expires_at"),
    )


class SQLStore:
    """Revocations in a SQL table (PostgreSQL, or SQLite >= 3.35), one row per key with its expiry.

    A lookup is one ``SELECT``. A consume is one transaction whose ``INSERT ... ON CONFLICT
    DO UPDATE ... WHERE <the row has expired>`` lets the primary key decide: of any number of
    concurrent consumers, in any number of processes, exactly one gets its row back.
    Expired rows read as absent and are deleted before the write that comes after every
    ``purge_every`` writes or ``purge_interval`` seconds. The table is created on first use
    (or by :meth:`create_table`).
    Database errors propagate (the caller answers them with ``503`` or fails open).

    Expiry times come from ``clock`` (by default this host's clock): processes sharing a
    store should have synchronised clocks.

    With a ``timeout``, each call runs in one of ``workers`` daemon threads and the caller
    waits for it at most ``timeout`` seconds, then gets a :class:`TimeoutError`: neither
    psycopg nor libpq bounds the wait for an answer on the client side, so a server that
    accepts connections and never answers (stopped, swamped, or behind a stalled proxy
    whose kernel still acknowledges) would hold the request until it comes back. The call
    left behind keeps its thread and its connection until the server answers or the
    connection breaks, then ends as usual (its result dropped); a call that no thread had
    started yet never runs. So at most ``workers`` calls (and connections) are held up,
    later ones time out in the queue, and the store works again by itself as soon as the
    server does. A consume that timed out may still be applied by the server later: it
    is then reported neither way, and the caller, having had an error, refuses the token.

    :param engine: the SQLAlchemy engine, used as it is; :meth:`from_url` makes one with timeouts.
    :param table_name: the table's name.
    :param clock: where "now" comes from (seconds, like :func:`time.time`).
    :param purge_every: delete expired rows at least once every this many writes.
    :param purge_interval: ... and with the first write after this many seconds.
    :param timeout: the longest a caller waits for a call, in seconds (``None``: unbounded,
        each call runs in the caller's thread); :meth:`from_url` sets it on PostgreSQL.
    :param workers: how many calls may run at once with a ``timeout``; best the engine's
        pool size and overflow together (:meth:`from_url` sets that).
    """

    def __init__(
        self,
        engine: Engine,
        table_name: str = DEFAULT_TABLE,
        clock: Callable[[], float] = time.time,
        purge_every: int = 1000,
        purge_interval: float = 60.0,
        timeout: float | None = None,
        workers: int = 15,
    ) -> None:
        dialect = engine.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise ConfigurationError(
                f"the SQL revocation store supports PostgreSQL and SQLite, not {dialect!r}"
            )
        if dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
            raise ConfigurationError(
                f"the SQL revocation store needs SQLite >= 3.35 (RETURNING), not {sqlite3.sqlite_version}"
            )
        self.engine = engine
        self.table = revocations_table(MetaData(), table_name)
        self.clock = clock
        self.purge_every = purge_every
        self.purge_interval = purge_interval
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # A single SELECT needs no transaction: on PostgreSQL, AUTOCOMMIT saves a BEGIN and a
        # ROLLBACK round trip. (from_url's SQLite engine already runs reads without one.)
        self._reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if dialect == "postgresql" else engine
        )
        self._writer = engine.execution_options(**{_WRITE: True})
        self._lock = threading.Lock()
        self._table_ready = False
        self._writes = 0
        self._last_purge = clock()
        self.timeout = timeout
        self._workers = (
            _Workers(workers, f"flask_jwt_guard-sql-{table_name}") if timeout is not None else None
        )

    @classmethod
    def from_url(
        cls, url: str | URL, timeout: float, table_name: str = DEFAULT_TABLE, **engine_options: Any
    ) -> SQLStore:
        """A store on a new engine for ``url``, whose connects, statements and waits are bounded.

        ``postgresql://`` uses psycopg (3) when it is installed, else SQLAlchemy's default
        (psycopg2); ``postgres://`` means the same. On PostgreSQL (psycopg or psycopg2),
        ``connect_timeout`` (whole seconds; libpq waits at least 2) and ``statement_timeout``
        are set, and a caller waits for a call at most ``timeout`` + :data:`GRACE` seconds
        (see :class:`SQLStore`: a server that never answers), with as many workers as the
        pool has connections; on SQLite, the busy timeout, WAL mode and ``BEGIN IMMEDIATE``
        for writes (and the caller's thread runs the call).
        Parameters in the URL's query win over these. An in-memory SQLite database would be
        one per connection: use the ``"memory"`` store instead.

        :param timeout: seconds to connect, to run a statement, or to wait for a pooled connection.
        :param engine_options: more arguments for :func:`sqlalchemy.create_engine`
            (``pool_size=...``), which win over the defaults.
        :raises ConfigurationError: not a PostgreSQL or file SQLite URL.
        """
        parsed = with_default_driver(make_url(url))
        backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
        connect_args: dict[str, Any] = {}
        if backend == "postgresql" and driver in ("psycopg", "psycopg2", "psycopg2cffi"):
            milliseconds = max(1, round(timeout * 1000))
            connect_args = {
                "connect_timeout": max(1, math.ceil(timeout)),
                "options": f"-c statement_timeout={milliseconds}",
                "tcp_user_timeout": milliseconds,  # a server gone from the network: sent data unacknowledged
            }
        elif backend == "postgresql" and driver == "pg8000":
            connect_args = {"timeout": timeout}
        elif backend == "sqlite":
            if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
                raise ConfigurationError(
                    'an in-memory SQLite revocation store would be one per connection: use "memory"'
                )
            connect_args = {"timeout": timeout}
        elif backend != "postgresql":
            raise ConfigurationError(
                f"the SQL revocation store supports postgresql:// and sqlite:/// URLs, not {backend}://"
            )
        options: dict[str, Any] = {
            "pool_pre_ping": True,
            "pool_timeout": timeout,
            "connect_args": {k: v for k, v in connect_args.items() if k not in parsed.query},
            **engine_options,
        }
        engine = create_engine(parsed, **options)
        if backend == "sqlite":
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return cls(engine, table_name)
        # QueuePool's defaults; an unlimited overflow (-1) gets as many workers again as the pool.
        pool_size, max_overflow = options.get("pool_size", 5), options.get("max_overflow", 10)
        workers = max(1, pool_size + (max_overflow if max_overflow >= 0 else max(pool_size, 10)))
        return cls(engine, table_name, timeout=timeout + GRACE, workers=workers)

    def _call(self, function: Callable[[], T]) -> T:
        """``function()``, in a worker waited for at most ``timeout`` when there is one."""
        if self._workers is None or self.timeout is None:
            return function()
        return self._workers.call(function, self.timeout)

    def create_table(self) -> None:
        """Create the table and its index unless they exist (safe to run from several processes)."""
        self._call(self._create_table)

    def _create_table(self) -> None:
        try:
            self.table.metadata.create_all(self._writer, checkfirst=True)
        except exc.DBAPIError as err:
            if err.statement is None or err.connection_invalidated:  # could not connect: no retry
                raise
            # Another process created it between our check and our CREATE; if not, this raises again.
            self.table.metadata.create_all(self._writer, checkfirst=True)
        self._table_ready = True

    def _ensure_table(self) -> None:
        if not self._table_ready:
            with self._lock:
                if not self._table_ready:
                    self._create_table()

    def lookup(
        self, keys: Sequence[str], consume: tuple[str, float | None] | None = None
    ) -> tuple[list[str | None], bool]:
        """See :meth:`flask_jwt_guard.typing.RevocationStore.lookup`."""
        return self._call(lambda: self._lookup(keys, consume))

    def _lookup(
        self, keys: Sequence[str], consume: tuple[str, float | None] | None
    ) -> tuple[list[str | None], bool]:
        self._ensure_table()
        now = self.clock()
        if consume is None:
            with self._reader.connect() as conn:
                return self._select(conn, keys, now), False
        key, ttl = consume
        # Only over an expired row (NULL, "never", compares as false): the primary key decides.
        claim = self._upsert(key, "1", _expiry(now, ttl), where=self.table.c.expires_at <= now)
        self._maybe_purge(now)
        with self._writer.begin() as conn:
            values = self._select(conn, keys, now)
            consumed = conn.execute(claim.returning(self.table.c.key)).first() is not None
        return values, consumed

    def put(self, key: str, value: str, ttl: float | None) -> None:
        """See :meth:`flask_jwt_guard.typing.RevocationStore.put`."""
        self._call(lambda: self._put(key, value, ttl))

    def _put(self, key: str, value: str, ttl: float | None) -> None:
        self._ensure_table()
        now = self.clock()
        upsert = self._upsert(key, value, _expiry(now, ttl))
        self._maybe_purge(now)
        with self._writer.begin() as conn:
            conn.execute(upsert)

    def purge(self) -> int:
        """Delete the expired rows now.

        :returns: how many were deleted.
        """

        def purge() -> int:
            self._ensure_table()
            return self._purge(self.clock())

        return self._call(purge)

    def _upsert(
        self, key: str, value: str, expires_at: float | None, where: ColumnElement[bool] | None = None
    ) -> postgresql.Insert | sqlite.Insert:
        """``INSERT`` the row or, ``where`` the existing row matches, overwrite it."""
        insert = self._insert(self.table).values(key=column_key(key), value=value, expires_at=expires_at)
        return insert.on_conflict_do_update(
            index_elements=[self.table.c.key],
            set_={"value": insert.excluded.value, "expires_at": insert.excluded.expires_at},
            where=where,
        )

    def _select(self, conn: Connection, keys: Sequence[str], now: float) -> list[str | None]:
        if not keys:
            return []
        t = self.table
        stored = [column_key(key) for key in keys]
        rows = conn.execute(
            select(t.c.key, t.c.value).where(
                t.c.key.in_(set(stored)), or_(t.c.expires_at.is_(None), t.c.expires_at > now)
            )
        )
        found: dict[str, str] = {row.key: row.value for row in rows}
        return [found.get(key) for key in stored]

    def _maybe_purge(self, now: float) -> None:
        # Before the write and in a transaction of its own: a purge that fails fails the write
        # (never a write that has committed), and holds no row lock while the write takes its own.
        with self._lock:
            self._writes += 1
            if self._writes < self.purge_every and now - self._last_purge < self.purge_interval:
                return
            self._writes, self._last_purge = 0, now
        self._purge(now)

    def _purge(self, now: float) -> int:
        with self._writer.begin() as conn:
            return conn.execute(delete(self.table).where(self.table.c.expires_at <= now)).rowcount


class _Workers:
    """Up to ``size`` daemon threads, started as needed, that run calls a caller waits for a while.

    Daemon threads, unlike :class:`concurrent.futures.ThreadPoolExecutor`'s: a call held up
    by a silent server must not hold up the interpreter's exit. After a fork (a server's
    workers), the child starts threads of its own.
    """

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._tasks: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[[], Any]]] = (
            queue.SimpleQueue()
        )
        self._idle = threading.Semaphore(0)  # released by a thread after each task: one may be free
        self._threads = 0
        self._lock = threading.Lock()

    def call(self, function: Callable[[], T], timeout: float) -> T:
        """``function()`` in a worker; a :class:`TimeoutError` when it has not ended after ``timeout``."""
        if self._pid != os.getpid():
            self._reset()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._tasks.put((future, function))
        if not self._idle.acquire(blocking=False):
            with self._lock:
                if self._threads < self.size:
                    self._threads += 1
                    threading.Thread(target=self._work, name=self.name, daemon=True).start()
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            if future.cancel() or not future.done():  # not started (it never will be), or still running
                raise TimeoutError(f"the database did not answer within {timeout:g} s") from None
            return future.result()  # ended just now, or raised a TimeoutError of its own

    def _work(self) -> None:
        tasks = self._tasks
        while True:
            future, function = tasks.get()
            if future.set_running_or_notify_cancel():  # else its caller has given up
                try:
                    future.set_result(function())
                except BaseException as err:  # the caller's to see
                    future.set_exception(err)
            del future, function  # not kept alive while waiting for the next task
            self._idle.release()


def with_default_driver(url: URL) -> URL:
    """``postgres://`` as ``postgresql://``, and that with psycopg (3) when it is installed."""
    if url.drivername in ("postgres", "postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return url.set(drivername="postgresql")
        return url.set(drivername="postgresql+psycopg")
    return url


def _expiry(now: float, ttl: float | None) -> float | None:
    return None if ttl is None else now + ttl


def _sqlite_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy's "begin" event, not the sqlite3 module, decide when a transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writes take the write lock at BEGIN, waiting up to the busy timeout; reads take no transaction.
    if conn.get_execution_options().get(_WRITE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
