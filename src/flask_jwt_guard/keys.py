"""Keys prepared once: :class:`Key` signs and verifies, :class:`KeySet` finds a key by ``kid``.

Preparing a key (parsing a PEM, checking that an HMAC secret is not a public
key in disguise) is the slow part of using one, so a :class:`Key` does it once
per algorithm and keeps the result. :class:`KeyCache` does the same for the raw
keys that ``encode_key_loader``/``decode_key_loader`` return on every call.

Nothing here imports Flask.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jwt.algorithms import get_default_algorithms
from jwt.api_jwk import PyJWK
from jwt.exceptions import InvalidKeyError, PyJWKError

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

    __slots__ = ("_prepared", "_verifiers", "algorithm", "kid", "material")

    def __init__(self, material: Any, algorithm: str | None = None, kid: str | None = None) -> None:
        self.material = material
        self.algorithm = algorithm
        self.kid = kid
        self._prepared: dict[str, Any] = {}
        self._verifiers: dict[str, Any] = {}  # what verifies, per algorithm: a private key's public half
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
        digest = HMAC_DIGESTS.get(algorithm)
        if digest is not None:
            return hmac.compare_digest(
                hmac.digest(self.prepared(algorithm), signing_input, digest), signature
            )
        verifier = self._verifiers.get(algorithm)
        if verifier is None:
            prepared = self.prepared(algorithm)
            # A private key (a key set) verifies with its public half.
            verifier = prepared.public_key() if hasattr(prepared, "private_bytes") else prepared
            self._verifiers[algorithm] = verifier
        return bool(_ALGORITHMS[algorithm].verify(signing_input, verifier, signature))


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


# --------------------------------------------------------------------------- JWK


#: The algorithm a JWK without ``alg`` is used with, by key type and curve.
_DEFAULT_ALG = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("EC", "P-384"): "ES384",
    ("EC", "P-521"): "ES512",
    ("OKP", "Ed25519"): "EdDSA",
}
#: JWK members that only private keys have; a public JWK Set never carries them.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def key_from_jwk(jwk: Mapping[str, Any], *, require_alg: bool = True, public_only: bool = False) -> Key:
    """A :class:`Key` pinned to its JWK's ``alg``, with its ``kid``.

    :param require_alg: refuse a JWK without ``alg`` (our own key sets); otherwise
        (a provider's public set) the algorithm follows from ``kty``/``crv``.
    :param public_only: refuse a JWK with private members (a remote set must not have them).
    :raises UnusableKeyError: a malformed JWK, an unsupported or missing ``alg``, a missing ``kid``.
    """
    if not isinstance(jwk, Mapping):
        raise UnusableKeyError("A JWK must be a JSON object")
    kid, alg = jwk.get("kid"), jwk.get("alg")
    if not isinstance(kid, str) or not kid:
        raise UnusableKeyError("Every JWK needs a kid")
    if public_only and PRIVATE_MEMBERS & set(jwk):
        raise UnusableKeyError(f"JWK {kid!r} has private members")
    if alg is None and not require_alg:
        kty, crv = str(jwk.get("kty")), jwk.get("crv")
        alg = _DEFAULT_ALG.get((kty, None if kty == "RSA" else str(crv)))
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGORITHMS:
        raise UnusableKeyError(f"JWK {kid!r} needs a supported alg, not {alg!r}")
    try:
        material = PyJWK(dict(jwk), algorithm=alg).key
    except (PyJWKError, InvalidKeyError, ValueError, TypeError, KeyError) as err:
        raise UnusableKeyError(f"JWK {kid!r} cannot be used: {err}") from err
    return Key(material, algorithm=alg, kid=kid)


def public_jwk(key: Key) -> dict[str, Any] | None:
    """The public JWK of ``key`` (``kid``, ``alg``, ``use``), or ``None`` for a shared secret."""
    if key.algorithm is None or is_hmac(key.algorithm):
        return None
    material = key.material
    public = material.public_key() if hasattr(material, "private_bytes") else material
    jwk = _ALGORITHMS[key.algorithm].to_jwk(public, as_dict=True)
    members = {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}
    members.update(kid=key.kid, alg=key.algorithm, use="sig")
    return members


def load_key_set(value: Any) -> KeySet:
    """A :class:`KeySet` from a JWK Set: a dict, a JSON string, or the path of a JSON file.

    Every key needs ``kid`` and ``alg``; the first one signs.

    :raises UnusableKeyError: saying what is wrong.
    """
    if isinstance(value, str | os.PathLike) and not str(value).lstrip().startswith("{"):
        try:
            value = Path(value).read_text(encoding="utf-8")
        except OSError as err:
            raise UnusableKeyError(f"Cannot read the key set file: {err}") from err
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as err:
            raise UnusableKeyError(f"The key set is not JSON: {err}") from err
    if not isinstance(value, Mapping) or not isinstance(value.get("keys"), list):
        raise UnusableKeyError('A JWK Set is an object with a "keys" list')
    return KeySet(key_from_jwk(jwk) for jwk in value["keys"])


#: Algorithms ``generate_jwk`` makes keys for.
GENERATED_ALGORITHMS = (
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
)


def generate_jwk(algorithm: str, kid: str | None = None) -> dict[str, Any]:
    """A new private JWK for ``algorithm`` (RSA keys are 3072 bits), with ``kid``, ``alg`` and ``use``.

    :param kid: the key id; by default the key's RFC 7638 thumbprint.
    :raises UnusableKeyError: an algorithm this cannot generate (HS*: use a random secret).
    """
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if algorithm not in GENERATED_ALGORITHMS:
        raise UnusableKeyError(
            f"Cannot generate a key for {algorithm!r}; choose one of {GENERATED_ALGORITHMS}"
        )
    private: Any
    if algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    elif algorithm.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[algorithm]
        private = ec.generate_private_key(curve)
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    jwk: dict[str, Any] = _ALGORITHMS[algorithm].to_jwk(private, as_dict=True)
    jwk.update(kid=kid or thumbprint(jwk), alg=algorithm, use="sig")
    return jwk


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK (of its public members), base64url."""
    required = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    members = required.get(str(jwk.get("kty")))
    if members is None:
        raise UnusableKeyError(f"No thumbprint for key type {jwk.get('kty')!r}")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def public_key_set(value: Any) -> dict[str, Any]:
    """The public JWK Set of a private one (a dict, JSON text or file path): what a verifier needs."""
    key_set = load_key_set(value)
    return {"keys": [jwk for jwk in (public_jwk(key) for key in key_set.keys) if jwk is not None]}
