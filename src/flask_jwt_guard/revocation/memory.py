"""The in-memory store: one process, bounded, for development, tests and single-process apps."""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Sequence


class MemoryStoreFull(RuntimeError):
    """The memory store is full of live revocations; it refuses to forget any."""


class MemoryStore:
    """Revocations in a dict, each with its expiry; a lock makes ``consume`` atomic.

    Expired entries are dropped as writes come in. A live revocation is never
    dropped: when ``max_entries`` live entries are held, a write raises
    :class:`MemoryStoreFull` (the request gets ``503``) rather than forget one.

    :param max_entries: the bound on live entries.
    :param clock: where "now" comes from (seconds, like :func:`time.time`).
    """

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._values: dict[str, tuple[str, float]] = {}  # key -> (value, expires at)
        self._expiries: list[tuple[float, str]] = []  # heap of (expires at, key); may hold stale rows
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def _get(self, key: str, now: float) -> str | None:
        entry = self._values.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def _set(self, key: str, value: str, ttl: float | None, now: float) -> None:
        self._prune(now)
        if key not in self._values and len(self._values) >= self.max_entries:
            raise MemoryStoreFull(f"The memory store holds {self.max_entries} live revocations")
        expires = now + ttl if ttl is not None else float("inf")
        self._values[key] = (value, expires)
        heapq.heappush(self._expiries, (expires, key))

    def _prune(self, now: float) -> None:
        heap, values = self._expiries, self._values
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            entry = values.get(key)
            if entry is not None and entry[1] == expires:
                del values[key]
        if len(heap) > 2 * self.max_entries + 16:  # stale rows from overwritten keys
            self._expiries = [(e[1], k) for k, e in values.items()]
            heapq.heapify(self._expiries)

    def lookup(
        self, keys: Sequence[str], consume: tuple[str, float | None] | None = None
    ) -> tuple[list[str | None], bool]:
        """See :meth:`flask_jwt_guard.typing.RevocationStore.lookup`."""
        now = self.clock()
        if consume is None:  # the hot path: no lock, no method call per key
            found = self._values
            values: list[str | None] = []
            for key in keys:
                entry = found.get(key)
                values.append(entry[0] if entry is not None and entry[1] > now else None)
            return values, False
        with self._lock:
            values = [self._get(key, now) for key in keys]
            key, ttl = consume
            if self._get(key, now) is not None:
                return values, False
            self._set(key, "1", ttl, now)
            return values, True

    def put(self, key: str, value: str, ttl: float | None) -> None:
        """See :meth:`flask_jwt_guard.typing.RevocationStore.put`."""
        with self._lock:
            self._set(key, value, ttl, self.clock())
