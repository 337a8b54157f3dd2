"""What the current request knows about its token: ``get_jwt``, ``current_user`` and friends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import g
from werkzeug.local import LocalProxy

G_KEY = "_jwt_guard"
_NOT_VERIFIED = "You must call `@jwt_required()` or `verify_jwt_in_request()` before using this method"


@dataclass(slots=True)
class RequestJWT:
    """The verified token of this request (empty for an optional route without one)."""

    header: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    location: str | None = None
    user: Any = None
    user_loaded: bool = True
    identity_claim: str = "sub"


def _request_jwt() -> RequestJWT:
    state: RequestJWT | None = g.get(G_KEY)
    if state is None:
        raise RuntimeError(_NOT_VERIFIED)
    return state


def get_jwt() -> dict[str, Any]:
    """The claims of the token of this request (``{}`` on an optional route without one).

    :raises RuntimeError: outside a request verified by ``jwt_required``/``verify_jwt_in_request``.
    """
    return _request_jwt().claims


def get_jwt_header() -> dict[str, Any]:
    """The JOSE header of the token of this request (``{}`` when there is none)."""
    return _request_jwt().header


def get_jwt_identity() -> Any:
    """The identity claim (``JWT_IDENTITY_CLAIM``, ``sub`` by default), or ``None``."""
    state = _request_jwt()
    return state.claims.get(state.identity_claim)


def get_jwt_request_location() -> str | None:
    """Where the token of this request was found (``"headers"``, ``"cookies"``, ...), or ``None``."""
    state: RequestJWT | None = g.get(G_KEY)
    return state.location if state is not None else None


def get_current_user() -> Any:
    """The user that ``user_lookup_loader`` returned for this request.

    :raises RuntimeError: outside a verified request, or without a ``user_lookup_loader``.
    """
    state = _request_jwt()
    if not state.user_loaded:
        raise RuntimeError("You must provide a `@jwt.user_lookup_loader` callback to use this method")
    return state.user


#: A proxy to :func:`get_current_user`.
current_user: Any = LocalProxy(get_current_user)
