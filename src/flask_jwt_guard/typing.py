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
    "TokenPredicate",
    "UserLookupCallback",
]
