"""Protecting views: :func:`jwt_required` and :func:`verify_jwt_in_request`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Request, after_this_request, current_app, g, request
from flask.typing import ResponseReturnValue

from .context import G_KEY, RequestJWT
from .exceptions import (
    FreshTokenRequired,
    JWTDecodeError,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
    WrongTokenError,
)
from .locations import EXTRACTORS
from .manager import EXTENSION_KEY, JWTManager, _settings_of
from .settings import Settings, normalize_locations

F = TypeVar("F", bound=Callable[..., Any])
LocationType = str | Sequence[str] | None
EXEMPT_METHODS = frozenset({"OPTIONS"})


class _Trusted(tuple[str, ...]):
    """Locations that ``jwt_required`` validated once, at decoration time."""

    __slots__ = ()


def _missing_message(locations: Sequence[str], errors: list[str]) -> str:
    if len(locations) == 1:
        return errors[0]
    return f"Missing JWT in {', '.join(locations[:-1])} or {locations[-1]} ({'; '.join(errors)})"


def _is_fresh(claims: dict[str, Any]) -> bool:
    fresh = claims["fresh"]
    if isinstance(fresh, bool):
        return fresh
    if isinstance(fresh, int | float):
        return fresh >= time.time()
    return False


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refuse_second_token(
    req: Request, settings: Settings, locations: Sequence[str], found_at: int, refresh: bool
) -> None:
    for location in locations[found_at + 1 :]:
        try:
            EXTRACTORS[location](req, settings, refresh)
        except NoAuthorizationError:
            continue
        except Exception:  # noqa: BLE001 - a malformed second token is still a second token
            pass
        raise JWTDecodeError("Tokens were sent in more than one location")


def verify_jwt_in_request(
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: LocationType = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Verify the token of the current request and remember it for ``get_jwt()`` & co.

    :param optional: a request without any token passes (an invalid token still fails).
    :param fresh: require a fresh token.
    :param refresh: require a refresh token (and look for the refresh cookie/JSON key).
    :param locations: where to look, overriding ``JWT_TOKEN_LOCATION``.
    :param verify_type: check access vs refresh; ``False`` accepts both.
    :param skip_revocation_check: do not call ``token_in_blocklist_loader``.
    :returns: ``(jwt_header, jwt_data)``, or ``None`` for OPTIONS requests and
        optional routes without a token.
    :raises JWTGuardError: (subclasses) answered by the manager's error handler.
    """
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    if req.method in EXEMPT_METHODS:
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = _settings_of(app)
    manager: JWTManager = app.extensions[EXTENSION_KEY]
    if not locations:
        where = settings.token_location
    elif type(locations) is _Trusted:
        where = locations
    else:
        where = normalize_locations(locations, "locations")

    errors: list[str] = []
    found_at = 0
    for found_at, location in enumerate(where):  # noqa: B007 - used after the loop
        try:
            token, csrf_value = EXTRACTORS[location](req, settings, refresh)
        except NoAuthorizationError as err:
            errors.append(str(err))
            continue
        break
    else:
        if not optional:
            raise NoAuthorizationError(_missing_message(where, errors))
        setattr(g, G_KEY, RequestJWT(identity_claim=settings.identity_claim))
        return None

    if settings.strict:
        if location == "query_string":
            # On every response to this request, the rejected ones included.
            after_this_request(_no_store)
        _refuse_second_token(req, settings, where, found_at, refresh)
    header, claims = manager._decode(token, settings, csrf_value)

    if verify_type:
        # Exact values only: a "type" of "ACCESS", 1 or ["access"] is nobody's token.
        if refresh and claims["type"] != "refresh":
            raise WrongTokenError("Only refresh tokens are allowed")
        if not refresh and claims["type"] != "access":
            raise WrongTokenError(
                "Only non-refresh tokens are allowed"
                if claims["type"] == "refresh"
                else "Only access tokens are allowed"
            )
    if fresh and not _is_fresh(claims):
        raise FreshTokenRequired("Fresh token required", header, claims)
    callbacks = manager._callbacks
    if not skip_revocation_check and callbacks.token_in_blocklist is not None:
        if callbacks.token_in_blocklist(header, claims):
            raise RevokedTokenError(header, claims)
    if callbacks.token_verification is not None:
        if not callbacks.token_verification(header, claims):
            raise UserClaimsVerificationError("User claims verification failed", header, claims)

    state = RequestJWT(
        header=header,
        claims=claims,
        location=location,
        user_loaded=False,
        identity_claim=settings.identity_claim,
    )
    if callbacks.user_lookup is not None:
        user = callbacks.user_lookup(header, claims)
        if user is None:
            identity = claims.get(settings.identity_claim)
            raise UserLookupError(f"user_lookup returned None for {identity}", header, claims)
        state.user, state.user_loaded = user, True
    setattr(g, G_KEY, state)
    return header, claims


def jwt_required(
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: LocationType = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
) -> Callable[[F], F]:
    """Protect a view (sync or async) with a JSON Web Token.

    Takes the arguments of :func:`verify_jwt_in_request`. Unknown
    ``locations`` fail here, when the view is decorated, not on a request.
    """
    where = _Trusted(normalize_locations(locations, "jwt_required(locations=...)")) if locations else None

    def wrapper(fn: F) -> F:
        @wraps(fn)
        def decorator(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            verify_jwt_in_request(optional, fresh, refresh, where, verify_type, skip_revocation_check)
            return cast(ResponseReturnValue, current_app.ensure_sync(fn)(*args, **kwargs))

        return cast(F, decorator)

    return wrapper
