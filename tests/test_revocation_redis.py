"""RedisStore beyond the store contract (tests/test_revocation_stores.py): URL forms, one round
trip per call, failures bounded by the timeout and recovery without a new store, expiry on every
key written with a ttl. Real servers from tests/servers/redis_fixtures.py.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis

from flask_jwt_guard.exceptions import ConfigurationError
from flask_jwt_guard.revocation import identity_key, identity_tag, open_store, token_key, used_key
from flask_jwt_guard.revocation.redis import RedisStore, cluster_nodes
from tests.servers.redis_server import (
    RedisCluster,
    RedisServer,
    client,
    free_port,
    launch,
    pause,
    restart,
    resume,
    stop,
)

PREFIX = "test:"
TIMEOUT = 0.3  # the store's timeout in the fault tests
SLACK = 0.5  # how much longer than TIMEOUT a failure may take
#: What a call may raise when the server cannot answer (a cluster client raises the second
#: when it cannot reach any node to learn the slots).
REDIS_ERRORS = (redis.RedisError, redis.exceptions.RedisClusterException)


def keys(identity: str = "alice", n: int = 3) -> list[str]:
    """``n`` token keys of one identity: one hash tag, one slot."""
    tag = identity_tag(identity)
    return [token_key(PREFIX, tag, f"jti-{i}") for i in range(n)]


def used(jti: str = "jti-0", identity: str = "alice") -> str:
    return used_key(PREFIX, identity_tag(identity), jti)


@dataclass
class Deployment:
    """A store and the ports of the servers behind it (one, or every cluster node)."""

    store: RedisStore
    ports: list[int]


@pytest.fixture(params=["redis", "redis_cluster"])
def deployment(request: pytest.FixtureRequest) -> Deployment:
    """An empty store on the session's server, then on the session's cluster."""
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        return Deployment(request.getfixturevalue("redis_store"), [server.port])
    cluster: RedisCluster = request.getfixturevalue("redis_cluster")
    return Deployment(request.getfixturevalue("redis_cluster_store"), cluster.ports)


@pytest.fixture
def fault_store(redis_server_for_faults: RedisServer) -> Iterator[RedisStore]:
    """A store with a short timeout on a server of this test's own."""
    store = RedisStore.from_url(redis_server_for_faults.url, timeout=TIMEOUT)
    try:
        yield store
    finally:
        store.close()


def elapsed(call: Callable[[], object]) -> tuple[float, BaseException | None]:
    """Seconds ``call`` took, and what it raised."""
    start = time.monotonic()
    try:
        call()
    except Exception as error:
        return time.monotonic() - start, error
    return time.monotonic() - start, None


def assert_fails_within(
    call: Callable[[], object], error: type[BaseException] | tuple[type[BaseException], ...], limit: float
) -> None:
    seconds, raised = elapsed(call)
    assert isinstance(raised, error), f"expected {error}, got {raised!r}"
    assert seconds < limit, f"{raised!r} after {seconds:.2f} s, more than {limit} s"


def every_call(store: RedisStore) -> list[Callable[[], object]]:
    """A plain lookup, a lookup with a consume, and a put."""
    return [
        lambda: store.lookup(keys()),
        lambda: store.lookup(keys(), consume=(used(), 60)),
        lambda: store.put(keys()[0], "1", 60),
    ]


def assert_works(store: RedisStore) -> None:
    """Every call succeeds at the first attempt."""
    store.put(keys()[0], "1", 60)
    assert store.lookup(keys())[0] == ["1", None, None]
    assert store.lookup(keys(), consume=(used(str(uuid.uuid4())), 60))[1] is True


# -- URL forms -------------------------------------------------------------------------------


def test_redis_url(redis_server: RedisServer, redis_store: RedisStore) -> None:  # redis_store: emptied
    store = open_store(f"redis://127.0.0.1:{redis_server.port}/0", timeout=1)
    assert isinstance(store, RedisStore)
    try:
        store.put(keys()[0], "v", 60)
        assert store.lookup(keys()[:1]) == (["v"], False)
    finally:
        store.close()
    with client(redis_server.port) as plain:
        assert plain.get(keys()[0]) == "v"


def test_redis_cluster_urls(redis_cluster: RedisCluster, redis_cluster_store: RedisStore) -> None:
    first, second, _ = redis_cluster.ports
    one = open_store(f"redis+cluster://127.0.0.1:{first}", timeout=1)
    several = open_store(f"redis+cluster://127.0.0.1:{second},127.0.0.1:{first}/", timeout=1)
    assert isinstance(one, RedisStore) and isinstance(several, RedisStore)
    try:
        for identity in ("alice", "bob", "carol", "dave"):  # some slots on each node
            one.put(keys(identity)[0], identity, 60)
            assert several.lookup(keys(identity)) == ([identity, None, None], False)
    finally:
        one.close()
        several.close()


def test_cluster_url_parts() -> None:
    nodes, user, password = cluster_nodes("redis+cluster://app:p%40ss@node-a:7000,[::1]:7001,node-c")
    assert (nodes, user, password) == ([("node-a", 7000), ("::1", 7001), ("node-c", 6379)], "app", "p@ss")
    assert cluster_nodes("redis+cluster://:secret@h:1") == ([("h", 1)], None, "secret")
    assert cluster_nodes("redis+cluster://h:1/0") == ([("h", 1)], None, None)
    for bad in (
        "redis+cluster://h:1?ssl=true",
        "redis+cluster://h:1/2",
        "redis+cluster://h:x",
        "redis+cluster://:1",
    ):
        with pytest.raises(ConfigurationError):
            open_store(bad, timeout=1)


def test_cluster_store_connects_on_first_use() -> None:
    """An application starts while its cluster is down; calls fail until it is up."""
    store = open_store(f"redis+cluster://127.0.0.1:{free_port()}", timeout=TIMEOUT)
    assert_fails_within(lambda: store.lookup(keys()), REDIS_ERRORS, TIMEOUT + SLACK)


# -- One round trip per call -----------------------------------------------------------------


def command_counts(nodes: list[redis.Redis]) -> Counter[str]:
    """Commands the servers have run (Lua's own calls included), summed over ``nodes``."""
    counts: Counter[str] = Counter()
    for node in nodes:
        for name, stats in node.info("commandstats").items():
            counts[name.removeprefix("cmdstat_")] += int(stats["calls"])
    return counts


def commands_run_by(deployment: Deployment, call: Callable[[], object]) -> Counter[str]:
    """The commands the servers ran for ``call``, besides our INFO (on connections already open)."""
    nodes = [client(port) for port in deployment.ports]
    try:
        before = command_counts(nodes)
        call()
        delta = command_counts(nodes) - before
    finally:
        for node in nodes:
            node.close()
    del delta["info"]
    return delta


def test_each_call_is_one_command(deployment: Deployment) -> None:
    store = deployment.store
    assert_works(store)  # connections made, script loaded
    three = keys()

    assert commands_run_by(deployment, lambda: store.lookup(three)) == {"mget": 1}
    # One EVALSHA; the MGET and SET are the script's, run inside the server.
    consume = commands_run_by(deployment, lambda: store.lookup(three, consume=(used("x"), 60)))
    assert consume == {"evalsha": 1, "mget": 1, "set": 1}
    assert commands_run_by(deployment, lambda: store.lookup([], consume=(used("y"), 60))) == {
        "evalsha": 1,
        "set": 1,
    }
    assert commands_run_by(deployment, lambda: store.put(three[0], "1", 60)) == {"set": 1}
    assert commands_run_by(deployment, lambda: store.lookup([])) == {}


# -- Failures are bounded, recovery needs no new store ---------------------------------------


def test_stopped_server_fails_at_once_and_recovers(
    redis_server_for_faults: RedisServer, fault_store: RedisStore
) -> None:
    assert_works(fault_store)
    stop(redis_server_for_faults)
    for call in every_call(fault_store):
        assert_fails_within(call, redis.ConnectionError, TIMEOUT + SLACK)
    launch(redis_server_for_faults)  # same port, empty
    assert_works(fault_store)


def test_restart_between_calls_goes_unnoticed(
    redis_server_for_faults: RedisServer, fault_store: RedisStore
) -> None:
    """Pooled connections to the old process are replaced before use."""
    assert_works(fault_store)
    restart(redis_server_for_faults)
    assert_works(fault_store)


def test_frozen_server_times_out_and_recovers(
    redis_server_for_faults: RedisServer, fault_store: RedisStore
) -> None:
    """A server that holds its connections but answers nothing (SIGSTOP)."""
    assert_works(fault_store)
    pause(redis_server_for_faults)
    try:
        for call in every_call(fault_store):
            assert_fails_within(call, redis.TimeoutError, TIMEOUT + SLACK)
    finally:
        resume(redis_server_for_faults)
    assert_works(fault_store)


def test_consume_that_timed_out_may_still_take_effect(
    redis_server_for_faults: RedisServer, fault_store: RedisStore
) -> None:
    """A timeout says nothing of whether the server ran the call: it may run it later.

    A retried consume then finds its key set. Callers must not read that as a second use.
    """
    assert_works(fault_store)
    pause(redis_server_for_faults)
    try:
        assert_fails_within(
            lambda: fault_store.lookup([], consume=(used("late"), 60)), redis.TimeoutError, TIMEOUT + SLACK
        )
    finally:
        resume(redis_server_for_faults)
    deadline = time.monotonic() + 2
    while fault_store.lookup([used("late")])[0] == [None] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fault_store.lookup([], consume=(used("late"), 60)) == ([], False)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("scheme", ["redis", "redis+cluster"])
def test_silent_server_times_out(silent_port: int, scheme: str) -> None:
    store = open_store(f"{scheme}://127.0.0.1:{silent_port}", timeout=TIMEOUT)
    assert isinstance(store, RedisStore)
    try:
        for call in every_call(store):
            assert_fails_within(call, REDIS_ERRORS, TIMEOUT + SLACK)
    finally:
        store.close()


def test_demoted_primary_connection_is_dropped(
    redis_server_for_faults: RedisServer, fault_store: RedisStore
) -> None:
    """After a READONLY answer (a failover behind one address) the next call reconnects."""
    assert_works(fault_store)
    with client(redis_server_for_faults.port) as admin:
        admin.replicaof("127.0.0.1", free_port())  # a replica of nothing: it refuses writes
        before = {c["id"] for c in admin.client_list()} - {str(admin.client_id())}
        assert before, "the store's connection"
        assert_fails_within(lambda: fault_store.put(keys()[0], "1", 60), redis.ReadOnlyError, TIMEOUT)
        assert not before & {c["id"] for c in admin.client_list()}
        admin.replicaof("NO", "ONE")
    assert_works(fault_store)


# -- Expiry ----------------------------------------------------------------------------------


def pttl(ports: list[int], key: str) -> int:
    """The key's PTTL on the node that holds its slot (-2: absent, -1: no expiry)."""
    for port in ports:
        with client(port) as node:
            try:
                return int(node.pttl(key))
            except redis.ResponseError:  # MOVED: another node's slot
                continue
    raise AssertionError(f"no node serves {key!r}")


def stored_keys(ports: list[int]) -> list[str]:
    found = []
    for port in ports:
        with client(port) as node:
            found += list(node.scan_iter(match=f"{PREFIX}*"))
    return found


def test_keys_written_with_a_ttl_expire(deployment: Deployment) -> None:
    store, ports = deployment.store, deployment.ports
    token, session, ident = keys(n=3)
    store.put(token, "1", 60)
    store.put(session, "1", 3600.0001)  # rounded up to the next millisecond
    store.put(ident, "1", 0.0000001)  # at least 1 ms
    assert store.lookup([], consume=(used(), 60))[1] is True
    for identity in ("bob", "carol", "dave"):
        store.put(identity_key(PREFIX, identity_tag(identity)), "g", 30)
        store.lookup(keys(identity), consume=(used(identity=identity), 30))

    assert 59_000 < pttl(ports, token) <= 60_000
    assert 3_599_000 < pttl(ports, session) <= 3_600_001
    assert pttl(ports, ident) in (-2, 0, 1)
    assert 59_000 < pttl(ports, used()) <= 60_000
    written = stored_keys(ports)
    assert len(written) >= 9
    assert all(pttl(ports, key) != -1 for key in written)


def test_keys_written_without_a_ttl_stay(deployment: Deployment) -> None:
    store, ports = deployment.store, deployment.ports
    token, ident = keys(n=2)
    store.put(ident, "g1", None)
    assert store.lookup([], consume=(used(), None))[1] is True
    assert pttl(ports, ident) == -1
    assert pttl(ports, used()) == -1
    store.put(ident, "g2", 60)  # a later put with a ttl sets one
    assert 59_000 < pttl(ports, ident) <= 60_000
    store.put(token, "1", 60)
    store.put(token, "1", None)  # and a later put without one clears it
    assert pttl(ports, token) == -1
