"""The :class:`JWTManager`: ``init_app``, the callback registry and the error handler."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any, TypeVar

import jwt
from flask import Flask, current_app, g, jsonify
from flask.typing import ResponseReturnValue

from . import tokens
from .exceptions import (
    ConfigurationError,
    CSRFError,
    FreshTokenRequired,
    InvalidSignatureError,
    JWTGuardError,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
)
from .settings import DEFAULTS, Settings, SettingsCache

EXTENSION_KEY = "jwt_guard"
_MINTED_KEPT = 8
_NOT_INITIALIZED = "You must initialize a JWTManager with this flask application before using this method"
SETTINGS_KEY = "jwt_guard.settings"

JWTHeader = dict[str, Any]
JWTData = dict[str, Any]
#: ``(jwt_header, jwt_data) -> response``
TokenResponseCallback = Callable[[JWTHeader, JWTData], ResponseReturnValue]
#: ``(message) -> response``
MessageResponseCallback = Callable[[str], ResponseReturnValue]
#: ``(jwt_header, jwt_data) -> bool``
TokenPredicate = Callable[[JWTHeader, JWTData], bool]
#: ``(identity) -> claims or headers``
IdentityMappingCallback = Callable[[Any], Mapping[str, Any]]
#: ``(identity) -> JSON-serializable identity``
IdentityCallback = Callable[[Any], Any]
#: ``(jwt_header, jwt_data) -> key``
DecodeKeyCallback = Callable[[JWTHeader, JWTData], Any]
#: ``(identity) -> key``
EncodeKeyCallback = Callable[[Any], Any]
#: ``(jwt_header, jwt_data) -> user or None``
UserLookupCallback = Callable[[JWTHeader, JWTData], Any]

C = TypeVar("C", bound=Callable[..., Any])


def error_response(message: str, status: int) -> ResponseReturnValue:
    """A JSON error body under ``JWT_ERROR_MESSAGE_KEY``, as the default callbacks send."""
    return jsonify({current_settings().error_msg_key: message}), status


def _expired(jwt_header: JWTHeader, jwt_data: JWTData) -> ResponseReturnValue:
    return error_response("Token has expired", HTTPStatus.UNAUTHORIZED)


def _invalid(message: str) -> ResponseReturnValue:
    return error_response(message, HTTPStatus.UNPROCESSABLE_ENTITY)


def _unauthorized(message: str) -> ResponseReturnValue:
    return error_response(message, HTTPStatus.UNAUTHORIZED)


def _needs_fresh(jwt_header: JWTHeader, jwt_data: JWTData) -> ResponseReturnValue:
    return error_response("Fresh token required", HTTPStatus.UNAUTHORIZED)


def _revoked(jwt_header: JWTHeader, jwt_data: JWTData) -> ResponseReturnValue:
    return error_response("Token has been revoked", HTTPStatus.UNAUTHORIZED)


def _verification_failed(jwt_header: JWTHeader, jwt_data: JWTData) -> ResponseReturnValue:
    return error_response("User claims verification failed", HTTPStatus.BAD_REQUEST)


def _user_lookup_error(jwt_header: JWTHeader, jwt_data: JWTData) -> ResponseReturnValue:
    identity = jwt_data.get(current_settings().identity_claim)
    return error_response(f"Error loading the user {identity}", HTTPStatus.UNAUTHORIZED)


def _no_extras(identity: Any) -> Mapping[str, Any]:
    return {}


def _same_identity(identity: Any) -> Any:
    return identity


@dataclass(slots=True)
class Callbacks:
    """What the loader decorators set; ``None`` means "not set, skip the step"."""

    additional_claims: IdentityMappingCallback = _no_extras
    additional_headers: IdentityMappingCallback = _no_extras
    decode_key: DecodeKeyCallback | None = None
    encode_key: EncodeKeyCallback | None = None
    expired_token: TokenResponseCallback = _expired
    invalid_token: MessageResponseCallback = _invalid
    needs_fresh_token: TokenResponseCallback = _needs_fresh
    revoked_token: TokenResponseCallback = _revoked
    token_in_blocklist: TokenPredicate | None = None
    token_verification_failed: TokenResponseCallback = _verification_failed
    token_verification: TokenPredicate | None = None
    unauthorized: MessageResponseCallback = _unauthorized
    user_identity: IdentityCallback = _same_identity
    user_lookup_error: TokenResponseCallback = _user_lookup_error
    user_lookup: UserLookupCallback | None = None


class JWTManager:
    """Holds the callbacks of Flask-JWT-Guard and binds them to apps.

    One manager may serve several apps (the app-factory pattern); each app
    keeps its own configuration.

    :param app: the app to initialise now, if any.
    :param add_context_processor: expose ``current_user`` to templates.
    """

    def __init__(self, app: Flask | None = None, add_context_processor: bool = False) -> None:
        self._callbacks = Callbacks()
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        """Register the extension, its configuration defaults and its error handler.

        The configuration is validated now, so a bad ``JWT_*`` value fails at
        start-up; later edits of ``app.config`` are picked up on next use.

        :raises ConfigurationError: naming an invalid key.
        """
        for key, value in DEFAULTS.items():
            # A copy per app: one app editing its list in place must not change another's.
            app.config.setdefault(key, copy.copy(value) if isinstance(value, list) else value)
        app.extensions[EXTENSION_KEY] = self
        cache = SettingsCache()
        app.extensions[SETTINGS_KEY] = cache
        app.register_error_handler(JWTGuardError, self._handle_error)
        if add_context_processor:
            from .context import current_user

            app.context_processor(lambda: {"current_user": current_user})
        cache.get(app.config)

    # ------------------------------------------------------------------ loaders

    def _set(self, name: str, callback: C) -> C:
        setattr(self._callbacks, name, callback)
        return callback

    def additional_claims_loader(self, callback: IdentityMappingCallback) -> IdentityMappingCallback:
        """Claims to add to every new token: ``callback(identity) -> dict``.

        Claims passed to ``create_*_token(additional_claims=...)`` win over these.
        """
        return self._set("additional_claims", callback)

    def additional_headers_loader(self, callback: IdentityMappingCallback) -> IdentityMappingCallback:
        """JOSE headers to add to every new token: ``callback(identity) -> dict``."""
        return self._set("additional_headers", callback)

    def decode_key_loader(self, callback: DecodeKeyCallback) -> DecodeKeyCallback:
        """Choose the verification key from the **unverified** token.

        ``callback(jwt_header, jwt_data) -> key``. The algorithm allow-list
        still applies, whatever the token's header says.
        """
        return self._set("decode_key", callback)

    def encode_key_loader(self, callback: EncodeKeyCallback) -> EncodeKeyCallback:
        """Choose the signing key from the identity: ``callback(identity) -> key``."""
        return self._set("encode_key", callback)

    def expired_token_loader(self, callback: TokenResponseCallback) -> TokenResponseCallback:
        """Response for an expired token: ``callback(jwt_header, jwt_data)``. Default: 401."""
        return self._set("expired_token", callback)

    def invalid_token_loader(self, callback: MessageResponseCallback) -> MessageResponseCallback:
        """Response for an invalid token: ``callback(message)``. Default: 422."""
        return self._set("invalid_token", callback)

    def needs_fresh_token_loader(self, callback: TokenResponseCallback) -> TokenResponseCallback:
        """Response for a stale token on a ``fresh=True`` route. Default: 401."""
        return self._set("needs_fresh_token", callback)

    def revoked_token_loader(self, callback: TokenResponseCallback) -> TokenResponseCallback:
        """Response for a revoked token: ``callback(jwt_header, jwt_data)``. Default: 401."""
        return self._set("revoked_token", callback)

    def token_in_blocklist_loader(self, callback: TokenPredicate) -> TokenPredicate:
        """Whether a token is revoked: ``callback(jwt_header, jwt_data) -> bool``."""
        return self._set("token_in_blocklist", callback)

    def token_verification_failed_loader(self, callback: TokenResponseCallback) -> TokenResponseCallback:
        """Response when ``token_verification_loader`` says no. Default: 400."""
        return self._set("token_verification_failed", callback)

    def token_verification_loader(self, callback: TokenPredicate) -> TokenPredicate:
        """An extra check of every valid token: ``callback(jwt_header, jwt_data) -> bool``."""
        return self._set("token_verification", callback)

    def unauthorized_loader(self, callback: MessageResponseCallback) -> MessageResponseCallback:
        """Response when no token is found or CSRF fails: ``callback(message)``. Default: 401."""
        return self._set("unauthorized", callback)

    def user_identity_loader(self, callback: IdentityCallback) -> IdentityCallback:
        """Turn the ``identity`` passed to ``create_*_token`` into the identity claim."""
        return self._set("user_identity", callback)

    def user_lookup_error_loader(self, callback: TokenResponseCallback) -> TokenResponseCallback:
        """Response when ``user_lookup_loader`` returns ``None``. Default: 401."""
        return self._set("user_lookup_error", callback)

    def user_lookup_loader(self, callback: UserLookupCallback) -> UserLookupCallback:
        """Load the user of a protected request: ``callback(jwt_header, jwt_data)``.

        Return ``None`` when there is no such user (the request is refused).
        The result is :data:`~flask_jwt_guard.current_user`.
        """
        return self._set("user_lookup", callback)

    # ------------------------------------------------------------------ errors

    def _set_error_handler_callbacks(self, app: Any) -> None:
        """Register the error handler on ``app`` or on anything with ``errorhandler``.

        ``init_app`` does this for the app; call it for a Flask-RESTX or
        Flask-RESTful ``Api``, which answers errors before the app does.
        """
        app.errorhandler(JWTGuardError)(self._handle_error)

    def _handle_error(self, error: JWTGuardError) -> ResponseReturnValue:
        callbacks = self._callbacks
        if isinstance(error, ConfigurationError):
            raise error  # a server-side mistake, not the client's: a 500 with its traceback
        if isinstance(error, NoAuthorizationError | CSRFError):
            return callbacks.unauthorized(str(error))
        if isinstance(error, jwt.ExpiredSignatureError):
            return callbacks.expired_token(getattr(error, "jwt_header", {}), getattr(error, "jwt_data", {}))
        if isinstance(error, RevokedTokenError):
            return callbacks.revoked_token(error.jwt_header, error.jwt_data)
        if isinstance(error, FreshTokenRequired):
            return callbacks.needs_fresh_token(error.jwt_header, error.jwt_data)
        if isinstance(error, UserLookupError):
            return callbacks.user_lookup_error(error.jwt_header, error.jwt_data)
        if isinstance(error, UserClaimsVerificationError):
            return callbacks.token_verification_failed(error.jwt_header, error.jwt_data)
        return callbacks.invalid_token(str(error))

    # ------------------------------------------------------------------ tokens

    def _encode(
        self,
        identity: Any,
        token_type: str,
        fresh: bool | float | timedelta,
        expires_delta: Any,
        additional_claims: Mapping[str, Any] | None,
        additional_headers: Mapping[str, Any] | None,
    ) -> str:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        settings = _settings_of(app)
        callbacks = self._callbacks
        headers = dict(callbacks.additional_headers(identity) or {})
        if additional_headers:
            headers.update(additional_headers)
        extra = dict(callbacks.additional_claims(identity) or {})
        if additional_claims:
            extra.update(additional_claims)
        expires: Any
        if expires_delta is None or expires_delta is True:
            expires = settings.access_expires if token_type == "access" else settings.refresh_expires
        elif expires_delta is False:
            expires = None
        elif isinstance(expires_delta, int | float):
            expires = timedelta(seconds=expires_delta)
        else:
            expires = expires_delta  # a timedelta, or e.g. a relativedelta
        if callbacks.encode_key is not None:
            key = callbacks.encode_key(identity)
        else:
            key = settings.encode_key
        if not key:
            raise ConfigurationError(settings.key_error or "no signing key is configured")
        claims = tokens.build_claims(
            identity=callbacks.user_identity(identity),
            token_type=token_type,
            identity_claim=settings.identity_claim,
            fresh=fresh,
            expires_delta=expires,
            audience=settings.encode_audience,
            issuer=settings.encode_issuer,
            encode_nbf=settings.encode_nbf,
            csrf=settings.csrf_protect,
            extra=extra,
        )
        token = tokens.encode(
            claims,
            key,
            settings.algorithm,
            headers=headers,
            json_default=getattr(app.json, "default", None),
        )
        if len(token) > settings.decode_options.max_size:
            raise ValueError(
                f"The new token is {len(token)} bytes long, over JWT_MAX_TOKEN_SIZE "
                f"({settings.decode_options.max_size}), so it would be refused: raise "
                "JWT_MAX_TOKEN_SIZE or put fewer claims in the token"
            )
        csrf = claims.get("csrf")
        if isinstance(csrf, str):
            # set_*_cookies in this app context reuses it instead of decoding the token.
            minted: dict[str, str] = g.setdefault("_jwt_guard_minted", {})
            if len(minted) >= _MINTED_KEPT:  # a long-lived app context (CLI, batch job)
                minted.clear()
            minted[token] = csrf
        return token

    def _decode(
        self,
        encoded_token: str,
        settings: Settings,
        csrf_value: str | None = None,
        allow_expired: bool = False,
    ) -> tuple[JWTHeader, JWTData]:
        options = settings.decode_options
        parsed = tokens.parse(encoded_token, options.max_size)
        payload = None
        if self._callbacks.decode_key is not None:
            payload = tokens.unverified_payload(parsed)
            key = self._callbacks.decode_key(parsed.header, payload)
            if not key:  # e.g. an unknown "kid": the token's fault, not the server's
                raise InvalidSignatureError("Signature verification failed")
        else:
            key = settings.decode_key
            if not key:
                raise ConfigurationError(settings.key_error or "no verification key is configured")
        return tokens.decode(
            encoded_token,
            key,
            options,
            csrf_value=csrf_value,
            allow_expired=allow_expired,
            parsed=parsed,
            payload=payload,
        )


def _settings_of(app: Flask) -> Settings:
    try:
        cache: SettingsCache = app.extensions[SETTINGS_KEY]
    except KeyError:
        raise RuntimeError(_NOT_INITIALIZED) from None
    return cache.get(app.config)


def current_settings() -> Settings:
    """The compiled settings of the current app."""
    return _settings_of(current_app._get_current_object())  # type: ignore[attr-defined]


def current_manager() -> JWTManager:
    """The manager bound to the current app."""
    try:
        manager: JWTManager = current_app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(_NOT_INITIALIZED) from None
    return manager
