"""The ``JWT_*`` configuration, read once into a frozen, validated object.

:func:`build_settings` validates every key when it runs and raises
:class:`~flask_jwt_guard.exceptions.ConfigurationError` naming the bad key.
:class:`SettingsCache` rebuilds the object only when one of the values it
was built from changes, so ``app.config`` edits made after ``init_app``
(as apps and tests do) take effect on the next request, while an unchanged
configuration costs one C-level lookup of the keys per request.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from .exceptions import ConfigurationError
from .tokens import SUPPORTED_ALGORITHMS, DecodeOptions

LOCATIONS = ("headers", "cookies", "query_string", "json")
HOST_PREFIX = "__Host-"
COOKIE_MAX_AGE = 31540000  # one year, for persistent (non-session) cookies
MIN_HMAC_KEY_BYTES = 32


class JWTGuardSecurityWarning(UserWarning):
    """A configuration that works but weakens security; an error when ``JWT_STRICT``."""


#: Every key with its default. Flask-JWT-Extended 4.x keys first, then ours.
DEFAULTS: dict[str, Any] = {
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
    "JWT_ALGORITHM": "HS256",
    "JWT_DECODE_ALGORITHMS": None,
    "JWT_SECRET_KEY": None,
    "JWT_PUBLIC_KEY": None,
    "JWT_PRIVATE_KEY": None,
    "JWT_DECODE_AUDIENCE": None,
    "JWT_ENCODE_AUDIENCE": None,
    "JWT_DECODE_ISSUER": None,
    "JWT_ENCODE_ISSUER": None,
    "JWT_DECODE_LEEWAY": 0,
    "JWT_ENCODE_NBF": True,
    "JWT_IDENTITY_CLAIM": "sub",
    "JWT_ERROR_MESSAGE_KEY": "msg",
    "JWT_VERIFY_SUB": True,
    "JWT_TOKEN_LOCATION": ("headers",),
    "JWT_HEADER_NAME": "Authorization",
    "JWT_HEADER_TYPE": "Bearer",
    "JWT_ACCESS_COOKIE_NAME": "access_token_cookie",
    "JWT_REFRESH_COOKIE_NAME": "refresh_token_cookie",
    "JWT_ACCESS_COOKIE_PATH": "/",
    "JWT_REFRESH_COOKIE_PATH": "/",
    "JWT_COOKIE_DOMAIN": None,
    "JWT_COOKIE_SECURE": False,
    "JWT_COOKIE_SAMESITE": None,
    "JWT_SESSION_COOKIE": True,
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_CSRF_IN_COOKIES": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "JWT_CSRF_CHECK_FORM": False,
    "JWT_ACCESS_CSRF_COOKIE_NAME": "csrf_access_token",
    "JWT_REFRESH_CSRF_COOKIE_NAME": "csrf_refresh_token",
    "JWT_ACCESS_CSRF_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_ACCESS_CSRF_FIELD_NAME": "csrf_token",
    "JWT_REFRESH_CSRF_FIELD_NAME": "csrf_token",
    "JWT_QUERY_STRING_NAME": "jwt",
    "JWT_QUERY_STRING_VALUE_PREFIX": "",
    "JWT_JSON_KEY": "access_token",
    "JWT_REFRESH_JSON_KEY": "refresh_token",
    # Flask-JWT-Guard's own keys.
    "JWT_MAX_TOKEN_SIZE": 16384,
    "JWT_STRICT": False,
}

#: The keys a settings object depends on: ours plus three of Flask's.
WATCHED_KEYS = (*DEFAULTS, "SECRET_KEY", "DEBUG", "TESTING")
_read_watched = itemgetter(*WATCHED_KEYS)
# False == 0, yet an expiry of False (never) and of 0 (at once) differ: for these
# keys a change of type alone must rebuild the settings.
_TYPED_INDEXES = tuple(
    WATCHED_KEYS.index(key) for key in ("JWT_ACCESS_TOKEN_EXPIRES", "JWT_REFRESH_TOKEN_EXPIRES")
)


def _typed_values(values: tuple[Any, ...]) -> tuple[type, ...]:
    return tuple(type(values[index]) for index in _TYPED_INDEXES)


@dataclass(frozen=True, slots=True)
class CookieSpec:
    """How one cookie is set: everything but its value and max-age."""

    name: str
    path: str
    httponly: bool


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated ``JWT_*`` configuration of one app."""

    token_location: tuple[str, ...]
    # A timedelta, or anything that adds to a datetime (dateutil's relativedelta).
    access_expires: Any
    refresh_expires: Any
    algorithm: str
    decode_algorithms: frozenset[str]
    encode_key: Any
    decode_key: Any
    key_error: str | None
    encode_audience: str | list[str] | None
    encode_issuer: str | None
    encode_nbf: bool
    identity_claim: str
    error_msg_key: str
    header_name: str
    header_type: str
    cookie_domain: str | None
    cookie_secure: bool
    cookie_samesite: str | None
    cookie_max_age: int | None
    csrf_protect: bool
    csrf_in_cookies: bool
    csrf_methods: frozenset[str]
    csrf_check_form: bool
    # Indexed by ``refresh`` (False: access, True: refresh).
    token_cookies: tuple[CookieSpec, CookieSpec]
    csrf_cookies: tuple[CookieSpec, CookieSpec]
    csrf_header_names: tuple[str, str]
    csrf_field_names: tuple[str, str]
    json_keys: tuple[str, str]
    query_string_name: str
    query_string_prefix: str
    strict: bool
    decode_options: DecodeOptions


def _fail(key: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{key} {message}")


def _as_bool(config: Mapping[str, Any], key: str) -> bool:
    value = config[key]
    if not isinstance(value, bool | int):
        raise _fail(key, f"must be True or False, not {value!r}")
    return bool(value)


def _as_str(config: Mapping[str, Any], key: str, *, empty: bool = False) -> str:
    value = config[key]
    if not isinstance(value, str) or (not empty and not value):
        raise _fail(key, f"must be a non-empty string, not {value!r}")
    return value


def _optional_str(config: Mapping[str, Any], key: str) -> str | None:
    value = config[key]
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(key, f"must be a string or None, not {value!r}")
    return value


def _expires(config: Mapping[str, Any], key: str) -> Any:
    value = config[key]
    if value is False:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        return value
    try:
        value + datetime.now(UTC)
    except TypeError:
        raise _fail(
            key, f"must be a datetime.timedelta, a number of seconds or False, not {value!r}"
        ) from None
    return value


def normalize_locations(value: Any, key: str = "JWT_TOKEN_LOCATION") -> tuple[str, ...]:
    """Validate a location or list of locations; the one place this is checked."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise _fail(key, f"must be a location or a sequence of them, not {value!r}")
    locations = tuple(value)
    if not locations:
        raise _fail(key, 'must contain at least one of "headers", "cookies", "query_string", "json"')
    for location in locations:
        if location not in LOCATIONS:
            raise _fail(
                key,
                f'can only contain "headers", "cookies", "query_string" or "json", not {location!r}',
            )
    return locations


def _one_or_many(config: Mapping[str, Any], key: str) -> str | tuple[str, ...] | None:
    """A string, or a collection of strings (any one matches), or ``None``."""
    value = config[key]
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _fail(key, f"must be a string, a list of strings or None, not {value!r}")


def build_settings(config: Mapping[str, Any]) -> Settings:
    """Validate the ``JWT_*`` keys of ``config`` and compile them.

    :raises ConfigurationError: naming the first invalid key.
    """
    strict = _as_bool(config, "JWT_STRICT")
    locations = normalize_locations(config["JWT_TOKEN_LOCATION"])

    algorithm = _as_str(config, "JWT_ALGORITHM")
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise _fail("JWT_ALGORITHM", f"must be one of {sorted(SUPPORTED_ALGORITHMS)}")
    decode_algs = config["JWT_DECODE_ALGORITHMS"]
    if not decode_algs:
        decode_algorithms = frozenset({algorithm})
    else:
        if isinstance(decode_algs, str) or not isinstance(decode_algs, Iterable):
            raise _fail("JWT_DECODE_ALGORITHMS", "must be a list of algorithm names")
        decode_algorithms = frozenset(decode_algs) | {algorithm}
        unknown = decode_algorithms - SUPPORTED_ALGORITHMS
        if unknown:
            raise _fail("JWT_DECODE_ALGORITHMS", f"contains unsupported {sorted(unknown)}")

    asymmetric = not algorithm.startswith("HS")
    key_error = None
    if asymmetric:
        encode_key, decode_key = config["JWT_PRIVATE_KEY"], config["JWT_PUBLIC_KEY"]
        if not encode_key or not decode_key:
            missing = "JWT_PRIVATE_KEY" if not encode_key else "JWT_PUBLIC_KEY"
            key_error = f'{missing} must be set to use asymmetric cryptography algorithm "{algorithm}"'
    else:
        encode_key = decode_key = config["JWT_SECRET_KEY"] or config["SECRET_KEY"]
        if not encode_key:
            key_error = (
                f'JWT_SECRET_KEY or flask SECRET_KEY must be set when using symmetric algorithm "{algorithm}"'
            )

    leeway = config["JWT_DECODE_LEEWAY"]
    if isinstance(leeway, timedelta):
        leeway = leeway.total_seconds()
    if (
        isinstance(leeway, bool)
        or not isinstance(leeway, int | float)
        or not math.isfinite(leeway)
        or leeway < 0
    ):
        raise _fail("JWT_DECODE_LEEWAY", f"must be a non-negative number of seconds, not {leeway!r}")

    max_size = config["JWT_MAX_TOKEN_SIZE"]
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 64:
        raise _fail("JWT_MAX_TOKEN_SIZE", f"must be an integer of at least 64, not {max_size!r}")

    methods = config["JWT_CSRF_METHODS"]
    if isinstance(methods, str) or not isinstance(methods, Iterable):
        raise _fail("JWT_CSRF_METHODS", f"must be a list of HTTP methods, not {methods!r}")
    samesite = config["JWT_COOKIE_SAMESITE"]
    if isinstance(samesite, str):
        samesite = samesite.title()
    if samesite is not None and samesite not in ("Strict", "Lax", "None"):
        raise _fail("JWT_COOKIE_SAMESITE", f'must be "Strict", "Lax", "None" or None, not {samesite!r}')

    cookie_secure = _as_bool(config, "JWT_COOKIE_SECURE")
    cookie_domain = _optional_str(config, "JWT_COOKIE_DOMAIN")

    def cookie(name_key: str, path_key: str, httponly: bool) -> CookieSpec:
        name, path = _as_str(config, name_key), _as_str(config, path_key)
        if strict:
            # __Host- cookies must be Secure, Path=/ and carry no Domain.
            name = name if name.startswith(HOST_PREFIX) else HOST_PREFIX + name
            path = "/"
        return CookieSpec(name=name, path=path, httponly=httponly)

    if strict:
        cookie_secure, cookie_domain, samesite = True, None, "Lax"

    identity_claim = _as_str(config, "JWT_IDENTITY_CLAIM")
    decode_issuer = _one_or_many(config, "JWT_DECODE_ISSUER")
    encode_audience = _one_or_many(config, "JWT_ENCODE_AUDIENCE")
    settings = Settings(
        token_location=locations,
        access_expires=_expires(config, "JWT_ACCESS_TOKEN_EXPIRES"),
        refresh_expires=_expires(config, "JWT_REFRESH_TOKEN_EXPIRES"),
        algorithm=algorithm,
        decode_algorithms=decode_algorithms,
        encode_key=encode_key,
        decode_key=decode_key,
        key_error=key_error,
        encode_audience=list(encode_audience) if isinstance(encode_audience, tuple) else encode_audience,
        encode_issuer=_optional_str(config, "JWT_ENCODE_ISSUER"),
        encode_nbf=_as_bool(config, "JWT_ENCODE_NBF"),
        identity_claim=identity_claim,
        error_msg_key=_as_str(config, "JWT_ERROR_MESSAGE_KEY"),
        header_name=_as_str(config, "JWT_HEADER_NAME"),
        header_type=_as_str(config, "JWT_HEADER_TYPE", empty=True),
        cookie_domain=cookie_domain,
        cookie_secure=cookie_secure,
        cookie_samesite=samesite,
        cookie_max_age=None if _as_bool(config, "JWT_SESSION_COOKIE") else COOKIE_MAX_AGE,
        csrf_protect=_as_bool(config, "JWT_COOKIE_CSRF_PROTECT"),
        csrf_in_cookies=_as_bool(config, "JWT_CSRF_IN_COOKIES"),
        csrf_methods=frozenset(str(m).upper() for m in methods),
        csrf_check_form=_as_bool(config, "JWT_CSRF_CHECK_FORM"),
        token_cookies=(
            cookie("JWT_ACCESS_COOKIE_NAME", "JWT_ACCESS_COOKIE_PATH", True),
            cookie("JWT_REFRESH_COOKIE_NAME", "JWT_REFRESH_COOKIE_PATH", True),
        ),
        csrf_cookies=(
            cookie("JWT_ACCESS_CSRF_COOKIE_NAME", "JWT_ACCESS_CSRF_COOKIE_PATH", False),
            cookie("JWT_REFRESH_CSRF_COOKIE_NAME", "JWT_REFRESH_CSRF_COOKIE_PATH", False),
        ),
        csrf_header_names=(
            _as_str(config, "JWT_ACCESS_CSRF_HEADER_NAME"),
            _as_str(config, "JWT_REFRESH_CSRF_HEADER_NAME"),
        ),
        csrf_field_names=(
            _as_str(config, "JWT_ACCESS_CSRF_FIELD_NAME"),
            _as_str(config, "JWT_REFRESH_CSRF_FIELD_NAME"),
        ),
        json_keys=(_as_str(config, "JWT_JSON_KEY"), _as_str(config, "JWT_REFRESH_JSON_KEY")),
        query_string_name=_as_str(config, "JWT_QUERY_STRING_NAME"),
        query_string_prefix=_as_str(config, "JWT_QUERY_STRING_VALUE_PREFIX", empty=True),
        strict=strict,
        decode_options=DecodeOptions(
            algorithms=decode_algorithms,
            audience=_one_or_many(config, "JWT_DECODE_AUDIENCE"),
            issuer=decode_issuer,
            leeway=leeway,
            verify_sub=_as_bool(config, "JWT_VERIFY_SUB"),
            identity_claim=identity_claim,
            max_size=max_size,
            require_type=strict,
        ),
    )
    _check_security(settings, config)
    return settings


def _check_security(settings: Settings, config: Mapping[str, Any]) -> None:
    """Warn (or, with ``JWT_STRICT``, refuse) weak but working configurations."""
    problems = []
    key = settings.encode_key
    if settings.algorithm.startswith("HS") and isinstance(key, str | bytes) and key:
        size = len(key.encode() if isinstance(key, str) else key)
        if size < MIN_HMAC_KEY_BYTES:
            problems.append(
                f"JWT_SECRET_KEY is {size} bytes long; HMAC secrets should be at least "
                f"{MIN_HMAC_KEY_BYTES} random bytes (RFC 8725, 3.5)"
            )
    if (
        "cookies" in settings.token_location
        and not settings.cookie_secure
        and not config["DEBUG"]
        and not config["TESTING"]
    ):
        problems.append(
            "JWT_COOKIE_SECURE is False: token cookies will be sent over plain HTTP. "
            "Set it to True in production"
        )
    families = {alg.startswith("HS") for alg in settings.decode_algorithms}
    if len(families) > 1:
        problems.append(
            "JWT_DECODE_ALGORITHMS mixes HMAC and asymmetric algorithms "
            f"({sorted(settings.decode_algorithms)}); keep one family (RFC 8725, 3.1)"
        )
    if problems and settings.strict:
        raise ConfigurationError("JWT_STRICT refuses this configuration: " + "; ".join(problems))
    for problem in problems:
        warnings.warn(problem, JWTGuardSecurityWarning, stacklevel=5)


class SettingsCache:
    """Holds one app's :class:`Settings` and rebuilds it when its inputs change."""

    __slots__ = ("_entry",)

    def __init__(self) -> None:
        # (snapshot of the watched values, settings), swapped as one object so
        # that concurrent requests never pair a snapshot with other settings.
        self._entry: tuple[tuple[Any, ...], tuple[type, ...], Settings] | None = None

    def get(self, config: Mapping[str, Any]) -> Settings:
        """The settings for ``config``, rebuilt only if a watched value changed."""
        try:
            current = _read_watched(config)
        except KeyError:
            current = tuple(config.get(key, DEFAULTS.get(key)) for key in WATCHED_KEYS)
        entry = self._entry
        if entry is not None and current == entry[0] and _typed_values(current) == entry[1]:
            return entry[2]
        # Copies of the containers, taken before building, so that an in-place
        # edit of a list in app.config is noticed.
        snapshot = tuple(
            copy.copy(value) if isinstance(value, list | dict | set) else value for value in current
        )
        settings = build_settings(dict(zip(WATCHED_KEYS, snapshot, strict=True)))
        self._entry = (snapshot, _typed_values(snapshot), settings)
        return settings
