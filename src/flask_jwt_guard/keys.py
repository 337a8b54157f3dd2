"""Keys prepared once: :class:`Key` signs and verifies, :class:`KeySet` finds a key by ``kid``.

Preparing a key (parsing a PEM, checking that an HMAC secret is not a public
key in disguise) is the slow part of using one, so a :class:`Key` does it once
per algorithm and keeps the result. :class:`KeyCache` does the same for the raw
keys that ``encode_key_loader``/``decode_key_loader`` return on every call.

Nothing here imports Flask.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from .exceptions import UnusableKeyError

_ALGORITHMS = get_default_algorithms()
#: Algorithms this library can sign and verify with (``none`` is never one of them).
SUPPORTED_ALGORITHMS = frozenset(name for name in _ALGORITHMS if name != "none")
HMAC_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}


def is_hmac(algorithm: str) -> bool:
    """Whether ``algorithm`` is a shared-secret (HMAC) algorithm."""
    return algorithm in HMAC_DIGESTS


class Key:
    """One key: a secret, a PEM string, or a ``cryptography`` key object.

    :param material: the key as configured.
    :param algorithm: when set, the only algorithm this key may be used with
        (as a JWK's ``alg`` pins it); otherwise the caller's allow-list decides.
    :param kid: the key id that goes into the header of tokens it signs.
    :raises UnusableKeyError: ``algorithm`` is given and the key does not fit it.
    """

    __slots__ = ("_prepared", "algorithm", "kid", "material")

    def __init__(self, material: Any, algorithm: str | None = None, kid: str | None = None) -> None:
        self.material = material
        self.algorithm = algorithm
        self.kid = kid
        self._prepared: dict[str, Any] = {}
        if algorithm is not None:
            self.prepared(algorithm)

    def __repr__(self) -> str:  # never shows the material
        return f"Key(algorithm={self.algorithm!r}, kid={self.kid!r})"

    def prepared(self, algorithm: str) -> Any:
        """The key in the form ``algorithm`` works with, prepared on first use.

        :raises UnusableKeyError: the algorithm is not supported, not this key's,
            or the key does not fit it (key confusion is refused here).
        """
        hit = self._prepared.get(algorithm)
        if hit is not None:
            return hit
        if algorithm not in SUPPORTED_ALGORITHMS:
            raise UnusableKeyError(f"Algorithm {algorithm!r} is not supported")
        if self.algorithm is not None and algorithm != self.algorithm:
            raise UnusableKeyError(f"This key is for {self.algorithm}, not {algorithm}")
        try:
            prepared = _ALGORITHMS[algorithm].prepare_key(self.material)
        except (InvalidKeyError, ValueError, TypeError) as err:
            raise UnusableKeyError(f"The key cannot be used with {algorithm}: {err}") from err
        self._prepared[algorithm] = prepared
        return prepared

    def sign(self, algorithm: str, signing_input: bytes) -> bytes:
        """The signature of ``signing_input``."""
        prepared = self.prepared(algorithm)
        digest = HMAC_DIGESTS.get(algorithm)
        if digest is not None:
            return hmac.digest(prepared, signing_input, digest)
        signature: bytes = _ALGORITHMS[algorithm].sign(signing_input, prepared)
        return signature

    def verify(self, algorithm: str, signing_input: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``signing_input`` (constant time for HMAC)."""
        prepared = self.prepared(algorithm)
        digest = HMAC_DIGESTS.get(algorithm)
        if digest is not None:
            return hmac.compare_digest(hmac.digest(prepared, signing_input, digest), signature)
        return bool(_ALGORITHMS[algorithm].verify(signing_input, prepared, signature))


class KeySet:
    """Keys looked up by ``kid``; the first one signs, all of them verify.

    :param keys: every key has a distinct ``kid``.
    :raises UnusableKeyError: no keys, a key without ``kid``, or a ``kid`` used twice.
    """

    __slots__ = ("by_kid", "keys")

    def __init__(self, keys: Iterable[Key]) -> None:
        self.keys = tuple(keys)
        if not self.keys:
            raise UnusableKeyError("A key set needs at least one key")
        self.by_kid: dict[str, Key] = {}
        for key in self.keys:
            if not key.kid:
                raise UnusableKeyError("Every key in a key set needs a kid")
            if key.kid in self.by_kid:
                raise UnusableKeyError(f"kid {key.kid!r} is used by more than one key")
            self.by_kid[key.kid] = key

    @property
    def signing_key(self) -> Key:
        """The key that signs new tokens."""
        return self.keys[0]

    def get(self, kid: Any) -> Key | None:
        """The key with this ``kid``, or ``None``."""
        return self.by_kid.get(kid) if isinstance(kid, str) else None


class KeyCache:
    """:class:`Key` objects for raw keys that callbacks return again and again.

    Strings and bytes (secrets, PEM text) are kept, at most ``size`` of them;
    key objects are wrapped each time (preparing one is only a type check).
    """

    __slots__ = ("_keys", "_size")

    def __init__(self, size: int = 64) -> None:
        self._keys: dict[str | bytes, Key] = {}
        self._size = size

    def get(self, material: Any) -> Key:
        """The prepared-once :class:`Key` for ``material``."""
        if isinstance(material, Key):
            return material
        if not isinstance(material, str | bytes):
            return Key(material)
        key = self._keys.get(material)
        if key is None:
            if len(self._keys) >= self._size:
                self._keys.clear()
            key = self._keys[material] = Key(material)
        return key
