"""Fixtures: redis-server (one server, and a 3-node cluster) and RedisStore on them.

The servers are started once per session on free loopback ports and stopped at the
end; each store fixture gives a new, empty store (every node is flushed first).
``redis_server_for_faults`` is a server of one test's own, which it may stop,
restart or pause.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flask_jwt_guard.revocation.redis import RedisStore
from tests.servers.redis_server import (
    RedisCluster,
    RedisServer,
    client,
    start,
    start_cluster,
    stop,
    stop_cluster,
)

#: Seconds the contract-suite stores may take; generous, since nothing here should be slow.
STORE_TIMEOUT = 2.0


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session."""
    server = start(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A 3-node Redis Cluster (no replicas) for the session."""
    cluster = start_cluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture
def redis_server_for_faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test's own: stopping it disturbs no other test."""
    server = start(tmp_path_factory.mktemp("redis-faults"))
    try:
        yield server
    finally:
        stop(server)


def flush(*ports: int) -> None:
    """Empty the server on each port."""
    for port in ports:
        with client(port) as node:
            node.flushall()


@pytest.fixture
def redis_store(redis_server: RedisServer) -> Iterator[RedisStore]:
    """An empty RedisStore on the session's server."""
    flush(redis_server.port)
    store = RedisStore.from_url(redis_server.url, timeout=STORE_TIMEOUT)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def redis_cluster_store(redis_cluster: RedisCluster) -> Iterator[RedisStore]:
    """An empty RedisStore on the session's cluster."""
    flush(*redis_cluster.ports)
    store = RedisStore.from_url(redis_cluster.url, timeout=STORE_TIMEOUT)
    try:
        yield store
    finally:
        store.close()
