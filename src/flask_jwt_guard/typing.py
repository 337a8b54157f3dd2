"""Type aliases and callback signatures, for the package and for its users.

Also the compatibility path ``flask_jwt_extended.typing``: ``ExpiresDelta`` and
``Fresh`` keep their names here. Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal, Protocol, TypeAlias

#: A token's JOSE header, as decoded.
JWTHeader: TypeAlias = dict[str, Any]
#: A token's claims, as decoded.
JWTData: TypeAlias = dict[str, Any]

#: A token lifetime: a timedelta, a number of seconds, or ``False`` for "never expires".
ExpiresDelta: TypeAlias = Literal[False] | timedelta | int
#: ``True``/``False``, how long the token stays fresh, or the UNIX time until which it is.
Fresh: TypeAlias = bool | float | timedelta
#: Where to look for a token: a location name, several, or ``None`` for ``JWT_TOKEN_LOCATION``.
LocationType: TypeAlias = str | Sequence[str] | None


class Clock(Protocol):
    """Where the library reads "now": seconds since the epoch, like :func:`time.time`."""

    def __call__(self) -> float: ...


#: ``(jwt_header, jwt_data) -> bool``: ``token_in_blocklist_loader``, ``token_verification_loader``.
TokenPredicate: TypeAlias = Callable[[JWTHeader, JWTData], bool]
#: ``(identity) -> claims or headers``: ``additional_claims_loader``, ``additional_headers_loader``.
IdentityMappingCallback: TypeAlias = Callable[[Any], Mapping[str, Any]]
#: ``(identity) -> JSON-serializable identity``: ``user_identity_loader``.
IdentityCallback: TypeAlias = Callable[[Any], Any]
#: ``(jwt_header, jwt_data) -> key``: ``decode_key_loader`` (it sees copies of the unverified token).
DecodeKeyCallback: TypeAlias = Callable[[JWTHeader, JWTData], Any]
#: ``(identity) -> key``: ``encode_key_loader``.
EncodeKeyCallback: TypeAlias = Callable[[Any], Any]
#: ``(jwt_header, jwt_data) -> user or None``: ``user_lookup_loader``.
UserLookupCallback: TypeAlias = Callable[[JWTHeader, JWTData], Any]


class RevocationStore(Protocol):
    """Where revocations live: a small key-value store with expiry, shared by every process.

    Flask-JWT-Guard decides the keys and values; a store only keeps them. Keys of
    one :meth:`lookup` share a Redis Cluster hash tag (``{...}``), so they land in
    one slot. A store may raise any exception when it cannot answer: the request
    then gets ``503`` (or passes, with ``JWT_REVOCATION_FAIL_OPEN``).
    """

    def lookup(
        self, keys: Sequence[str], consume: tuple[str, float | None] | None = None
    ) -> tuple[list[str | None], bool]:
        """Read ``keys`` in one round trip; optionally consume a key, atomically.

        :param keys: the keys to read.
        :param consume: ``(key, ttl)``: set ``key`` (for ``ttl`` seconds, or forever
            with ``None``) only if it is absent, atomically with respect to every
            other process sharing the store.
        :returns: each key's value (``None`` when absent or expired), and whether
            this call set the ``consume`` key (``False`` without one).
        """
        ...

    def put(self, key: str, value: str, ttl: float | None) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``None``: forever)."""
        ...


__all__ = [
    "Clock",
    "DecodeKeyCallback",
    "EncodeKeyCallback",
    "ExpiresDelta",
    "Fresh",
    "IdentityCallback",
    "IdentityMappingCallback",
    "JWTData",
    "JWTHeader",
    "LocationType",
    "RevocationStore",
    "TokenPredicate",
    "UserLookupCallback",
]
