"""One object per app: its settings, the manager's loaders, keys, and the clock.

:class:`JWTState` lives under ``app.extensions["jwt_guard"]``. It turns the
pure core (:mod:`~flask_jwt_guard.tokens`) into "create a token for this app"
and "verify a token for this app": it picks the key (configured, or from a
loader), reads "now" from its clock, and fills in the claims the extension
relies on. Nothing here imports Flask.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from . import tokens
from .csrf import check_csrf, new_csrf_token
from .exceptions import (
    ConfigurationError,
    DecodeError,
    ExpiredSignatureError,
    InvalidSignatureError,
    TokenCreationError,
)
from .keys import Key, KeyCache
from .settings import Settings, SettingsCache
from .typing import (
    Clock,
    DecodeKeyCallback,
    EncodeKeyCallback,
    IdentityCallback,
    IdentityMappingCallback,
    JWTData,
    JWTHeader,
    TokenPredicate,
    UserLookupCallback,
)

EXTENSION_KEY = "jwt_guard"
_MINTED_KEPT = 64


@dataclass(slots=True)
class Loaders:
    """The data callbacks that the loader decorators set; ``None``: not set, skip the step."""

    additional_claims: IdentityMappingCallback | None = None
    additional_headers: IdentityMappingCallback | None = None
    decode_key: DecodeKeyCallback | None = None
    encode_key: EncodeKeyCallback | None = None
    token_in_blocklist: TokenPredicate | None = None
    token_verification: TokenPredicate | None = None
    user_identity: IdentityCallback | None = None
    user_lookup: UserLookupCallback | None = None


class JWTState:
    """Everything Flask-JWT-Guard keeps for one app.

    :param config: the app's configuration mapping (``app.config``).
    :param loaders: the manager's loaders (shared by every app of that manager).
    :param clock: where "now" comes from; :func:`time.time` unless a test moves it.
    """

    __slots__ = ("_keys", "_minted", "_settings", "clock", "config", "loaders")

    def __init__(self, config: Mapping[str, Any], loaders: Loaders, clock: Clock = time.time) -> None:
        self.config = config
        self.loaders = loaders
        self.clock: Clock = clock
        self._settings = SettingsCache()
        self._keys = KeyCache()
        # CSRF values of tokens this app made recently, so that set_*_cookies
        # need not verify a token it has just signed. Bounded; any thread may fill it.
        self._minted: dict[str, str] = {}

    @property
    def settings(self) -> Settings:
        """The compiled settings, rebuilt if a ``JWT_*`` value changed since last time.

        :raises ConfigurationError: naming an invalid key.
        """
        return self._settings.get(self.config)

    # ------------------------------------------------------------------ creating

    def create_token(
        self,
        identity: Any,
        token_type: str,
        *,
        fresh: bool | float | timedelta = False,
        expires_delta: Any = None,
        additional_claims: Mapping[str, Any] | None = None,
        additional_headers: Mapping[str, Any] | None = None,
        json_default: Callable[[Any], Any] | None = None,
    ) -> str:
        """Sign a new ``"access"`` or ``"refresh"`` token for ``identity``.

        :param expires_delta: ``None``/``True``: the configured lifetime; ``False``:
            never expires; seconds, a timedelta or a relativedelta: that lifetime.
        :raises ConfigurationError: no usable signing key.
        :raises TokenCreationError: the token would be longer than ``JWT_MAX_TOKEN_SIZE``.
        """
        settings = self.settings
        loaders = self.loaders
        headers = dict(loaders.additional_headers(identity) or {}) if loaders.additional_headers else {}
        if additional_headers:
            headers.update(additional_headers)
        extra = dict(loaders.additional_claims(identity) or {}) if loaders.additional_claims else {}
        if additional_claims:
            extra.update(additional_claims)
        key = self._signing_key(identity, settings)
        csrf = new_csrf_token() if settings.csrf_protect else None
        claims = tokens.build_claims(
            identity=loaders.user_identity(identity) if loaders.user_identity else identity,
            token_type=token_type,
            now=self.clock(),
            identity_claim=settings.identity_claim,
            fresh=fresh,
            expires_delta=_lifetime(expires_delta, settings.of(token_type == "refresh").expires),
            audience=settings.encode_audience,
            issuer=settings.encode_issuer,
            encode_nbf=settings.encode_nbf,
            csrf=csrf,
            extra=extra,
        )
        token = tokens.encode(claims, key, settings.algorithm, headers=headers, json_default=json_default)
        limit = settings.decode_options.max_size
        if len(token) > limit:
            raise TokenCreationError(
                f"The new token is {len(token)} bytes long, over JWT_MAX_TOKEN_SIZE ({limit}), so it "
                "would be refused: raise JWT_MAX_TOKEN_SIZE or put fewer claims in the token"
            )
        if isinstance(claims.get("csrf"), str):
            if len(self._minted) >= _MINTED_KEPT:
                self._minted.clear()
            self._minted[token] = claims["csrf"]
        return token

    def _signing_key(self, identity: Any, settings: Settings) -> Key:
        if self.loaders.encode_key is not None:
            material = self.loaders.encode_key(identity)
            if not material:
                raise ConfigurationError("encode_key_loader returned no key")
            return self._keys.get(material)
        if settings.signing_key is None:
            raise ConfigurationError(settings.key_error)
        return settings.signing_key

    # ------------------------------------------------------------------ verifying

    def verify_token(
        self,
        token: str,
        settings: Settings | None = None,
        *,
        csrf_value: str | None = None,
        allow_expired: bool = False,
    ) -> tuple[JWTHeader, JWTData]:
        """Verify ``token`` with this app's keys and options; return ``(header, claims)``.

        Claims the extension relies on get their defaults (``type`` "access",
        ``fresh`` False, ``jti`` None), as Flask-JWT-Extended does.

        :param settings: the settings already looked up for this request, if any.
        :param csrf_value: when not ``None``, must equal the token's ``csrf`` claim
            (an empty string is a wrong value, not "skip the check").
        :param allow_expired: accept an expired (but otherwise valid) token.
        :raises JWTExtendedException: (subclasses) for every way the token can be bad;
            an expired one only after every other check, CSRF included.
        """
        if settings is None:
            settings = self.settings
        options = settings.decode_options
        parsed = tokens.parse(token, options.max_size)
        payload = None
        loader = self.loaders.decode_key
        if loader is not None:
            payload = tokens.unverified_payload(parsed)
            # Copies: what the loader does to them must not reach the trusted claims.
            try:
                header_copy, payload_copy = copy.deepcopy(parsed.header), copy.deepcopy(payload)
            except RecursionError:  # nested deeper than copying can go: not a token of ours
                raise DecodeError("Invalid token: nested too deeply") from None
            material = loader(header_copy, payload_copy)
            if not material:  # e.g. an unknown "kid": the token's fault, not the server's
                raise InvalidSignatureError("Signature verification failed")
            key = self._keys.get(material)
        elif settings.verification_key is not None:
            key = settings.verification_key
        else:
            raise ConfigurationError(settings.key_error)
        now = self.clock()
        header, claims, expired = tokens.decode(
            parsed, key, options, now=now, verify_exp=not allow_expired, payload=payload
        )
        claims.setdefault("type", "access")
        claims.setdefault("fresh", False)
        claims.setdefault("jti", None)
        if csrf_value is not None:
            check_csrf(claims, csrf_value)
        if expired:
            raise ExpiredSignatureError("Signature has expired", header, claims)
        return header, claims

    def is_fresh(self, claims: JWTData) -> bool:
        """Whether a verified token is fresh now.

        :raises JWTDecodeError: its ``fresh`` claim is neither a bool nor a NumericDate.
        """
        return tokens.is_fresh(claims, self.clock())

    def csrf_value(self, token: str, settings: Settings | None = None) -> str:
        """The ``csrf`` claim of ``token``: remembered if this app just made it, else verified."""
        csrf = self._minted.get(token)
        if csrf is not None:
            return csrf
        claims = self.verify_token(token, settings)[1]
        return str(claims["csrf"])


def _lifetime(expires_delta: Any, configured: Any) -> Any:
    if expires_delta is None or expires_delta is True:
        return configured
    if expires_delta is False:
        return None
    if isinstance(expires_delta, int | float):
        return timedelta(seconds=expires_delta)
    return expires_delta  # a timedelta, or e.g. a relativedelta
