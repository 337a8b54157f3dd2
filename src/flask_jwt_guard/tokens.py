"""Encoding and decoding JSON Web Tokens: pure functions of options and keys.

Nothing here touches Flask. Decoding is strict (RFC 8725): canonical
base64url only, no duplicate JSON members, no NaN/Infinity, an explicit
algorithm allow-list, ``none`` never accepted. It accepts a subset of what
PyJWT accepts with the same key and options (a differential test holds it to
that) and raises PyJWT's error classes with PyJWT's messages, so behaviour and
error texts match Flask-JWT-Extended.

Signatures are made and checked by :class:`~flask_jwt_guard.keys.Key` (HMAC
with :func:`hmac.digest`, other algorithms with PyJWT's algorithm objects and
keys prepared once). "Now" is always the caller's: every function that needs
the time takes it as ``now``.
"""

from __future__ import annotations

import base64
import calendar
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from .exceptions import (
    DecodeError,
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
    TokenCreationError,
    TokenTooLargeError,
    UnusableKeyError,
)
from .keys import SUPPORTED_ALGORITHMS, Key

JSONDefault = Callable[[Any], Any]

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
        raise ValueError("Number out of range")  # fixed text: the literal is never echoed
    return value


#: Integers longer than this (in digits) are refused: past 2**64 no JSON consumer
#: agrees on their value (RFC 8259, 6), and Python's own limit is 4300 digits.
MAX_INT_DIGITS = 20


def _bounded_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS + (text[0] == "-"):
        raise ValueError("Number out of range")  # fixed text: the literal is never echoed
    return int(text)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("Duplicate member name in JSON object")
    return obj


_json_decoder = json.JSONDecoder(
    object_pairs_hook=_unique_object,
    parse_constant=_reject_constant,
    parse_float=_finite_float,
    parse_int=_bounded_int,
)


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
            # A fixed message: the attacker's value is never echoed.
            raise InvalidTokenError("Unsupported critical extension")


def unverified_payload(parsed: UnverifiedToken) -> dict[str, Any]:
    """The claims of a parsed token, without verifying anything."""
    return _load_json_object(_b64decode(parsed.payload_segment, "payload"), "payload")


# --------------------------------------------------------------------------- verifying


def verify_signature(parsed: UnverifiedToken, key: Key, algorithms: Iterable[str]) -> str:
    """Check ``alg`` against the allow-list and the signature against ``key``.

    :returns: the algorithm that verified.
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
        ok = key.verify(alg, parsed.signing_input, parsed.signature)
    except UnusableKeyError as err:
        raise InvalidSignatureError("Signature verification failed") from err
    if not ok:
        raise InvalidSignatureError("Signature verification failed")
    return alg


#: The NumericDates a token may carry: the years 1 to 9999, what a ``datetime`` can hold.
#: Anything outside is refused as invalid rather than compared, so that no
#: consumer of a claim (``datetime.fromtimestamp(get_jwt()["exp"])``) can overflow.
MIN_TIME = -62135596800
MAX_TIME = 253402300799


def numeric_date(value: Any) -> int | float | None:
    """``value`` as a NumericDate, or ``None`` if it is not one (a bool, a string, out of range, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # Comparisons, not math.isfinite: an int of any size compares exactly, and
    # NaN fails both bounds.
    if not MIN_TIME <= value <= MAX_TIME:
        return None
    return value


def _time_claim(claims: dict[str, Any], name: str, error: type[Exception], label: str) -> int | float:
    value = numeric_date(claims[name])
    if value is None:
        raise error(f"{label} must be an integer.")
    return value


def validate_claims(
    claims: dict[str, Any], options: DecodeOptions, *, now: float, verify_exp: bool = True
) -> bool:
    """Check the registered claims the way PyJWT does, with PyJWT's messages.

    An expired token is reported only after every other check has passed (as
    Flask-JWT-Extended does), so the caller can still run its own checks (CSRF)
    before it answers "expired".

    :param now: the current UNIX time, from the caller's clock.
    :returns: whether the token has expired (always ``False`` without ``verify_exp``).
    """
    leeway = options.leeway
    if "iat" in claims:
        if _time_claim(claims, "iat", InvalidIssuedAtError, "Issued At claim (iat)") > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (iat)")
    if "nbf" in claims:
        if _time_claim(claims, "nbf", DecodeError, "Not Before claim (nbf)") > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (nbf)")
    expired = False
    if verify_exp and "exp" in claims:
        expired = _time_claim(claims, "exp", DecodeError, "Expiration Time claim (exp)") <= now - leeway
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
    return expired


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


class Decoded(NamedTuple):
    """A verified token: its header and claims, and whether it has expired."""

    header: dict[str, Any]
    claims: dict[str, Any]
    expired: bool


def decode(
    parsed: UnverifiedToken,
    key: Key,
    options: DecodeOptions,
    *,
    now: float,
    verify_exp: bool = True,
    payload: dict[str, Any] | None = None,
) -> Decoded:
    """Verify a parsed token's signature and claims.

    Expiry is reported, not raised (see :func:`validate_claims`): the caller
    decides, after its own checks, whether an expired token is an error.

    :param parsed: the result of :func:`parse`.
    :param key: the verification key.
    :param options: what to check.
    :param now: the current UNIX time, from the caller's clock.
    :param verify_exp: check ``exp`` (its type and whether it has passed).
    :param payload: :func:`unverified_payload` of this token, if already made;
        trusted only once the signature verifies.
    :raises JWTExtendedException: (subclasses, most of them also PyJWT's classes) for every
        way a token can be bad.
    """
    verify_signature(parsed, key, options.algorithms)
    claims = unverified_payload(parsed) if payload is None else payload
    expired = validate_claims(claims, options, now=now, verify_exp=verify_exp)
    if options.identity_claim not in claims:
        raise JWTDecodeError(f"Missing claim: {options.identity_claim}")
    if options.require_type and "type" not in claims:
        raise JWTDecodeError("Missing claim: type")
    return Decoded(parsed.header, claims, expired)


def is_fresh(claims: dict[str, Any], now: float) -> bool:
    """Whether the token's ``fresh`` claim holds at ``now``.

    ``fresh`` is ``True``/``False``, or the NumericDate until which the token is fresh.

    :raises JWTDecodeError: ``fresh`` is anything else (a string, a NumericDate out of range).
    """
    fresh = claims.get("fresh", False)
    if isinstance(fresh, bool):
        return fresh
    until = numeric_date(fresh)
    if until is None:
        raise JWTDecodeError("Invalid claim: fresh must be a boolean or a NumericDate")
    return until >= now


# --------------------------------------------------------------------------- encoding


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _timestamp(value: Any) -> Any:
    if isinstance(value, datetime):
        # A naive datetime is UTC, as PyJWT reads it (not local time).
        return calendar.timegm(value.utctimetuple())
    return value


def build_claims(
    *,
    identity: Any,
    token_type: str,
    now: float,
    identity_claim: str = "sub",
    fresh: bool | float | timedelta = False,
    expires_delta: Any = None,
    audience: str | list[str] | tuple[str, ...] | None = None,
    issuer: str | None = None,
    encode_nbf: bool = True,
    csrf: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of a new token, before signing.

    :param now: the current UNIX time, from the caller's clock.
    :param fresh: ``True``/``False``, a :class:`~datetime.timedelta` for how
        long the token stays fresh, or a UNIX time until which it is fresh.
    :param expires_delta: lifetime, a timedelta or anything that adds to a
        datetime; ``None`` means no ``exp`` claim.
    :param csrf: the double-submit value to put in the ``csrf`` claim, if any.
    :param extra: claims that override the defaults.
    """
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
    if csrf is not None:
        claims["csrf"] = csrf
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
    key: Key,
    algorithm: str,
    *,
    headers: Mapping[str, Any] | None = None,
    json_default: JSONDefault | None = None,
) -> str:
    """Sign ``claims`` as a compact JWS.

    The configured ``algorithm`` always signs: an ``alg`` in ``headers`` is
    overwritten, never obeyed. A key with a ``kid`` puts it in the header.

    :raises UnusableKeyError: the key does not fit ``algorithm``.
    :raises TokenCreationError: a time claim out of range, or NaN/infinity anywhere.
    """
    header: dict[str, Any] = {"alg": algorithm, "typ": "JWT"}
    if key.kid is not None:
        header["kid"] = key.kid
    if headers:
        header.update(headers)
        header["alg"] = algorithm
        if not header.get("typ"):
            header.pop("typ", None)
    if "iss" in claims and not isinstance(claims["iss"], str):
        raise TypeError("Issuer (iss) must be a string.")
    for name in ("exp", "nbf", "iat"):
        if name in claims and numeric_date(claims[name]) is None:
            raise TokenCreationError(f"The {name} claim {claims[name]!r} is not a time this library accepts")
    try:
        header_json = json.dumps(
            header, separators=(",", ":"), sort_keys=True, default=json_default, allow_nan=False
        )
        payload_json = json.dumps(claims, separators=(",", ":"), default=json_default, allow_nan=False)
    except ValueError as err:  # NaN or infinity: no decoder of ours would accept the token
        raise TokenCreationError(f"The token cannot be encoded: {err}") from err
    signing_input = f"{_b64encode(header_json.encode())}.{_b64encode(payload_json.encode())}"
    signature = key.sign(algorithm, signing_input.encode("ascii"))
    return f"{signing_input}.{_b64encode(signature)}"
