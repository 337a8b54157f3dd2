"""Revocation stores: where revoked tokens, sessions and identities are kept.

Every store implements :class:`~flask_jwt_guard.typing.RevocationStore` (``lookup``
and ``put``). :func:`open_store` turns a ``JWT_REVOCATION_STORE`` value into one:
``"memory"``, a ``redis://``/``rediss://``/``redis+cluster://`` URL, a SQLAlchemy URL
(``sqlite:///...``, ``postgresql://...``), or an object that already is a store.
The Redis and SQL backends are optional extras, imported only when used.
Nothing here imports Flask.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from ..exceptions import ConfigurationError
from ..typing import RevocationStore
from .memory import MemoryStore

REDIS_SCHEMES = ("redis", "rediss", "redis+cluster")


def is_store(value: Any) -> bool:
    """Whether ``value`` implements the store protocol (``lookup`` and ``put``)."""
    return callable(getattr(value, "lookup", None)) and callable(getattr(value, "put", None))


def scheme_of(spec: str) -> str:
    """The URL scheme of a store spec, ``"memory"`` for ``"memory"``.

    :raises ConfigurationError: neither ``"memory"`` nor ``scheme://...``.
    """
    if spec == "memory":
        return spec
    scheme, sep, rest = spec.partition("://")
    if not sep or not scheme or not rest.strip("/") and not scheme.startswith("sqlite"):
        raise ConfigurationError(
            'JWT_REVOCATION_STORE must be "memory", a redis:// or SQLAlchemy URL, or a store object, '
            f"not {spec!r}"
        )
    return scheme.lower()


def open_store(spec: Any, timeout: float, clock: Callable[[], float] = time.time) -> RevocationStore:
    """The store for a ``JWT_REVOCATION_STORE`` value.

    :param timeout: seconds a network store may take to connect or answer.
    :param clock: "now" for the memory store's expiries (the app's clock, so tests can move it).
    :raises ConfigurationError: an unknown spec, or the extra it needs is not installed.
    """
    if not isinstance(spec, str):
        if is_store(spec):
            store: RevocationStore = spec
            return store
        raise ConfigurationError(
            f"JWT_REVOCATION_STORE must be a URL or an object with lookup() and put(), not {spec!r}"
        )
    scheme = scheme_of(spec)
    if scheme == "memory":
        return MemoryStore(clock=clock)
    try:
        if scheme in REDIS_SCHEMES:
            from .redis import RedisStore

            return RedisStore.from_url(spec, timeout=timeout)
        from .sql import SQLStore

        return SQLStore.from_url(spec, timeout=timeout)
    except ImportError as err:
        extra = "redis" if scheme in REDIS_SCHEMES else "sql"
        raise ConfigurationError(
            f"JWT_REVOCATION_STORE {scheme}:// needs the [{extra}] extra: "
            f"pip install 'flask-jwt-guard[{extra}]' ({err})"
        ) from err


_TAGS: dict[tuple[type, Any], str] = {}
_TAGS_KEPT = 4096


def identity_tag(identity: Any) -> str:
    """A short, fixed-length tag for an identity (any JSON value), used as a hash tag in keys.

    Every key one request reads carries its token's identity tag between braces,
    so that on Redis Cluster they all land in one slot. Tags of string and integer
    identities are remembered (a bounded memo of a pure function): every request pays for one.
    """
    memo = (type(identity), identity) if isinstance(identity, str | int) else None
    if memo is not None:
        tag = _TAGS.get(memo)
        if tag is not None:
            return tag
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    tag = hashlib.sha256(text.encode()).hexdigest()[:16]
    if memo is not None:
        if len(_TAGS) >= _TAGS_KEPT:
            _TAGS.clear()
        _TAGS[memo] = tag
    return tag


def token_key(prefix: str, tag: str, jti: str) -> str:
    """The key that revokes one token."""
    return f"{prefix}{{{tag}}}:t:{jti}"


def session_key(prefix: str, tag: str, sid: str) -> str:
    """The key that revokes a whole session (every token with that ``sid``)."""
    return f"{prefix}{{{tag}}}:s:{sid}"


def identity_key(prefix: str, tag: str) -> str:
    """The key holding an identity's current generation (set by ``revoke_all_tokens``)."""
    return f"{prefix}{{{tag}}}:g"


def used_key(prefix: str, tag: str, jti: str) -> str:
    """The key that marks a refresh token as used (rotation)."""
    return f"{prefix}{{{tag}}}:u:{jti}"


__all__ = ["MemoryStore", "identity_tag", "open_store"]
