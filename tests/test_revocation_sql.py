"""The SQL store beyond the shared contract (tests/test_revocation_stores.py): URLs, the table,
purging, many concurrent consumers, and a PostgreSQL server that stops and comes back.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="SQLAlchemy is not installed (the [sql] extra)")

from sqlalchemy import exc, func, inspect, select, text  # noqa: E402

from flask_jwt_guard.exceptions import ConfigurationError  # noqa: E402
from flask_jwt_guard.revocation import open_store  # noqa: E402
from flask_jwt_guard.revocation.sql import KEY_LENGTH, SQLStore  # noqa: E402
from tests.servers.postgres_server import PostgresServer  # noqa: E402

MakeStore = Callable[..., SQLStore]


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """``make_store(timeout=2.0, **options)``: a store on a table of its own, on each database.

    ``options`` go to :class:`SQLStore` (``clock``, ``purge_every``, ...).
    """
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").url()
    else:
        url = f"sqlite:///{tmp_path / 'revocations.db'}"
    made: list[SQLStore] = []

    def make(timeout: float = 2.0, **options: Any) -> SQLStore:
        engine = SQLStore.from_url(url, timeout=timeout).engine
        store = SQLStore(engine, table_name=f"t_{uuid.uuid4().hex[:12]}", **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.table.drop(store.engine, checkfirst=True)
        store.engine.dispose()


def rows(store: SQLStore) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(store.table)).scalar_one()


def race(consumers: int, attempt: Callable[[], bool]) -> list[bool]:
    """Run ``attempt`` in ``consumers`` threads released at once; their results."""
    start = threading.Barrier(consumers)
    results: list[bool] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(attempt())
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


# -- URLs ------------------------------------------------------------------------------------


def test_sqlite_url(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}", timeout=1.0)
    assert isinstance(store, SQLStore)
    store.put("k", "v", 60)
    assert store.lookup(["k", "other"]) == (["v", None], False)
    assert (tmp_path / "r.db").is_file()
    store.engine.dispose()


@pytest.mark.parametrize("driver", ["postgresql+psycopg", "postgresql", "postgres"])
def test_postgresql_urls(postgres_server: PostgresServer, driver: str) -> None:
    store = open_store(postgres_server.url(driver=driver), timeout=1.0)
    assert isinstance(store, SQLStore)
    assert store.engine.dialect.name == "postgresql"
    assert store.engine.dialect.driver == "psycopg"  # postgresql:// goes to the installed psycopg
    with store.engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "1s"
    key = f"k-{uuid.uuid4()}"
    store.put(key, "v", 60)
    assert store.lookup([key]) == (["v"], False)
    store.engine.dispose()


def test_postgresql_url_query_wins_over_the_defaults(postgres_server: PostgresServer) -> None:
    store = SQLStore.from_url(postgres_server.url() + "?options=-c%20statement_timeout%3D4321", timeout=1.0)
    with store.engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "4321ms"
    store.engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://user@localhost/db"])
def test_only_file_sqlite_and_postgresql_urls(url: str) -> None:
    with pytest.raises(ConfigurationError):
        open_store(url, timeout=1.0)


# -- The table -------------------------------------------------------------------------------


def test_table_is_created_on_first_use(make_store: MakeStore) -> None:
    store = make_store()
    assert not inspect(store.engine).has_table(store.table.name)
    assert store.lookup(["k"]) == ([None], False)
    assert inspect(store.engine).has_table(store.table.name)
    assert {ix["name"] for ix in inspect(store.engine).get_indexes(store.table.name)} == {
        f"{store.table.name}_expires_at_idx"
    }


def test_create_table_from_many_processes_at_once(make_store: MakeStore) -> None:
    first = make_store()
    # Stores on the same table with engines of their own, as other processes would have.
    stores = [SQLStore.from_url(first.engine.url, timeout=2.0, table_name=first.table.name) for _ in range(8)]
    waiting = list(stores)

    def create() -> bool:
        waiting.pop().create_table()  # each thread its own store
        return True

    try:
        assert race(8, create) == [True] * 8  # none raised
        first.create_table()  # and again: nothing to do
    finally:
        for store in stores:
            store.engine.dispose()
    assert inspect(first.engine).has_table(first.table.name)


def test_long_keys_are_kept_apart(make_store: MakeStore) -> None:
    store = make_store()
    a, b = "x" * 300 + "a", "x" * 300 + "b"
    store.put(a, "A", 60)
    store.put(b, "B", 60)
    assert store.lookup([a, b, "x" * 300]) == (["A", "B", None], False)
    assert store.lookup([], consume=(a, 60)) == ([], False)  # a's row is there, unexpired
    with store.engine.connect() as conn:
        lengths = conn.execute(select(func.length(store.table.c.key))).scalars().all()
    assert sorted(lengths) == [KEY_LENGTH, KEY_LENGTH]


# -- Purging ---------------------------------------------------------------------------------


def test_expired_rows_are_purged_every_n_writes(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock=clock, purge_every=10, purge_interval=3600)
    for i in range(10):
        store.put(f"short-{i}", "1", 5)
    clock.now += 10
    for i in range(9):
        store.put(f"long-{i}", "1", None)
    assert rows(store) == 19
    store.put("tenth", "1", None)  # the tenth write since the last purge purges first
    assert rows(store) == 10


def test_expired_rows_are_purged_after_an_interval(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock=clock, purge_every=10**9, purge_interval=30)
    for i in range(5):
        store.lookup([], consume=(f"used-{i}", 5))  # consuming writes rows too
    clock.now += 31
    assert rows(store) == 5
    store.lookup([], consume=("used-5", 5))
    assert rows(store) == 1


def test_purge_now(make_store: MakeStore) -> None:
    clock = Clock()
    store = make_store(clock=clock)
    store.put("a", "1", 5)
    store.put("b", "1", None)
    clock.now += 10
    assert store.purge() == 1
    assert rows(store) == 1


# -- Concurrency -----------------------------------------------------------------------------


def test_fifty_concurrent_consumers_on_postgresql(postgres_server: PostgresServer) -> None:
    clock = Clock()
    # One connection per consumer: 50 database sessions racing, as 50 processes would.
    engine = SQLStore.from_url(postgres_server.url(), timeout=5.0, pool_size=50, max_overflow=0).engine
    store = SQLStore(engine, clock=clock)
    try:
        store.create_table()
        for _ in range(3):  # a key never used
            used = f"used-{uuid.uuid4()}"
            wins = race(50, lambda used=used: store.lookup(["t"], consume=(used, 60))[1])
            assert sorted(wins) == [False] * 49 + [True]
        store.put(used, "1", 5)  # a key whose mark has expired: the update branch
        clock.now += 10
        wins = race(50, lambda: store.lookup(["t"], consume=(used, 60))[1])
        assert sorted(wins) == [False] * 49 + [True]
    finally:
        store.engine.dispose()


# -- Faults ----------------------------------------------------------------------------------


def test_postgresql_stopped_then_restarted(postgres_server: PostgresServer) -> None:
    store = SQLStore.from_url(postgres_server.url(), timeout=1.0)
    try:
        store.put("k", "1", 60)
        assert store.lookup(["k"]) == (["1"], False)
        postgres_server.stop()
        try:
            for call in (
                lambda: store.lookup(["k"]),
                lambda: store.lookup(["k"], consume=("u", 60)),
                lambda: store.put("k2", "1", 60),
            ):
                started = time.monotonic()
                with pytest.raises(exc.OperationalError):
                    call()
                assert time.monotonic() - started < 2.0  # timeout + 1
        finally:
            postgres_server.start()
        assert store.lookup(["k"]) == (["1"], False)  # the same store, new connections
    finally:
        store.engine.dispose()


def test_postgresql_paused_then_resumed(postgres_server: PostgresServer) -> None:
    # A paused server: the kernel accepts connections and acknowledges data, nothing answers.
    store = SQLStore.from_url(postgres_server.url(), timeout=1.0)
    try:
        store.put("k", "1", 60)
        assert store.lookup(["k"]) == (["1"], False)
        postgres_server.pause()
        try:
            for call in (
                lambda: store.lookup(["k"]),  # on the pooled connection
                lambda: store.lookup(["k"], consume=(f"u-{uuid.uuid4()}", 60)),  # on a new one
                lambda: store.put("k2", "1", 60),
                store.purge,
                store.create_table,
            ):
                started = time.monotonic()
                with pytest.raises(TimeoutError):
                    call()
                assert time.monotonic() - started < 2.0  # timeout + 1
            assert store.engine.pool.checkedout() <= 5  # the calls held up hold a few connections at most
        finally:
            postgres_server.resume()
        deadline = time.monotonic() + 5
        while True:  # the same store, by itself
            try:
                assert store.lookup(["k"]) == (["1"], False)
                break
            except TimeoutError:
                assert time.monotonic() < deadline
        while store.engine.pool.checkedout():  # the calls held up have ended and given theirs back
            assert time.monotonic() < deadline
            time.sleep(0.05)
        store.put("k3", "1", 60)
        assert store.lookup(["k3"]) == (["1"], False)
    finally:
        store.engine.dispose()


def test_postgresql_lock_wait_is_bounded(postgres_server: PostgresServer) -> None:
    store = SQLStore.from_url(postgres_server.url(), timeout=1.0)
    used = f"used-{uuid.uuid4()}"
    try:
        store.put(used, "1", 60)
        with store.engine.connect() as holder:  # another session holds the row
            holder.execute(select(store.table).where(store.table.c.key == used).with_for_update())
            started = time.monotonic()
            with pytest.raises(exc.OperationalError, match="statement timeout"):
                store.lookup([], consume=(used, 60))
            assert 0.9 < time.monotonic() - started < 2.0
            holder.rollback()
        assert store.lookup([], consume=(used, 60)) == ([], False)
    finally:
        store.engine.dispose()


def test_sqlite_writer_wait_is_bounded_and_reads_go_on(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = SQLStore.from_url(f"sqlite:///{path}", timeout=0.5)
    try:
        store.put("k", "1", 60)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            assert store.lookup(["k"]) == (["1"], False)  # WAL: readers do not wait
            started = time.monotonic()
            with pytest.raises(exc.OperationalError, match="locked"):
                store.put("k2", "1", 60)
            assert 0.4 < time.monotonic() - started < 1.5
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        store.put("k2", "1", 60)
    finally:
        store.engine.dispose()
