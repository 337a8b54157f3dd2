"""The :class:`JWTManager`: ``init_app``, the callback registry and the error handler."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from .context import current_state, current_user_context_processor, state_of
from .exceptions import (
    ConfigurationError,
    CSRFError,
    ExpiredSignatureError,
    FreshTokenRequired,
    JWTExtendedException,
    NoAuthorizationError,
    RevocationStoreUnavailable,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
)
from .keys import public_jwk
from .sessions import refresh_expiring_cookie
from .settings import DEFAULTS
from .state import EXTENSION_KEY, JWTState, Loaders
from .typing import (
    DecodeKeyCallback,
    EncodeKeyCallback,
    IdentityCallback,
    IdentityMappingCallback,
    JWTData,
    JWTHeader,
    TokenPredicate,
    UserLookupCallback,
)

#: ``(jwt_header, jwt_data) -> response``
TokenResponseCallback = Callable[[JWTHeader, JWTData], ResponseReturnValue]
#: ``(message) -> response``
MessageResponseCallback = Callable[[str], ResponseReturnValue]

C = TypeVar("C", bound=Callable[..., Any])


def error_response(message: str, status: int) -> ResponseReturnValue:
    """A JSON error body under ``JWT_ERROR_MESSAGE_KEY``, as the default responses send."""
    return jsonify({current_state().settings.error_msg_key: message}), status


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


def _store_unavailable(message: str) -> ResponseReturnValue:
    return error_response(message, HTTPStatus.SERVICE_UNAVAILABLE)


def _user_lookup_error(jwt_header: JWTHeader, jwt_data: JWTData) -> ResponseReturnValue:
    identity = jwt_data.get(current_state().settings.identity_claim)
    return error_response(f"Error loading the user {identity}", HTTPStatus.UNAUTHORIZED)


@dataclass(slots=True)
class Responses:
    """The response callbacks that the loader decorators set, with the documented defaults."""

    expired_token: TokenResponseCallback = _expired
    invalid_token: MessageResponseCallback = _invalid
    needs_fresh_token: TokenResponseCallback = _needs_fresh
    revoked_token: TokenResponseCallback = _revoked
    token_verification_failed: TokenResponseCallback = _verification_failed
    unauthorized: MessageResponseCallback = _unauthorized
    user_lookup_error: TokenResponseCallback = _user_lookup_error
    revocation_store_unavailable: MessageResponseCallback = _store_unavailable


def _by_message(name: str) -> Callable[[Responses, Any], ResponseReturnValue]:
    return lambda responses, error: getattr(responses, name)(str(error))


def _by_token(name: str) -> Callable[[Responses, Any], ResponseReturnValue]:
    return lambda responses, error: getattr(responses, name)(error.jwt_header, error.jwt_data)


#: Which response answers which error: the first class found along the error's MRO.
ERROR_TABLE: dict[type[BaseException], Callable[[Responses, Any], ResponseReturnValue]] = {
    NoAuthorizationError: _by_message("unauthorized"),
    CSRFError: _by_message("unauthorized"),
    ExpiredSignatureError: _by_token("expired_token"),
    RevokedTokenError: _by_token("revoked_token"),
    FreshTokenRequired: _by_token("needs_fresh_token"),
    UserLookupError: _by_token("user_lookup_error"),
    UserClaimsVerificationError: _by_token("token_verification_failed"),
    RevocationStoreUnavailable: _by_message("revocation_store_unavailable"),
    JWTExtendedException: _by_message("invalid_token"),
}


class _JWTErrorsToFlask:
    """``app.handle_user_exception`` once an API framework has wrapped it.

    Flask-RESTX and Flask-RESTful replace ``app.handle_user_exception`` with their
    ``error_router``, which answers every error of their resources itself: with
    propagation off (production), an exception they have no handler for becomes a 500.
    This extension's errors go to Flask's own method instead, so the app's handlers
    answer them exactly as on a plain route; every other error goes to the framework.
    """

    __slots__ = ("app", "framework_handler")

    def __init__(
        self, app: Flask, framework_handler: Callable[[Exception], HTTPException | ResponseReturnValue]
    ) -> None:
        self.app = app
        self.framework_handler = framework_handler

    def __call__(self, error: Exception) -> HTTPException | ResponseReturnValue:
        if isinstance(error, JWTExtendedException):
            return type(self.app).handle_user_exception(self.app, error)
        return self.framework_handler(error)


def _keep_jwt_errors_for_flask(app: Flask) -> None:
    """``before_request``: put :class:`_JWTErrorsToFlask` in front of a framework's error router.

    Checked on each request (an instance attribute lookup), since an ``Api`` may be
    created, or a blueprint carrying one registered, after ``init_app``.
    """
    handler = vars(app).get("handle_user_exception")  # None: Flask's own method
    if handler is not None and not isinstance(handler, _JWTErrorsToFlask):
        app.handle_user_exception = _JWTErrorsToFlask(app, handler)  # type: ignore[method-assign,assignment]


def _answer_for(error_class: type[BaseException]) -> Callable[[Responses, Any], ResponseReturnValue]:
    for cls in error_class.__mro__:
        answer = ERROR_TABLE.get(cls)
        if answer is not None:
            return answer
    raise TypeError(f"{error_class.__name__} is not a JWTExtendedException")  # unreachable


class JWTManager:
    """Holds the callbacks of Flask-JWT-Guard and binds them to apps.

    One manager may serve several apps (the app-factory pattern); each app
    keeps its own configuration.

    :param app: the app to initialise now, if any.
    :param add_context_processor: expose ``current_user`` to templates.
    """

    def __init__(self, app: Flask | None = None, add_context_processor: bool = False) -> None:
        #: The data callbacks, shared with the state of every app this manager serves.
        self.loaders = Loaders()
        #: The response callbacks of the error handler.
        self.responses = Responses()
        self._answers: dict[type[BaseException], Callable[[Responses, Any], ResponseReturnValue]] = {}
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        """Register the extension on ``app``: its state, configuration defaults and error handler.

        The configuration is validated now, so a bad ``JWT_*`` value fails at
        start-up; later edits of ``app.config`` are picked up on next use.

        :raises ConfigurationError: naming an invalid key, or when ``app`` already
            has another ``JWTManager`` (it would silently replace the first's callbacks).
            Initialising the same manager again is a no-op.
        """
        registered = app.extensions.get(EXTENSION_KEY)
        if registered is not None and registered.loaders is self.loaders:
            return  # the same manager again (a test fixture, a factory run twice): nothing to do
        if registered is not None:
            raise ConfigurationError(
                f"A JWTManager is already registered on the app {app.name!r}; "
                "one app takes one manager (one manager may serve several apps)"
            )
        defaulted = frozenset(key for key in DEFAULTS if key not in app.config)
        for key, value in DEFAULTS.items():
            # A copy per app: one app editing its list in place must not change another's.
            app.config.setdefault(key, copy.copy(value) if isinstance(value, list) else value)
        state = JWTState(app.config, self.loaders)
        state.defaulted_keys = defaulted
        state.settings  # noqa: B018 - validate now, so that a bad value fails at start-up
        app.extensions[EXTENSION_KEY] = state
        self.register_error_handler(app)
        # Flask-RESTX, Flask-RESTful: an Api made before the manager now, a later one on its first
        # request, before any other before_request function (which may call verify_jwt_in_request).
        _keep_jwt_errors_for_flask(app)
        app.before_request_funcs.setdefault(None, []).insert(0, partial(_keep_jwt_errors_for_flask, app))
        app.after_request(refresh_expiring_cookie)  # does nothing unless JWT_IMPLICIT_REFRESH is set
        rule = app.config["JWT_JWKS_URL_RULE"]
        if rule:
            app.add_url_rule(rule, "jwt_guard_jwks", self._serve_jwks, methods=["GET"])
        if add_context_processor:
            app.context_processor(current_user_context_processor)

    # ------------------------------------------------------------------ loaders

    def _set(self, name: str, callback: C) -> C:
        target = self.loaders if hasattr(self.loaders, name) else self.responses
        setattr(target, name, callback)
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

    def revocation_store_unavailable_loader(
        self, callback: MessageResponseCallback
    ) -> MessageResponseCallback:
        """Response when the revocation store does not answer: ``callback(message)``. Default: 503.

        .. versionadded:: 0.2
        """
        return self._set("revocation_store_unavailable", callback)

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

    def jwks(self, app: Flask | None = None) -> dict[str, Any]:
        """The public JWK Set of ``JWT_SIGNING_KEYS`` (of the current app by default).

        Public members only: never ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi`` or ``k``;
        shared-secret (HS*) keys are left out. The same dict ``JWT_JWKS_URL_RULE`` serves.

        .. versionadded:: 0.2
        """
        state = state_of(app) if app is not None else current_state()
        key_set = state.settings.key_set
        keys = [public_jwk(key) for key in key_set.keys] if key_set is not None else []
        return {"keys": [jwk for jwk in keys if jwk is not None]}

    def _serve_jwks(self) -> ResponseReturnValue:
        response = jsonify(self.jwks())
        max_age = current_state().settings.jwks_max_age
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
        return response

    def register_error_handler(self, target: Any) -> None:
        """Answer this extension's request errors on ``target``: an app or a blueprint.

        ``init_app`` does this for the app. A Flask-RESTX or Flask-RESTful ``Api``
        needs nothing: in their resources too, this extension's errors reach the
        app's handlers (``init_app`` sees to it), so passing an ``Api`` does nothing.
        Only :class:`~flask_jwt_guard.exceptions.JWTExtendedException` and its
        subclasses are answered; configuration errors stay server errors.
        """
        if hasattr(target, "error_router"):
            return  # an API framework's Api: its error router hands our errors to the app
        target.errorhandler(JWTExtendedException)(self.handle_error)

    #: Flask-JWT-Extended's name for :meth:`register_error_handler`, which its users call.
    _set_error_handler_callbacks = register_error_handler

    def handle_error(self, error: JWTExtendedException) -> ResponseReturnValue:
        """The response to ``error``, from the loader for its class (see :data:`ERROR_TABLE`)."""
        cls = type(error)
        answer = self._answers.get(cls)
        if answer is None:
            answer = self._answers[cls] = _answer_for(cls)
        return answer(self.responses, error)
