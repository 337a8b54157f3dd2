"""The SQL store: revocations in one table of a PostgreSQL or SQLite database, through SQLAlchemy Core.

Install the ``[sql]`` extra (SQLAlchemy) and a driver (``psycopg`` for PostgreSQL).
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

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

    :param engine: the SQLAlchemy engine, used as it is; :meth:`from_url` makes one with timeouts.
    :param table_name: the table's name.
    :param clock: where "now" comes from (seconds, like :func:`time.time`).
    :param purge_every: delete expired rows at least once every this many writes.
    :param purge_interval: ... and with the first write after this many seconds.
    """

    def __init__(
        self,
        engine: Engine,
        table_name: str = DEFAULT_TABLE,
        clock: Callable[[], float] = time.time,
        purge_every: int = 1000,
        purge_interval: float = 60.0,
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

    @classmethod
    def from_url(
        cls, url: str | URL, timeout: float, table_name: str = DEFAULT_TABLE, **engine_options: Any
    ) -> SQLStore:
        """A store on a new engine for ``url``, whose connects, statements and waits are bounded.

        ``postgresql://`` uses psycopg (3) when it is installed, else SQLAlchemy's default
        (psycopg2); ``postgres://`` means the same. On PostgreSQL (psycopg or psycopg2),
        ``connect_timeout`` (whole seconds; libpq waits at least 2) and ``statement_timeout``
        are set; on SQLite, the busy timeout, WAL mode and ``BEGIN IMMEDIATE`` for writes.
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

    def create_table(self) -> None:
        """Create the table and its index unless they exist (safe to run from several processes)."""
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
                    self.create_table()

    def lookup(
        self, keys: Sequence[str], consume: tuple[str, float | None] | None = None
    ) -> tuple[list[str | None], bool]:
        """See :meth:`flask_jwt_guard.typing.RevocationStore.lookup`."""
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
        self._ensure_table()
        return self._purge(self.clock())

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
