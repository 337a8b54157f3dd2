"""The Redis store: one server (``redis://``, ``rediss://``) or a Redis Cluster (``redis+cluster://``).

Plain commands only (``MGET``, ``SET ... NX PX`` and one Lua script), so any recent Redis
and Valkey serve it (the tests run Redis 7). Nothing here imports Flask.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import TypeAlias
from urllib.parse import unquote

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.commands.core import Script
from redis.crc import key_slot
from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError
from redis.retry import Retry

from ..exceptions import ConfigurationError

#: A client the store can use.
Client: TypeAlias = redis.Redis | RedisCluster

#: ``KEYS[1..n-1]``: read; ``KEYS[n]``: set to ``"1"`` unless present, for ``ARGV[1]``
#: milliseconds (``""``: no expiry). Returns the values read, and 1 when ``KEYS[n]`` was set.
CONSUME_SCRIPT = """
local n = #KEYS
local values = {}
if n > 1 then values = redis.call('MGET', unpack(KEYS, 1, n - 1)) end
local set
if ARGV[1] == '' then
  set = redis.call('SET', KEYS[n], '1', 'NX')
else
  set = redis.call('SET', KEYS[n], '1', 'NX', 'PX', ARGV[1])
end
if set then return {values, 1} end
return {values, 0}
"""

#: Errors after which a connection is dropped, so that the next call opens a new one.
#: ``READONLY``: the connection reached a server that was demoted to a replica (a failover
#: behind one address); a new connection finds the new primary.
DROP_CONNECTION_ON = (ConnectionError, TimeoutError, OSError, ReadOnlyError)


def no_retry() -> Retry:
    """A retry policy of no retries: a failed call raises at once, the next call reconnects.

    By default redis-py 6 and later retry three times with an exponential backoff of
    up to 10 s, which holds a request for seconds when the server is down.
    """
    return Retry(NoBackoff(), 0, DROP_CONNECTION_ON)


def milliseconds(ttl: float) -> int:
    """``ttl`` seconds as whole milliseconds, rounded up and at least 1."""
    return max(1, math.ceil(ttl * 1000))


def as_text(value: object) -> str | None:
    """A value as Redis returned it (bytes, or str with ``decode_responses``), as text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def cluster_nodes(url: str) -> tuple[list[tuple[str, int]], str | None, str | None]:
    """The startup nodes, user name and password of a ``redis+cluster://`` URL.

    :param url: ``redis+cluster://[user:password@]host[:port][,host[:port]]``; the port defaults to 6379.
    :returns: ``([(host, port), ...], user name or None, password or None)``.

    :raises ConfigurationError: no host, a bad port, or a path or query (which would be ignored).
    """
    rest = url.partition("://")[2]
    netloc, _, tail = rest.partition("/")
    if tail not in ("", "0") or "?" in rest or "#" in rest:
        raise ConfigurationError(
            f"JWT_REVOCATION_STORE: a redis+cluster:// URL takes only [user:password@]host:port[,host:port], "
            f"not {url!r}"
        )
    userinfo, at, hosts = netloc.rpartition("@")
    username, colon, password = userinfo.partition(":")
    nodes = []
    for item in hosts.split(","):
        if item.endswith("]") or ":" not in item:  # no port; "]" ends an IPv6 address
            host, port = item, "6379"
        else:
            host, _, port = item.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit():
            raise ConfigurationError(f"JWT_REVOCATION_STORE: bad node {item!r} in {url!r}")
        nodes.append((host, int(port)))
    return nodes, unquote(username) or None, unquote(password) if at and colon else None


def read(client: Client, keys: Sequence[str]) -> list[object]:
    """The values of ``keys``: one ``MGET``, or on a cluster one per slot the keys span.

    The store's keys of one call share a slot; several slots cost a round trip each.
    """
    if isinstance(client, RedisCluster):
        by_slot: dict[int, list[str]] = {}
        for key in keys:
            by_slot.setdefault(key_slot(key.encode()), []).append(key)
        if len(by_slot) > 1:
            found: dict[str, object] = {}
            for group in by_slot.values():
                found.update(zip(group, client.mget(group), strict=True))
            return [found[key] for key in keys]
    return list(client.mget(list(keys)))


class RedisStore:
    """Revocations in Redis: each call is one round trip, a consume is atomic.

    A read is one ``MGET``; a read with a consume is one Lua script (``EVALSHA``).
    Every key of one call carries the same hash tag, so on a cluster they are
    served by one node. Errors are redis-py's (:class:`~redis.exceptions.ConnectionError`,
    :class:`~redis.exceptions.TimeoutError`, ...), raised as they come.

    :param client: a :class:`redis.Redis` or :class:`redis.cluster.RedisCluster`, or a
        function that makes one. A function is called on first use, and again on the next
        call if it raised: a cluster client contacts the cluster when it is made, and the
        application should start while the cluster is down.
    """

    def __init__(self, client: Client | Callable[[], Client]) -> None:
        self._connect = client if callable(client) else lambda: client
        self._ready: tuple[Client, Script] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, timeout: float) -> RedisStore:
        """The store for a ``redis://``, ``rediss://`` or ``redis+cluster://`` URL.

        Connecting and every answer are bounded by ``timeout``, and nothing is retried:
        an unreachable or silent server raises within ``timeout``. A broken connection is
        dropped, and the next call connects again, so the store works again as soon as
        the server does, without a health-check ``PING`` before commands.

        :param url: ``redis://[user:password@]host:port/db`` (redis-py's URL, with its
            query options, which take precedence), ``rediss://`` for TLS, or
            ``redis+cluster://[user:password@]host:port[,host:port]`` for a cluster.
        :param timeout: seconds to connect, and to wait for each answer.
        :raises ConfigurationError: a malformed ``redis+cluster://`` URL.
        """
        if url.partition("://")[0].lower() == "redis+cluster":
            nodes, username, password = cluster_nodes(url)

            def connect() -> RedisCluster:  # reads the slot map from the cluster
                return RedisCluster(
                    startup_nodes=[ClusterNode(*node) for node in nodes],  # type: ignore[no-untyped-call]
                    username=username,
                    password=password,
                    retry=no_retry(),
                    socket_timeout=timeout,
                    socket_connect_timeout=timeout,
                    health_check_interval=0,
                )

            return cls(connect)
        return cls(
            redis.Redis.from_url(
                url,
                retry=no_retry(),
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                health_check_interval=0,
            )
        )

    def _client(self) -> tuple[Client, Script]:
        ready = self._ready
        if ready is None:
            with self._lock:
                ready = self._ready
                if ready is None:
                    client = self._connect()
                    ready = self._ready = (client, client.register_script(CONSUME_SCRIPT))
        return ready

    def lookup(
        self, keys: Sequence[str], consume: tuple[str, float | None] | None = None
    ) -> tuple[list[str | None], bool]:
        """See :meth:`flask_jwt_guard.typing.RevocationStore.lookup`."""
        client, consume_script = self._client()
        if consume is None:
            if not keys:
                return [], False
            return [as_text(value) for value in read(client, keys)], False
        key, ttl = consume
        px = "" if ttl is None else milliseconds(ttl)
        values, consumed = consume_script(keys=[*keys, key], args=[px])
        return [as_text(value) for value in values], consumed == 1

    def put(self, key: str, value: str, ttl: float | None) -> None:
        """See :meth:`flask_jwt_guard.typing.RevocationStore.put`."""
        client, _ = self._client()
        client.set(key, value, px=None if ttl is None else milliseconds(ttl))

    def close(self) -> None:
        """Close the client's connections; the store is not used afterwards."""
        if self._ready is not None:
            self._ready[0].close()
