"""Fixtures: SQLite and a PostgreSQL server, and SQLStore on them.

``postgres_server`` is one server for the session (started from a temporary folder on a
free loopback port, always stopped and deleted); each ``*_store`` is an empty store.
Without PostgreSQL (``/usr/lib/postgresql/*/bin``), SQLAlchemy or psycopg, the tests
that need them are skipped (failed when ``CI=true``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.servers.postgres_server import PostgresServer, find_bindir, start_postgres

if TYPE_CHECKING:
    from flask_jwt_guard.revocation.sql import SQLStore

STORE_TIMEOUT = 2.0  # seconds, the stores' timeout in the contract tests


def sql_store_class() -> type[SQLStore]:
    """SQLStore, or a skip when SQLAlchemy is missing."""
    pytest.importorskip("sqlalchemy", reason="SQLAlchemy is not installed (the [sql] extra)")
    from flask_jwt_guard.revocation.sql import SQLStore

    return SQLStore


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLStore]:
    """An empty SQLStore on a SQLite file of its own."""
    store = sql_store_class().from_url(f"sqlite:///{tmp_path / 'revocations.db'}", timeout=STORE_TIMEOUT)
    yield store
    store.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session, with an empty database ``jwt_guard``."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl in /usr/lib/postgresql/*/bin)")
    pytest.importorskip("psycopg", reason="psycopg (3) is not installed")
    server = start_postgres(bindir)
    yield server
    server.destroy()


@pytest.fixture
def postgresql_store(postgres_server: PostgresServer) -> Iterator[SQLStore]:
    """An empty SQLStore on the session's PostgreSQL server."""
    if not postgres_server.is_running():  # a fault test that failed half-way
        postgres_server.start()
    store = sql_store_class().from_url(postgres_server.url(), timeout=STORE_TIMEOUT)
    store.create_table()
    with store.engine.begin() as conn:
        conn.execute(store.table.delete())
    yield store
    store.engine.dispose()
