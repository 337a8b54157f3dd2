"""The ``JWT_*`` configuration, read once into a frozen, validated object.

:func:`build_settings` validates every key when it runs and raises
:class:`~flask_jwt_guard.exceptions.ConfigurationError` naming the bad key.
:class:`SettingsCache` rebuilds the object only when one of the values it
was built from changes (in value or in type: ``1`` and ``True`` are different
settings), so ``app.config`` edits made after ``init_app`` (as apps and tests
do) take effect on the next request, while an unchanged configuration costs
one C-level lookup of the keys per request.

Nothing here imports Flask: the settings are built from any mapping.
"""

from __future__ import annotations

import copy
import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from .exceptions import ConfigurationError, UnusableKeyError
from .jwks import url_problem
from .keys import SUPPORTED_ALGORITHMS, Key, KeySet, is_hmac, load_key_set
from .revocation import is_store, scheme_of
from .tokens import DecodeOptions

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
    # Sessions that can be ended (revocation stores, rotation, implicit refresh).
    "JWT_REVOCATION_STORE": None,
    "JWT_REVOCATION_KEY_PREFIX": "jwt_guard:",
    "JWT_REVOCATION_TIMEOUT": 0.5,
    "JWT_REVOCATION_FAIL_OPEN": False,
    "JWT_REFRESH_TOKEN_ROTATION": False,
    "JWT_IMPLICIT_REFRESH": None,
    # Keys: key sets with kid rotation, a JWKS endpoint, tokens from an OpenID provider.
    "JWT_SIGNING_KEYS": None,
    "JWT_JWKS_URL_RULE": None,
    "JWT_JWKS_MAX_AGE": 300,
    "JWT_OIDC_ISSUER": None,
    "JWT_JWKS_URI": None,
    "JWT_JWKS_MIN_REFRESH_INTERVAL": 60,
    "JWT_JWKS_ALLOW_HTTP": False,
}

#: The keys a settings object depends on: ours plus three of Flask's.
WATCHED_KEYS = (*DEFAULTS, "SECRET_KEY", "DEBUG", "TESTING")
_read_watched = itemgetter(*WATCHED_KEYS)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True, slots=True)
class CookieSpec:
    """How one cookie is set: everything but its value and max-age."""

    name: str
    path: str
    httponly: bool


@dataclass(frozen=True, slots=True)
class TokenTypeSettings:
    """What differs between access and refresh tokens."""

    name: str
    #: A timedelta, anything that adds to a datetime (dateutil's relativedelta), or None: never.
    expires: Any
    cookie: CookieSpec
    csrf_cookie: CookieSpec
    csrf_header_name: str
    csrf_field_name: str
    json_key: str


@dataclass(frozen=True, slots=True)
class RevocationSettings:
    """Where revocations are kept and how sessions end."""

    #: ``None``, ``"memory"``, a URL, or a store object (opened by the app's state).
    store: Any
    key_prefix: str
    timeout: float
    fail_open: bool
    rotation: bool
    #: Renew an access cookie this close to its expiry (``None``: never).
    implicit_refresh: timedelta | None
    #: The longest a token can live with the configured lifetimes (``None``: unbounded).
    longest_lifetime: float | None


@dataclass(frozen=True, slots=True)
class RemoteKeysSettings:
    """Where the keys of tokens made elsewhere (an OpenID provider) come from."""

    issuer: str | None
    jwks_uri: str | None
    min_refresh_interval: float
    allow_http: bool

    @property
    def source(self) -> tuple[str | None, str | None, bool]:
        """What decides where keys are fetched from (the interval only decides how often)."""
        return self.issuer, self.jwks_uri, self.allow_http


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated ``JWT_*`` configuration of one app."""

    token_location: tuple[str, ...]
    access: TokenTypeSettings
    refresh: TokenTypeSettings
    algorithm: str
    decode_algorithms: frozenset[str]
    signing_key: Key | None
    verification_key: Key | None
    key_error: str
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
    query_string_name: str
    query_string_prefix: str
    strict: bool
    decode_options: DecodeOptions
    revocation: RevocationSettings
    #: ``JWT_SIGNING_KEYS``: the first key signs, all verify, found by ``kid``.
    key_set: KeySet | None
    #: ``JWT_OIDC_ISSUER``/``JWT_JWKS_URI``: keys fetched from a provider.
    remote_keys: RemoteKeysSettings | None
    jwks_max_age: int

    def of(self, refresh: bool) -> TokenTypeSettings:
        """The settings of refresh tokens (``refresh=True``) or of access tokens."""
        return self.refresh if refresh else self.access


# --------------------------------------------------------------------------- readers


def _fail(key: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"{key} {message}")


def _as_bool(config: Mapping[str, Any], key: str) -> bool:
    value = config[key]
    # 0 and 1 are honoured as False and True; "false", None and 2 are mistakes.
    if value is not True and value is not False and (type(value) is not int or value not in (0, 1)):
        raise _fail(key, f"must be True or False, not {value!r}")
    return bool(value)


def _as_str(config: Mapping[str, Any], key: str, *, empty: bool = False) -> str:
    value = config[key]
    if not isinstance(value, str) or (not empty and not value):
        raise _fail(key, f"must be a non-empty string, not {value!r}")
    return value


def _optional_str(config: Mapping[str, Any], key: str, *, empty_is_none: bool = False) -> str | None:
    value = config[key]
    if value is None or (empty_is_none and value == ""):
        return None
    if not isinstance(value, str) or not value:
        raise _fail(key, f"must be a non-empty string or None, not {value!r}")
    return value


def _one_or_many(config: Mapping[str, Any], key: str) -> str | tuple[str, ...] | None:
    """``None``, a non-empty string, or a non-empty collection of them (any one matches).

    An empty string or list is refused: it is what ``os.environ.get("X", "")``
    gives when the variable is unset, and must not silently switch a check off.
    """
    value = config[key]
    if value is None:
        return None
    if isinstance(value, str) and value:
        return value
    if not isinstance(value, str | bytes | Mapping) and isinstance(value, Iterable):
        values = tuple(value)
        if values and all(isinstance(v, str) and v for v in values):
            return values
    raise _fail(key, f"must be a non-empty string, a non-empty list of them, or None; not {value!r}")


def _expires(config: Mapping[str, Any], key: str) -> Any:
    """A lifetime: ``None`` for ``False`` (never expires), else something that adds to a datetime.

    Refused: negative lifetimes, and lifetimes that end after the year 9999 (the
    tokens would carry an ``exp`` that no decoder here accepts).
    """
    value = config[key]
    if value is False:
        return None
    now = datetime.now(UTC)
    try:
        if value is True:
            raise TypeError
        if type(value) is int:
            value = timedelta(seconds=value)
        end = now + value
    except (TypeError, ValueError, OverflowError):
        raise _fail(
            key,
            f"must be a datetime.timedelta, a number of seconds or False (ending before the year "
            f"10000), not {value!r}",
        ) from None
    if end < now:
        raise _fail(key, f"must not be negative, not {value!r}")
    return value


#: The largest leeway accepted: a day. More is not clock skew; it switches the time checks off.
MAX_LEEWAY = 86400


def _seconds(config: Mapping[str, Any], key: str) -> float:
    value = config[key]
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_LEEWAY:
        raise _fail(key, f"must be a number of seconds from 0 to {MAX_LEEWAY}, not {value!r}")
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


# --------------------------------------------------------------------------- groups


def _algorithms(config: Mapping[str, Any]) -> tuple[str, frozenset[str]]:
    algorithm = config["JWT_ALGORITHM"]
    if not isinstance(algorithm, str) or algorithm not in SUPPORTED_ALGORITHMS:
        raise _fail("JWT_ALGORITHM", f"must be one of {sorted(SUPPORTED_ALGORITHMS)}, not {algorithm!r}")
    listed = config["JWT_DECODE_ALGORITHMS"]
    if listed is None:
        return algorithm, frozenset({algorithm})
    if isinstance(listed, str | bytes) or not isinstance(listed, Iterable):
        raise _fail("JWT_DECODE_ALGORITHMS", f"must be a list of algorithm names or None, not {listed!r}")
    names = tuple(listed)
    if not names:
        raise _fail("JWT_DECODE_ALGORITHMS", "must not be empty (None means JWT_ALGORITHM only)")
    unknown = [name for name in names if not isinstance(name, str) or name not in SUPPORTED_ALGORITHMS]
    if unknown:
        raise _fail("JWT_DECODE_ALGORITHMS", f"contains unsupported {unknown!r}")
    return algorithm, frozenset(names) | {algorithm}


def _prepared(material: Any, algorithm: str, config_key: str) -> Key:
    key = Key(material)
    try:
        key.prepared(algorithm)  # now, so that a bad key fails at start-up
    except UnusableKeyError as err:
        raise _fail(config_key, f"cannot be used with {algorithm}: {err}") from err
    return key


def _keys(config: Mapping[str, Any], algorithm: str) -> tuple[Key | None, Key | None, str]:
    """The signing and verification keys, prepared now, and the error to raise where one is missing."""
    if is_hmac(algorithm):
        name = "JWT_SECRET_KEY" if config["JWT_SECRET_KEY"] else "SECRET_KEY"
        secret = config["JWT_SECRET_KEY"] or config["SECRET_KEY"]
        error = f'JWT_SECRET_KEY or flask SECRET_KEY must be set when using symmetric algorithm "{algorithm}"'
        if not secret:
            return None, None, error
        key = _prepared(secret, algorithm, name)
        return key, key, error
    private, public = config["JWT_PRIVATE_KEY"], config["JWT_PUBLIC_KEY"]
    missing = "JWT_PRIVATE_KEY" if not private else "JWT_PUBLIC_KEY"
    error = f'{missing} must be set to use asymmetric cryptography algorithm "{algorithm}"'
    signing = _prepared(private, algorithm, "JWT_PRIVATE_KEY") if private else None
    verification = _prepared(public, algorithm, "JWT_PUBLIC_KEY") if public else None
    return signing, verification, error


_KEY_OPTIONS = ("JWT_SECRET_KEY", "JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY")


def _key_set(config: Mapping[str, Any]) -> KeySet | None:
    value = config["JWT_SIGNING_KEYS"]
    if value is None:
        return None
    clash = [name for name in _KEY_OPTIONS if config[name]]
    if clash:
        raise _fail("JWT_SIGNING_KEYS", f"and {', '.join(clash)} cannot be used together: choose one")
    try:
        return load_key_set(value)
    except UnusableKeyError as err:
        raise _fail("JWT_SIGNING_KEYS", f"is not a usable JWK Set: {err}") from err


def _remote_keys(config: Mapping[str, Any]) -> RemoteKeysSettings | None:
    issuer = _optional_str(config, "JWT_OIDC_ISSUER")
    jwks_uri = _optional_str(config, "JWT_JWKS_URI")
    if issuer is None and jwks_uri is None:
        return None
    for needed in ("JWT_DECODE_ISSUER", "JWT_DECODE_AUDIENCE"):
        if config[needed] is None:
            raise _fail(needed, "must be set to accept tokens from JWT_OIDC_ISSUER or JWT_JWKS_URI")
    allow_http = _as_bool(config, "JWT_JWKS_ALLOW_HTTP")
    for name, url in (("JWT_OIDC_ISSUER", issuer), ("JWT_JWKS_URI", jwks_uri)):
        problem = url_problem(url, allow_http) if url is not None else None
        if problem:
            raise _fail(name, f"cannot be used: {problem}")
    interval = config["JWT_JWKS_MIN_REFRESH_INTERVAL"]
    if isinstance(interval, timedelta):
        interval = interval.total_seconds()
    if isinstance(interval, bool) or not isinstance(interval, int | float) or not 0 <= interval <= 86400:
        raise _fail(
            "JWT_JWKS_MIN_REFRESH_INTERVAL", f"must be seconds (or a timedelta) up to a day, not {interval!r}"
        )
    return RemoteKeysSettings(
        issuer=issuer,
        jwks_uri=jwks_uri,
        min_refresh_interval=float(interval),
        allow_http=allow_http,
    )


def _token_types(config: Mapping[str, Any], strict: bool) -> tuple[TokenTypeSettings, TokenTypeSettings]:
    def cookie(name_key: str, path_key: str, httponly: bool) -> CookieSpec:
        name, path = _as_str(config, name_key), _as_str(config, path_key)
        if strict:
            # __Host- cookies must be Secure, Path=/ and carry no Domain.
            name = name if name.startswith(HOST_PREFIX) else HOST_PREFIX + name
            path = "/"
        return CookieSpec(name=name, path=path, httponly=httponly)

    def token_type(name: str, json_key: str) -> TokenTypeSettings:
        upper = name.upper()
        return TokenTypeSettings(
            name=name,
            expires=_expires(config, f"JWT_{upper}_TOKEN_EXPIRES"),
            cookie=cookie(f"JWT_{upper}_COOKIE_NAME", f"JWT_{upper}_COOKIE_PATH", True),
            csrf_cookie=cookie(f"JWT_{upper}_CSRF_COOKIE_NAME", f"JWT_{upper}_CSRF_COOKIE_PATH", False),
            csrf_header_name=_as_str(config, f"JWT_{upper}_CSRF_HEADER_NAME"),
            csrf_field_name=_as_str(config, f"JWT_{upper}_CSRF_FIELD_NAME"),
            json_key=_as_str(config, json_key),
        )

    return token_type("access", "JWT_JSON_KEY"), token_type("refresh", "JWT_REFRESH_JSON_KEY")


def _csrf_methods(config: Mapping[str, Any]) -> frozenset[str]:
    methods = config["JWT_CSRF_METHODS"]
    if isinstance(methods, str | bytes) or not isinstance(methods, Iterable):
        raise _fail("JWT_CSRF_METHODS", f"must be a list of HTTP methods, not {methods!r}")
    names = tuple(methods)
    if not names or not all(isinstance(m, str) and m for m in names):
        raise _fail(
            "JWT_CSRF_METHODS",
            f"must be a non-empty list of HTTP method names (to turn the check off, set "
            f"JWT_COOKIE_CSRF_PROTECT = False), not {methods!r}",
        )
    return frozenset(m.upper() for m in names)


def _samesite(config: Mapping[str, Any]) -> str | None:
    value = config["JWT_COOKIE_SAMESITE"]
    if value is None:
        return None
    samesite = value.title() if isinstance(value, str) else value
    if samesite not in ("Strict", "Lax", "None"):
        raise _fail("JWT_COOKIE_SAMESITE", f'must be "Strict", "Lax", "None" or None, not {value!r}')
    return str(samesite)


def _revocation(
    config: Mapping[str, Any], access: TokenTypeSettings, refresh: TokenTypeSettings, leeway: float
) -> RevocationSettings:
    store = config["JWT_REVOCATION_STORE"]
    if isinstance(store, str):
        scheme_of(store)  # raises ConfigurationError naming the key
    elif store is not None and not is_store(store):
        raise _fail("JWT_REVOCATION_STORE", f"must be None, a URL or a store object, not {store!r}")
    timeout = config["JWT_REVOCATION_TIMEOUT"]
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        raise _fail(
            "JWT_REVOCATION_TIMEOUT", f"must be a number of seconds above 0, at most 60, not {timeout!r}"
        )
    rotation = _as_bool(config, "JWT_REFRESH_TOKEN_ROTATION")
    if rotation and store is None:
        raise _fail("JWT_REFRESH_TOKEN_ROTATION", "needs a JWT_REVOCATION_STORE to remember used tokens")
    window = config["JWT_IMPLICIT_REFRESH"]
    if type(window) is int:
        window = timedelta(seconds=window)
    if window is not None and (not isinstance(window, timedelta) or window <= timedelta(0)):
        raise _fail("JWT_IMPLICIT_REFRESH", f"must be None or a positive timedelta, not {window!r}")
    lifetimes: list[float | None] = []
    for kind in (access, refresh):
        if kind.expires is None:
            lifetimes.append(None)
        else:
            now = datetime.now(UTC)
            lifetimes.append((now + kind.expires - now).total_seconds())
    longest = None if None in lifetimes else max(x for x in lifetimes if x is not None) + leeway
    return RevocationSettings(
        store=store,
        key_prefix=_as_str(config, "JWT_REVOCATION_KEY_PREFIX", empty=True),
        timeout=float(timeout),
        fail_open=_as_bool(config, "JWT_REVOCATION_FAIL_OPEN"),
        rotation=rotation,
        implicit_refresh=window,
        longest_lifetime=longest,
    )


def _jwks_max_age(config: Mapping[str, Any]) -> int:
    value = config["JWT_JWKS_MAX_AGE"]
    if type(value) is not int or value < 0:
        raise _fail("JWT_JWKS_MAX_AGE", f"must be a number of seconds, not {value!r}")
    rule = config["JWT_JWKS_URL_RULE"]
    if rule is not None and (not isinstance(rule, str) or not rule.startswith("/")):
        raise _fail(
            "JWT_JWKS_URL_RULE", f'must be None or a URL rule such as "/.well-known/jwks.json", not {rule!r}'
        )
    return value


def _max_token_size(config: Mapping[str, Any]) -> int:
    size = config["JWT_MAX_TOKEN_SIZE"]
    if type(size) is not int or size < 64:
        raise _fail("JWT_MAX_TOKEN_SIZE", f"must be an integer of at least 64, not {size!r}")
    return size


def build_settings(config: Mapping[str, Any]) -> Settings:
    """Validate the ``JWT_*`` keys of ``config`` and compile them.

    :raises ConfigurationError: naming the first invalid key.
    """
    strict = _as_bool(config, "JWT_STRICT")
    algorithm, decode_algorithms = _algorithms(config)
    key_set, remote_keys = _key_set(config), _remote_keys(config)
    signing_key: Key | None
    verification_key: Key | None
    if key_set is not None:
        # Each key's alg decides: the first key signs with its own.
        signing_key = verification_key = key_set.signing_key
        algorithm, key_error = str(signing_key.algorithm), ""
        decode_algorithms = frozenset(str(key.algorithm) for key in key_set.keys)
        if remote_keys is not None:  # and the provider's, each key pinned to its own alg
            decode_algorithms |= {name for name in SUPPORTED_ALGORITHMS if not is_hmac(name)}
    elif remote_keys is not None:
        signing_key = verification_key = None
        key_error = "Tokens are verified with keys from JWT_OIDC_ISSUER/JWT_JWKS_URI; nothing here signs"
        decode_algorithms = frozenset(name for name in SUPPORTED_ALGORITHMS if not is_hmac(name))
    else:
        signing_key, verification_key, key_error = _keys(config, algorithm)
    access, refresh = _token_types(config, strict)
    cookie_secure = _as_bool(config, "JWT_COOKIE_SECURE")
    cookie_domain = _optional_str(config, "JWT_COOKIE_DOMAIN", empty_is_none=True)
    samesite = _samesite(config)
    if strict:
        cookie_secure, cookie_domain, samesite = True, None, "Lax"
    identity_claim = _as_str(config, "JWT_IDENTITY_CLAIM")
    leeway = _seconds(config, "JWT_DECODE_LEEWAY")
    encode_audience = _one_or_many(config, "JWT_ENCODE_AUDIENCE")
    settings = Settings(
        token_location=normalize_locations(config["JWT_TOKEN_LOCATION"]),
        access=access,
        refresh=refresh,
        algorithm=algorithm,
        decode_algorithms=decode_algorithms,
        signing_key=signing_key,
        verification_key=verification_key,
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
        csrf_methods=_csrf_methods(config),
        csrf_check_form=_as_bool(config, "JWT_CSRF_CHECK_FORM"),
        query_string_name=_as_str(config, "JWT_QUERY_STRING_NAME"),
        query_string_prefix=_as_str(config, "JWT_QUERY_STRING_VALUE_PREFIX", empty=True),
        strict=strict,
        decode_options=DecodeOptions(
            algorithms=decode_algorithms,
            audience=_one_or_many(config, "JWT_DECODE_AUDIENCE"),
            issuer=_one_or_many(config, "JWT_DECODE_ISSUER"),
            leeway=leeway,
            verify_sub=_as_bool(config, "JWT_VERIFY_SUB"),
            identity_claim=identity_claim,
            max_size=_max_token_size(config),
            require_type=strict,
        ),
        revocation=_revocation(config, access, refresh, leeway),
        key_set=key_set,
        remote_keys=remote_keys,
        jwks_max_age=_jwks_max_age(config),
    )
    _check_security(settings, config)
    return settings


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this package."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _check_security(settings: Settings, config: Mapping[str, Any]) -> None:
    """Warn (or, with ``JWT_STRICT``, refuse) weak but working configurations."""
    problems = []
    key = settings.signing_key.material if settings.signing_key is not None else None
    if is_hmac(settings.algorithm) and isinstance(key, str | bytes) and key:
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
    families = {is_hmac(alg) for alg in settings.decode_algorithms}
    if len(families) > 1 and settings.key_set is None:  # a key set pins each key to its alg
        problems.append(
            "JWT_DECODE_ALGORITHMS mixes HMAC and asymmetric algorithms "
            f"({sorted(settings.decode_algorithms)}); keep one family (RFC 8725, 3.1)"
        )
    if problems and settings.strict:
        raise ConfigurationError("JWT_STRICT refuses this configuration: " + "; ".join(problems))
    for problem in problems:
        warnings.warn(problem, JWTGuardSecurityWarning, stacklevel=_user_stacklevel())


class SettingsCache:
    """Holds one app's :class:`Settings` and rebuilds it when its inputs change.

    "Changed" means a watched value differs from the one the settings were
    built from, by ``!=`` or by type (``1 == True`` and ``0 == False``, yet a
    leeway of ``True`` is a mistake and an expiry of ``False`` means "never").
    """

    __slots__ = ("_entry",)

    def __init__(self) -> None:
        # (snapshot of the watched values, their types, settings), swapped as one
        # object so that concurrent requests never pair a snapshot with other settings.
        self._entry: tuple[tuple[Any, ...], tuple[type, ...], Settings] | None = None

    def get(self, config: Mapping[str, Any]) -> Settings:
        """The settings for ``config``, rebuilt only if a watched value changed."""
        try:
            current = _read_watched(config)
        except KeyError:
            current = tuple(config.get(key, DEFAULTS.get(key)) for key in WATCHED_KEYS)
        entry = self._entry
        if entry is not None and current == entry[0] and tuple(map(type, current)) == entry[1]:
            return entry[2]
        # Copies of the containers, taken before building, so that an in-place
        # edit of a list in app.config is noticed.
        snapshot = tuple(
            copy.copy(value) if isinstance(value, list | dict | set) else value for value in current
        )
        settings = build_settings(dict(zip(WATCHED_KEYS, snapshot, strict=True)))
        self._entry = (snapshot, tuple(map(type, snapshot)), settings)
        return settings
