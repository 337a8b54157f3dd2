"""Encoding and decoding JSON Web Tokens: pure functions of options and keys.

Nothing here touches Flask. Decoding is strict (RFC 8725): canonical
base64url only, no duplicate JSON members, no NaN/Infinity, an explicit
algorithm allow-list, ``none`` never accepted. It accepts a subset of what
PyJWT accepts with the same key and options (a differential test holds it to
that) and raises PyJWT's error classes with PyJWT's messages, so behaviour and
error texts match Flask-JWT-Extended.

HMAC tokens are verified here with :func:`hmac.digest`; other algorithms use
PyJWT's algorithm objects with keys prepared once and cached.
"""

from __future__ import annotations

import base64
import hmac
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from .csrf import csrf_matches, new_csrf_token
from .exceptions import (
    CSRFError,
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidSignatureError,
    InvalidSubjectError,
    InvalidTokenError,
    JWTDecodeError,
    MissingRequiredClaimError,
    TokenTooLargeError,
)

JSONDefault = Callable[[Any], Any]

_HMAC_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
_ALGORITHMS = get_default_algorithms()
#: Algorithms this library can sign and verify with (``none`` is never one of them).
SUPPORTED_ALGORITHMS = frozenset(name for name in _ALGORITHMS if name != "none")
#: Extensions listed in ``crit`` that we understand: none.
_SUPPORTED_CRIT: frozenset[str] = frozenset()

_COMPACT = re.compile(r"([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)")
_B64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# The last character of a segment whose length is 2 or 3 (mod 4) carries bits
# that must be zero in canonical base64url.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


class DecodeOptions(NamedTuple):
    """What a decode checks; built once from the settings.

    :param algorithms: the allow-list for the ``alg`` header.
    :param audience: expected ``aud`` (``None``: not checked).
    :param issuer: expected ``iss`` (``None``: not checked).
    :param leeway: seconds of clock skew allowed on ``exp``, ``nbf``, ``iat``.
    :param verify_sub: require ``sub`` to be a string when present.
    :param identity_claim: the claim that must be present.
    :param max_size: tokens longer than this are refused unparsed.
    :param require_type: require the ``type`` claim (strict mode).
    """

    algorithms: frozenset[str]
    audience: str | tuple[str, ...] | None = None
    issuer: str | tuple[str, ...] | None = None
    leeway: float = 0
    verify_sub: bool = True
    identity_claim: str = "sub"
    max_size: int = 16384
    require_type: bool = False


@dataclass(frozen=True, slots=True)
class UnverifiedToken:
    """A token split and parsed, its signature not yet checked."""

    header: dict[str, Any]
    payload_segment: str
    signing_input: bytes
    signature: bytes


# --------------------------------------------------------------------------- parsing


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"Number out of range: {text[:32]}")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("Duplicate member name in JSON object")
    return obj


_json_decoder = json.JSONDecoder(object_pairs_hook=_unique_object, parse_constant=_reject_constant)


def _load_json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = _json_decoder.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise DecodeError(f"Invalid {what} string: {err}") from err
    if not isinstance(value, dict):
        raise DecodeError(f"Invalid {what} string: must be a json object")
    return value


def _b64decode(segment: str, name: str) -> bytes:
    rem = len(segment) % 4
    if rem == 1 or (rem and segment[-1] not in _CANONICAL_LAST[rem]):
        raise DecodeError(f"Invalid {name} padding")
    return base64.urlsafe_b64decode(segment + "==="[: (4 - rem) % 4])


def _describe_malformed(token: str) -> DecodeError:
    """The PyJWT-style message for a token that is not compact JWS."""
    raw = token.encode("utf-8", "surrogatepass")
    signing_input, dot, crypto = raw.rpartition(b".")
    header, dot2, payload = signing_input.partition(b".")
    if not dot or not dot2:
        return DecodeError("Not enough segments")
    for name, segment in (("header", header), ("payload", payload), ("crypto", crypto)):
        if not _B64_ALPHABET.issuperset(segment):
            return DecodeError(f"Invalid {name} padding")
    return DecodeError("Invalid token")


def parse(token: str, max_size: int = 16384) -> UnverifiedToken:
    """Split a compact JWS and parse its header; nothing is verified.

    :param token: the encoded token.
    :param max_size: longer tokens are refused before any parsing.
    :raises DecodeError: on anything that is not canonical compact JWS.
    """
    if not isinstance(token, str):
        if isinstance(token, bytes):
            token = token.decode("ascii", "replace")
        else:
            raise DecodeError(f"Invalid token type. Token must be a {bytes}")
    if len(token) > max_size:
        raise TokenTooLargeError(f"Token is larger than the limit of {max_size} bytes")
    match = _COMPACT.fullmatch(token)
    if match is None:
        raise _describe_malformed(token)
    header_seg, payload_seg, crypto_seg = match.groups()
    cached = _header_cache.get(header_seg)
    if cached is not None:
        header = dict(cached)
    else:
        header = _parse_header(header_seg)
    return UnverifiedToken(
        header=header,
        payload_segment=payload_seg,
        signing_input=token[: match.end(2)].encode("ascii"),
        signature=_b64decode(crypto_seg, "crypto"),
    )


# An app's tokens share a handful of header segments; their parsed, checked
# form is kept here. Only flat headers are cached (callers get a shallow copy),
# and the cache is bounded so that hostile headers cannot grow it.
_header_cache: dict[str, dict[str, Any]] = {}
_HEADER_CACHE_MAX = 64
_SCALARS = (str, int, float, bool, type(None))


def _parse_header(segment: str) -> dict[str, Any]:
    header = _load_json_object(_b64decode(segment, "header"), "header")
    if "kid" in header and not isinstance(header["kid"], str):
        raise InvalidTokenError("Key ID header parameter must be a string")
    if "crit" in header:
        _check_crit(header["crit"])
    if header.get("b64", True) is not True:
        raise InvalidTokenError("Unencoded payloads (b64: false) are not accepted")
    if all(isinstance(value, _SCALARS) for value in header.values()):
        if len(_header_cache) >= _HEADER_CACHE_MAX:
            _header_cache.clear()
        _header_cache[segment] = dict(header)
    return header


def _check_crit(crit: Any) -> None:
    if not isinstance(crit, list) or not crit:
        raise InvalidTokenError("Invalid 'crit' header: must be a non-empty list")
    for ext in crit:
        if not isinstance(ext, str):
            raise InvalidTokenError("Invalid 'crit' header: values must be strings")
        if ext not in _SUPPORTED_CRIT:
            raise InvalidTokenError(f"Unsupported critical extension: {ext}")


def unverified_payload(parsed: UnverifiedToken) -> dict[str, Any]:
    """The claims of a parsed token, without verifying anything."""
    return _load_json_object(_b64decode(parsed.payload_segment, "payload"), "payload")


# --------------------------------------------------------------------------- keys

_prepared: dict[tuple[str, Any], tuple[Any, Any]] = {}
_PREPARED_MAX = 256


def _cache_id(key: Any) -> Any:
    return key if isinstance(key, str | bytes) else ("id", id(key))


def prepare_key(algorithm: str, key: Any) -> Any:
    """Prepare ``key`` for ``algorithm`` once; later calls hit a cache.

    :raises InvalidKeyError: for a key that does not fit the algorithm,
        e.g. a PEM public key offered as an HMAC secret (key confusion).
    """
    cache_key = (algorithm, _cache_id(key))
    hit = _prepared.get(cache_key)
    if hit is not None:
        return hit[0]
    alg = _ALGORITHMS[algorithm]
    try:
        prepared = alg.prepare_key(key)
    except (ValueError, TypeError) as err:
        raise InvalidKeyError(str(err)) from err
    if len(_prepared) >= _PREPARED_MAX:
        _prepared.clear()
    # The original key is kept alive beside its id so that the id stays unique.
    _prepared[cache_key] = (prepared, key)
    return prepared


# --------------------------------------------------------------------------- verifying


def verify_signature(parsed: UnverifiedToken, key: Any, algorithms: Iterable[str]) -> None:
    """Check ``alg`` against the allow-list and the signature against ``key``.

    :raises InvalidAlgorithmError: ``alg`` missing, not a string or not allowed.
    :raises InvalidSignatureError: the signature does not verify, or the key
        does not fit the algorithm.
    """
    try:
        alg = parsed.header["alg"]
    except KeyError:
        raise InvalidAlgorithmError("Algorithm not specified") from None
    if not isinstance(alg, str) or alg not in algorithms or alg not in SUPPORTED_ALGORITHMS:
        raise InvalidAlgorithmError("The specified alg value is not allowed")
    try:
        prepared = prepare_key(alg, key)
    except InvalidKeyError as err:
        raise InvalidSignatureError("Signature verification failed") from err
    digest = _HMAC_DIGESTS.get(alg)
    if digest is not None:
        expected = hmac.digest(prepared, parsed.signing_input, digest)
        ok = hmac.compare_digest(expected, parsed.signature)
    else:
        ok = _ALGORITHMS[alg].verify(parsed.signing_input, prepared, parsed.signature)
    if not ok:
        raise InvalidSignatureError("Signature verification failed")


def _numeric(claims: dict[str, Any], name: str, error: type[Exception], label: str) -> int:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise error(f"{label} must be an integer.")
    return int(value)


def validate_claims(
    claims: dict[str, Any],
    options: DecodeOptions,
    *,
    now: float | None = None,
    verify_exp: bool = True,
) -> None:
    """Check the registered claims the way PyJWT does, with PyJWT's messages."""
    if now is None:
        now = time.time()
    leeway = options.leeway
    if "iat" in claims:
        iat = _numeric(claims, "iat", InvalidIssuedAtError, "Issued At claim (iat)")
        if iat > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (iat)")
    if "nbf" in claims:
        nbf = _numeric(claims, "nbf", DecodeError, "Not Before claim (nbf)")
        if nbf > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (nbf)")
    if verify_exp and "exp" in claims:
        exp = _numeric(claims, "exp", DecodeError, "Expiration Time claim (exp)")
        if exp <= now - leeway:
            raise ExpiredSignatureError("Signature has expired")
    if options.issuer is not None:
        if "iss" not in claims:
            raise MissingRequiredClaimError("iss")
        if not isinstance(claims["iss"], str):
            raise InvalidIssuerError("Payload Issuer (iss) must be a string")
        issuers = (options.issuer,) if isinstance(options.issuer, str) else options.issuer
        if claims["iss"] not in issuers:
            raise InvalidIssuerError("Invalid issuer")
    if options.audience is not None:
        _validate_audience(claims, options.audience)
    if options.verify_sub and "sub" in claims and not isinstance(claims["sub"], str):
        raise InvalidSubjectError("Subject must be a string")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise InvalidJTIError("JWT ID must be a string")


def _validate_audience(claims: dict[str, Any], audience: str | tuple[str, ...]) -> None:
    aud = claims.get("aud")
    if not aud:
        raise MissingRequiredClaimError("aud")
    if isinstance(aud, str):
        aud = [aud]
    if not isinstance(aud, list) or any(not isinstance(item, str) for item in aud):
        raise InvalidAudienceError("Invalid claim format in token")
    wanted = (audience,) if isinstance(audience, str) else audience
    if all(item not in aud for item in wanted):
        raise InvalidAudienceError("Audience doesn't match")


def decode(
    token: str,
    key: Any,
    options: DecodeOptions,
    *,
    csrf_value: str | None = None,
    allow_expired: bool = False,
    now: float | None = None,
    parsed: UnverifiedToken | None = None,
    payload: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify ``token`` and return ``(header, claims)``.

    Claims the extension relies on get their defaults (``type`` "access",
    ``fresh`` False, ``jti`` None), as Flask-JWT-Extended does.

    :param token: the encoded token.
    :param key: the verification key (secret or public key).
    :param options: what to check.
    :param csrf_value: when given, must equal the token's ``csrf`` claim.
    :param allow_expired: skip the ``exp`` check.
    :param now: the current UNIX time (for tests); defaults to :func:`time.time`.
    :param parsed: the result of :func:`parse` for this token, if already made.
    :param payload: its :func:`unverified_payload`, if already made (trusted only
        once the signature verifies).
    :raises jwt.InvalidTokenError: (subclasses) for every way a token can be bad.
    :raises ExpiredSignatureError: carrying ``jwt_header`` and ``jwt_data``.
    :raises CSRFError: the CSRF values differ.
    """
    if parsed is None:
        parsed = parse(token, options.max_size)
    verify_signature(parsed, key, options.algorithms)
    if payload is None:
        payload = unverified_payload(parsed)
    claims = payload
    expired: ExpiredSignatureError | None = None
    try:
        validate_claims(claims, options, now=now, verify_exp=not allow_expired)
    except ExpiredSignatureError as err:
        # An expired token is reported as expired only if it passes every other
        # check (as Flask-JWT-Extended does): a forged CSRF value on an expired
        # cookie is a CSRF failure, never a call to expired_token_loader.
        expired = err
        validate_claims(claims, options, now=now, verify_exp=False)
    if options.identity_claim not in claims:
        raise JWTDecodeError(f"Missing claim: {options.identity_claim}")
    if options.require_type and "type" not in claims:
        raise JWTDecodeError("Missing claim: type")
    claims = _with_defaults(claims)
    if csrf_value:
        if "csrf" not in claims:
            raise JWTDecodeError("Missing claim: csrf")
        if not csrf_matches(claims["csrf"], csrf_value):
            raise CSRFError("CSRF double submit tokens do not match")
    if expired is not None:
        raise ExpiredSignatureError(str(expired), parsed.header, claims) from None
    return parsed.header, claims


def _with_defaults(claims: dict[str, Any]) -> dict[str, Any]:
    claims.setdefault("type", "access")
    claims.setdefault("fresh", False)
    claims.setdefault("jti", None)
    return claims


# --------------------------------------------------------------------------- encoding


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def build_claims(
    *,
    identity: Any,
    token_type: str,
    identity_claim: str = "sub",
    fresh: bool | float | timedelta = False,
    expires_delta: Any = None,
    audience: str | list[str] | tuple[str, ...] | None = None,
    issuer: str | None = None,
    encode_nbf: bool = True,
    csrf: bool = True,
    extra: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of a new token, before signing.

    :param fresh: ``True``/``False``, a :class:`~datetime.timedelta` for how
        long the token stays fresh, or a UNIX time until which it is fresh.
    :param expires_delta: lifetime, a timedelta or anything that adds to a
        datetime; ``None`` means no ``exp`` claim.
    :param csrf: add a random ``csrf`` claim for the double-submit check.
    :param extra: claims that override the defaults.
    """
    if now is None:
        now = time.time()
    issued = int(now)
    if isinstance(fresh, timedelta):
        fresh = now + fresh.total_seconds()
    claims: dict[str, Any] = {
        "fresh": fresh,
        "iat": issued,
        "jti": str(uuid.uuid4()),
        "type": token_type,
        identity_claim: identity,
    }
    if encode_nbf:
        claims["nbf"] = issued
    if csrf:
        claims["csrf"] = new_csrf_token()
    if audience:
        claims["aud"] = list(audience) if isinstance(audience, tuple) else audience
    if issuer:
        claims["iss"] = issuer
    if isinstance(expires_delta, timedelta):
        claims["exp"] = int(now + expires_delta.total_seconds())
    elif expires_delta is not None:  # e.g. dateutil's relativedelta
        claims["exp"] = int((datetime.fromtimestamp(now, UTC) + expires_delta).timestamp())
    if extra:
        claims.update(extra)
        for name in ("exp", "iat", "nbf"):
            if name in claims:
                claims[name] = _timestamp(claims[name])
    return claims


def encode(
    claims: Mapping[str, Any],
    key: Any,
    algorithm: str,
    *,
    headers: Mapping[str, Any] | None = None,
    json_default: JSONDefault | None = None,
) -> str:
    """Sign ``claims`` as a compact JWS.

    The configured ``algorithm`` always signs: an ``alg`` in ``headers`` is
    overwritten, never obeyed.
    """
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"Algorithm {algorithm!r} is not supported")
    header: dict[str, Any] = {"alg": algorithm, "typ": "JWT"}
    if headers:
        header.update(headers)
        header["alg"] = algorithm
        if not header.get("typ"):
            header.pop("typ", None)
    if "iss" in claims and not isinstance(claims["iss"], str):
        raise TypeError("Issuer (iss) must be a string.")
    header_json = json.dumps(header, separators=(",", ":"), sort_keys=True, default=json_default)
    payload_json = json.dumps(claims, separators=(",", ":"), default=json_default)
    signing_input = f"{_b64encode(header_json.encode())}.{_b64encode(payload_json.encode())}"
    prepared = prepare_key(algorithm, key)
    digest = _HMAC_DIGESTS.get(algorithm)
    raw = signing_input.encode("ascii")
    if digest is not None:
        signature = hmac.digest(prepared, raw, digest)
    else:
        signature = _ALGORITHMS[algorithm].sign(raw, prepared)
    return f"{signing_input}.{_b64encode(signature)}"
