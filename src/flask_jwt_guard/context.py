"""What the current app and request know: the app's :class:`JWTState`, the request's token.

The verified token is kept on the request object itself (one namespaced
attribute), never on ``g``: an app context may be shared by several requests
(an app that pushes one at import time), and a token must not outlive its request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Request, current_app, has_request_context, request
from werkzeug.local import LocalProxy

from .state import EXTENSION_KEY, NOT_LOOKED_UP, JWTState

REQUEST_ATTR = "jwt_guard"
_NOT_INITIALIZED = "You must initialize a JWTManager with this flask application before using this method"
_NOT_VERIFIED = "You must call `@jwt_required()` or `verify_jwt_in_request()` before using this method"


def state_of(app: Flask) -> JWTState:
    """The :class:`JWTState` of ``app``.

    :raises RuntimeError: no ``JWTManager`` was initialised with ``app``.
    """
    try:
        state: JWTState = app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(_NOT_INITIALIZED) from None
    return state


def current_state() -> JWTState:
    """The :class:`JWTState` of the current app."""
    return state_of(current_app._get_current_object())  # type: ignore[attr-defined]


@dataclass(slots=True)
class RequestJWT:
    """What one request knows: its verified token (empty when anonymous) and its session bookkeeping."""

    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    location: str | None = None
    user: Any = None
    user_loaded: bool = True
    identity_claim: str = "sub"
    #: ``False`` until ``verify_jwt_in_request`` has run in this request.
    verified: bool = True
    #: The identity's generation as the store said during verification, if it was asked.
    generation: str | None | object = NOT_LOOKED_UP
    #: Sessions started in this request (a login): identity (or its tag) -> (sid, generation).
    sessions: dict[str, tuple[str, str | None | object]] = field(default_factory=dict)
    #: A ``revoke_*`` call ran in this request: no implicit refresh on its response.
    ended: bool = False
    #: The revocation checks ran for this token (not ``skip_revocation_check``).
    revocation_checked: bool = False


def remember(req: Request, verified: RequestJWT) -> None:
    """Attach the outcome of verification to ``req`` (keeping the request's session bookkeeping)."""
    previous: RequestJWT | None = getattr(req, REQUEST_ATTR, None)
    if previous is not None:
        verified.sessions, verified.ended = previous.sessions, previous.ended
    setattr(req, REQUEST_ATTR, verified)


def request_state() -> RequestJWT | None:
    """The current request's state, created unverified if needed; ``None`` outside a request."""
    if not has_request_context():
        return None
    req = request._get_current_object()  # type: ignore[attr-defined]
    state: RequestJWT | None = getattr(req, REQUEST_ATTR, None)
    if state is None:
        state = RequestJWT(verified=False)
        setattr(req, REQUEST_ATTR, state)
    return state


def request_jwt() -> RequestJWT | None:
    """The current request's verified token, or ``None`` (no request, or not verified)."""
    if not has_request_context():
        return None
    verified: RequestJWT | None = getattr(request._get_current_object(), REQUEST_ATTR, None)  # type: ignore[attr-defined]
    return verified if verified is not None and verified.verified else None


def _verified() -> RequestJWT:
    verified = request_jwt()
    if verified is None:
        raise RuntimeError(_NOT_VERIFIED)
    return verified


def get_jwt() -> dict[str, Any]:
    """The claims of the token of this request (``{}`` on an optional route without one).

    :raises RuntimeError: outside a request verified by ``jwt_required``/``verify_jwt_in_request``.
    """
    return _verified().claims


def get_jwt_header() -> dict[str, Any]:
    """The JOSE header of the token of this request (``{}`` when there is none)."""
    return _verified().header


def get_jwt_identity() -> Any:
    """The identity claim (``JWT_IDENTITY_CLAIM``, ``sub`` by default), or ``None``."""
    verified = _verified()
    return verified.claims.get(verified.identity_claim)


def get_jwt_request_location() -> str | None:
    """Where the token of this request was found (``"headers"``, ``"cookies"``, ...), or ``None``."""
    verified = request_jwt()
    return verified.location if verified is not None else None


def get_current_user() -> Any:
    """The user that ``user_lookup_loader`` returned for this request.

    :raises RuntimeError: outside a verified request, or without a ``user_lookup_loader``.
    """
    verified = _verified()
    if not verified.user_loaded:
        raise RuntimeError("You must provide a `@jwt.user_lookup_loader` callback to use this method")
    return verified.user


#: A proxy to :func:`get_current_user`.
current_user: Any = LocalProxy(get_current_user)


def current_user_context_processor() -> dict[str, Any]:
    """``{"current_user": current_user}`` for templates (``add_context_processor=True``).

    The proxy is resolved only when a template uses it.
    """
    return {"current_user": current_user}
