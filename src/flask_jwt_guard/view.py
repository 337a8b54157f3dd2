"""Protecting views: :func:`jwt_required` and :func:`verify_jwt_in_request`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Request, Response, abort, after_this_request, current_app, request
from flask.typing import ResponseReturnValue

from .context import RequestJWT, remember, state_of
from .exceptions import (
    FreshTokenRequired,
    JWTDecodeError,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
    WrongTokenError,
)
from .locations import EXTRACTORS, refuse_tossed_cookie
from .settings import Settings, normalize_locations
from .state import NOT_CHECKED, NOT_LOOKED_UP
from .typing import LocationType

F = TypeVar("F", bound=Callable[..., Any])
#: Methods that never carry a credential: CORS preflights. A protected view is
#: not run for them; Flask's default OPTIONS response answers instead.
EXEMPT_METHODS = frozenset({"OPTIONS"})


class _Trusted(tuple[str, ...]):
    """Locations that ``jwt_required`` validated once, at decoration time."""

    __slots__ = ()


def _missing_message(locations: Sequence[str], errors: list[str]) -> str:
    if len(locations) == 1:
        return errors[0]
    return f"Missing JWT in {', '.join(locations[:-1])} or {locations[-1]} ({'; '.join(errors)})"


def _no_store(response: Response) -> Response:
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
    :returns: ``(jwt_header, jwt_data)``, or ``None`` for optional routes without
        a token (the request is then anonymous: ``get_jwt()`` returns ``{}``).
    :raises JWTExtendedException: (subclasses) answered by the manager's error handler.
    :raises werkzeug.exceptions.HTTPException: on an OPTIONS request (a CORS
        preflight, which carries no credential), unless ``optional``: it is
        answered with Flask's default OPTIONS response, so no code after this
        call (a view, the rest of a ``before_request`` hook) runs unauthenticated.
        The request is left anonymous for ``after_request`` hooks.
    """
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = state_of(app)
    settings = state.settings
    if req.method in EXEMPT_METHODS:
        remember(req, RequestJWT(identity_claim=settings.identity_claim))
        if optional:
            return None
        abort(app.make_default_options_response())
    if not locations:
        where = settings.token_location
    elif type(locations) is _Trusted:
        where = locations
    else:
        where = normalize_locations(locations, "locations")
    if settings.strict and "query_string" in where:
        # On every response to this request, the refusals included.
        after_this_request(_no_store)
    if "cookies" in where:
        refuse_tossed_cookie(req, settings, refresh)

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
        remember(req, RequestJWT(identity_claim=settings.identity_claim))
        return None

    if settings.strict:
        _refuse_second_token(req, settings, where, found_at, refresh)
    header, claims = state.verify_token(token, settings, csrf_value=csrf_value)

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
    if fresh and not state.is_fresh(claims):
        raise FreshTokenRequired("Fresh token required", header, claims)
    loaders = state.loaders
    check = NOT_CHECKED
    if not skip_revocation_check:
        if settings.revocation.store is not None:
            rotate = refresh and settings.revocation.rotation and claims["type"] == "refresh"
            check = state.check_revocation(claims, settings, consume=rotate)
            if check.revoked:
                raise RevokedTokenError(header, claims)
        if loaders.token_in_blocklist is not None and loaders.token_in_blocklist(header, claims):
            raise RevokedTokenError(header, claims)
    if loaders.token_verification is not None:
        if not loaders.token_verification(header, claims):
            raise UserClaimsVerificationError("User claims verification failed", header, claims)

    verified = RequestJWT(
        header=header,
        claims=claims,
        location=location,
        user_loaded=False,
        identity_claim=settings.identity_claim,
        generation=check.generation if check is not NOT_CHECKED else NOT_LOOKED_UP,
        revocation_checked=not skip_revocation_check,
    )
    if loaders.user_lookup is not None:
        user = loaders.user_lookup(header, claims)
        if user is None:
            identity = claims.get(settings.identity_claim)
            raise UserLookupError(f"user_lookup returned None for {identity}", header, claims)
        verified.user, verified.user_loaded = user, True
    remember(req, verified)
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
    An OPTIONS request (a CORS preflight) carries no credential: the view is
    not run, optional or not, and Flask's default OPTIONS response answers it.
    """
    where = _Trusted(normalize_locations(locations, "jwt_required(locations=...)")) if locations else None

    def wrapper(fn: F) -> F:
        @wraps(fn)
        def decorator(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            verify_jwt_in_request(optional, fresh, refresh, where, verify_type, skip_revocation_check)
            if request.method in EXEMPT_METHODS:
                return current_app.make_default_options_response()
            return cast(ResponseReturnValue, current_app.ensure_sync(fn)(*args, **kwargs))

        return cast(F, decorator)

    return wrapper
