"""Where a token can be: one extractor per location, dispatched by a table.

Each extractor takes ``(request, settings, refresh)`` and returns the encoded
token and the CSRF value it must match (or ``None``), or raises
:class:`~flask_jwt_guard.exceptions.NoAuthorizationError` saying what it looked
for, so the caller can try the next location.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .csrf import submitted_csrf
from .exceptions import (
    CSRFError,
    DecodeError,
    InvalidHeaderError,
    InvalidQueryParamError,
    NoAuthorizationError,
)

if TYPE_CHECKING:
    from flask import Request

    from .settings import Settings

Found = tuple[str, str | None]
Extractor = Callable[["Request", "Settings", bool], Found]

_FIELD_SPLIT = re.compile(r",\s*")
_BODYLESS = frozenset({"GET", "HEAD"})


def from_headers(request: Request, settings: Settings, refresh: bool) -> Found:
    """``Authorization: Bearer <jwt>`` (name and type configurable; an empty type: the bare token)."""
    name, kind = settings.header_name, settings.header_type
    value = request.headers.get(name, "").strip().strip(",")
    if not value:
        raise NoAuthorizationError(f"Missing {name} Header")
    if not kind:
        parts = value.split()
        if len(parts) != 1:
            raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: <JWT>'")
        return parts[0], None
    # The header may hold several comma-separated credentials; exactly one must be ours.
    fields = [f for f in _FIELD_SPLIT.split(value) if f.split()[:1] == [kind]]
    if len(fields) != 1:
        raise NoAuthorizationError(
            f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'"
        )
    parts = fields[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return parts[1], None


def from_cookies(request: Request, settings: Settings, refresh: bool) -> Found:
    """The HttpOnly token cookie, plus the double-submit CSRF value for unsafe methods."""
    name = settings.token_cookies[refresh].name
    if not request.environ.get("HTTP_COOKIE"):  # spare werkzeug's cookie parser
        raise NoAuthorizationError(f'Missing cookie "{name}"')
    values = request.cookies.getlist(name)
    token = values[0] if values else None
    if not token:
        raise NoAuthorizationError(f'Missing cookie "{name}"')
    if len(values) > 1 and any(value != token for value in values):
        # Cookie tossing: a sibling (sub)domain planted a second cookie of the same
        # name, which the browser may send first. Refuse rather than guess.
        raise CSRFError(f'More than one "{name}" cookie was sent')
    return token, submitted_csrf(request, settings, refresh)


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
    key = settings.json_keys[refresh]
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
