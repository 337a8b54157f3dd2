"""One contract for every revocation store, run on each: memory, Redis (single and a 3-node
cluster), SQLite and PostgreSQL. The network stores run against real servers that the
fixtures in tests/servers/ start on free loopback ports and stop afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from flask_jwt_guard.revocation import (
    MemoryStore,
    identity_key,
    identity_tag,
    session_key,
    token_key,
    used_key,
)
from flask_jwt_guard.revocation.memory import MemoryStoreFull

STORES = ["memory", "redis", "redis_cluster", "sqlite", "postgresql"]
PREFIX = "test:"


@pytest.fixture
def memory_store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Any:
    """Each store in turn, empty."""
    return request.getfixturevalue(f"{request.param}_store")


def keys_for(identity: Any = "alice") -> tuple[str, str, str, str]:
    """A token, session, identity and used key of one identity: one hash tag, one slot."""
    tag = identity_tag(identity)
    jti, sid = str(uuid.uuid4()), str(uuid.uuid4())
    return (
        token_key(PREFIX, tag, jti),
        session_key(PREFIX, tag, sid),
        identity_key(PREFIX, tag),
        used_key(PREFIX, tag, jti),
    )


def test_absent_keys_read_as_none(store: Any) -> None:
    token, session, ident, _ = keys_for()
    assert store.lookup([token, session, ident]) == ([None, None, None], False)


def test_put_then_lookup_in_one_call(store: Any) -> None:
    token, session, ident, _ = keys_for()
    store.put(session, "1", 60)
    store.put(ident, "gen-2", None)
    assert store.lookup([token, session, ident]) == ([None, "1", "gen-2"], False)


def test_put_overwrites(store: Any) -> None:
    _, _, ident, _ = keys_for()
    store.put(ident, "a", 60)
    store.put(ident, "b", 60)
    assert store.lookup([ident])[0] == ["b"]


def test_entries_expire(store: Any) -> None:
    token, session, _, _ = keys_for()
    store.put(token, "1", 0.2)
    store.put(session, "1", 60)
    assert store.lookup([token, session])[0] == ["1", "1"]
    time.sleep(0.4)
    assert store.lookup([token, session])[0] == [None, "1"]


def test_consume_is_once(store: Any) -> None:
    token, session, _, used = keys_for()
    assert store.lookup([token, session], consume=(used, 60)) == ([None, None], True)
    assert store.lookup([token, session], consume=(used, 60)) == ([None, None], False)
    assert store.lookup([used])[0] != [None]


def test_consume_reads_the_other_keys_too(store: Any) -> None:
    token, session, _, used = keys_for()
    store.put(session, "1", 60)
    assert store.lookup([token, session], consume=(used, 60)) == ([None, "1"], True)


def test_consumed_mark_expires(store: Any) -> None:
    _, _, _, used = keys_for()
    assert store.lookup([], consume=(used, 0.2))[1] is True
    time.sleep(0.4)
    assert store.lookup([], consume=(used, 0.2))[1] is True


def test_concurrent_consumers_exactly_one_wins(store: Any) -> None:
    token, _, _, used = keys_for()
    start = threading.Barrier(20)
    wins: list[bool] = []

    def race() -> None:
        start.wait()
        wins.append(store.lookup([token], consume=(used, 60))[1])

    threads = [threading.Thread(target=race) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 19 + [True]


def test_identities_do_not_share_keys(store: Any) -> None:
    _, _, alice, _ = keys_for("alice")
    _, _, bob, _ = keys_for("bob")
    store.put(alice, "g1", 60)
    assert store.lookup([alice, bob])[0] == ["g1", None]


def test_memory_store_stays_bounded_and_never_forgets_a_live_revocation() -> None:
    clock = [1000.0]
    store = MemoryStore(max_entries=50, clock=lambda: clock[0])
    for i in range(50):
        store.put(f"k{i}", "1", 60 + i)
    with pytest.raises(MemoryStoreFull):
        store.put("one-too-many", "1", 60)
    with pytest.raises(MemoryStoreFull):
        store.lookup([], consume=("used", 60))
    assert len(store) == 50 and store.lookup(["k0", "k49"])[0] == ["1", "1"]
    store.put("k0", "2", 60)  # an existing key can still be rewritten
    clock[0] += 61  # k0..k1 expire: room again
    store.put("after-expiry", "1", 60)
    assert store.lookup(["k0", "after-expiry"])[0] == [None, "1"]
