"""Where a token can be: one extractor per location, dispatched by a table.

Each extractor takes ``(request, settings, refresh)`` and returns the encoded
token and the CSRF value it must match (or ``None``), or raises
:class:`~flask_jwt_guard.exceptions.NoAuthorizationError` saying what it looked
for, so the caller can try the next location.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Request

from .exceptions import (
    CSRFError,
    DecodeError,
    InvalidHeaderError,
    InvalidQueryParamError,
    NoAuthorizationError,
)
from .settings import Settings

Found = tuple[str, str | None]
Extractor = Callable[[Request, Settings, bool], Found]

_BODYLESS = frozenset({"GET", "HEAD"})
_OWS = " \t"


def from_headers(request: Request, settings: Settings, refresh: bool) -> Found:
    """``Authorization: Bearer <jwt>`` (name and type configurable; an empty type: the bare token).

    The header may list several comma-separated credentials (``Basic ..., Bearer ...``);
    exactly one may be of our type, and it must be ``<type> SP <token>`` with
    ASCII spaces only (RFC 9110, 11.4; RFC 6750, 2.1).
    """
    name, kind = settings.header_name, settings.header_type
    value = request.headers.get(name, "").strip(_OWS).strip(",")
    if not value:
        raise NoAuthorizationError(f"Missing {name} Header")
    if not kind:
        # The bare token: nothing around it but the OWS trimmed above.
        if len(value.split()) != 1 or not value.isascii():
            raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: <JWT>'")
        return value, None
    # Candidates are found as loosely as Flask-JWT-Extended finds them, then held
    # to the grammar: a look-alike (a Unicode space, a tab) is an error, not "absent".
    mine = [f for f in value.split(",") if f.split(None, 1)[:1] == [kind]]
    if not mine:
        raise NoAuthorizationError(
            f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'"
        )
    if len(mine) > 1:
        raise InvalidHeaderError(f"Bad {name} header. More than one '{kind}' credential")
    scheme, _, token = mine[0].strip(_OWS).partition(" ")
    token = token.lstrip(" ")
    if scheme != kind or not token or " " in token:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return token, None


def refuse_tossed_cookie(request: Request, settings: Settings, refresh: bool) -> None:
    """Refuse a request carrying more than one value for the token cookie, whatever the values.

    Cookie tossing: a sibling (sub)domain plants a second cookie of the same name
    (empty or not), which the browser may send first. This is decided before any
    location is read, so that neither a planted value nor the search order picks the token.

    :raises CSRFError: answered like a failed CSRF check (401).
    """
    if not request.environ.get("HTTP_COOKIE"):  # spare werkzeug's cookie parser
        return
    name = settings.of(refresh).cookie.name
    if len(request.cookies.getlist(name)) > 1:
        raise CSRFError(f'More than one "{name}" cookie was sent')


def from_cookies(request: Request, settings: Settings, refresh: bool) -> Found:
    """The HttpOnly token cookie, plus the double-submit CSRF value for unsafe methods."""
    name = settings.of(refresh).cookie.name
    if not request.environ.get("HTTP_COOKIE"):  # spare werkzeug's cookie parser
        raise NoAuthorizationError(f'Missing cookie "{name}"')
    values = request.cookies.getlist(name)
    if len(values) > 1:  # see refuse_tossed_cookie: also refused here, when called alone
        raise CSRFError(f'More than one "{name}" cookie was sent')
    token = values[0] if values else None
    if not token:
        raise NoAuthorizationError(f'Missing cookie "{name}"')
    return token, submitted_csrf(request, settings, refresh)


def submitted_csrf(request: Request, settings: Settings, refresh: bool) -> str | None:
    """The CSRF value a cookie-authenticated request must carry, or ``None`` if it needs none.

    :raises CSRFError: the request method needs one and none was sent.
    """
    if not settings.csrf_protect or request.method not in settings.csrf_methods:
        return None
    names = settings.of(refresh)
    value = request.headers.get(names.csrf_header_name)
    if not value and settings.csrf_check_form:
        value = request.form.get(names.csrf_field_name)
    if not value:
        raise CSRFError("Missing CSRF token")
    return value


def from_query_string(request: Request, settings: Settings, refresh: bool) -> Found:
    """``?jwt=<token>``, with an optional required prefix."""
    name, prefix = settings.query_string_name, settings.query_string_prefix
    value = request.args.get(name) if request.environ.get("QUERY_STRING") else None
    if not value:
        # "paramater" is the compatible spelling of this message.
        raise NoAuthorizationError(f"Missing '{name}' query paramater")
    if not value.startswith(prefix):
        raise InvalidQueryParamError(
            f"Invalid value for query parameter '{name}'. Expected the value to start with '{prefix}'"
        )
    return value[len(prefix) :], None


def from_json(request: Request, settings: Settings, refresh: bool) -> Found:
    """``{"access_token": "<jwt>"}`` (or the refresh key) in the JSON body of a POST, PUT, PATCH or DELETE."""
    if not request.is_json:
        raise NoAuthorizationError("Invalid content-type. Must be application/json.")
    if request.method in _BODYLESS:
        # A GET/HEAD body has no defined meaning (RFC 9110 9.3.1): caches and
        # proxies may drop or ignore it, and browsers refuse to send one.
        raise NoAuthorizationError("JSON body tokens are not accepted on GET or HEAD requests")
    key = settings.of(refresh).json_key
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser can go: not a token
        body = None
    token = body.get(key) if isinstance(body, dict) else None
    if not token:
        raise NoAuthorizationError(f'Missing "{key}" key in json data.')
    if not isinstance(token, str):
        raise DecodeError(f"Invalid token type. Token must be a {bytes}")
    return token, None


EXTRACTORS: dict[str, Extractor] = {
    "headers": from_headers,
    "cookies": from_cookies,
    "query_string": from_query_string,
    "json": from_json,
}
