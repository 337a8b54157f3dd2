"""Setting and unsetting the token cookie and its CSRF cookie, for either token type."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, g

from .manager import current_manager, current_settings
from .settings import CookieSpec, Settings

MaxAge = int | timedelta | None


def _put(
    response: Response,
    settings: Settings,
    spec: CookieSpec,
    value: str,
    max_age: MaxAge,
    domain: str | None,
    expires: int | None,
) -> None:
    response.set_cookie(
        spec.name,
        value=value,
        max_age=max_age,
        expires=expires,
        secure=settings.cookie_secure,
        httponly=spec.httponly,
        domain=domain,
        path=spec.path,
        samesite=settings.cookie_samesite,
    )


def _csrf_of(token: str, settings: Settings) -> str:
    minted: dict[str, str] | None = g.get("_jwt_guard_minted")
    if minted is not None and token in minted:
        return minted[token]
    # A token made elsewhere: verify it before trusting its claim.
    claims = current_manager()._decode(token, settings)[1]
    csrf: Any = claims["csrf"]
    return str(csrf)


def set_token_cookies(
    response: Response,
    encoded_token: str | None,
    refresh: bool,
    max_age: MaxAge = None,
    domain: str | None = None,
) -> None:
    """Set (or, with ``encoded_token=None``, expire) one token type's cookies.

    :param refresh: the refresh cookies rather than the access ones.
    """
    settings = current_settings()
    domain = domain or settings.cookie_domain
    with_csrf = settings.csrf_protect and settings.csrf_in_cookies
    if encoded_token is None:
        _put(response, settings, settings.token_cookies[refresh], "", None, domain, 0)
        if with_csrf:
            _put(response, settings, settings.csrf_cookies[refresh], "", None, domain, 0)
        return
    max_age = max_age or settings.cookie_max_age
    _put(response, settings, settings.token_cookies[refresh], encoded_token, max_age, domain, None)
    if with_csrf:
        csrf = _csrf_of(encoded_token, settings)
        _put(response, settings, settings.csrf_cookies[refresh], csrf, max_age, domain, None)


def set_access_cookies(
    response: Response, encoded_access_token: str, max_age: MaxAge = None, domain: str | None = None
) -> None:
    """Put an access token in its HttpOnly cookie, and its CSRF value in a readable one.

    :param max_age: seconds (or a timedelta); default: a session cookie, or one
        year when ``JWT_SESSION_COOKIE`` is False.
    :param domain: overrides ``JWT_COOKIE_DOMAIN``.
    """
    set_token_cookies(response, encoded_access_token, False, max_age, domain)


def set_refresh_cookies(
    response: Response,
    encoded_refresh_token: str,
    max_age: MaxAge = None,
    domain: str | None = None,
) -> None:
    """Put a refresh token and its CSRF value in the refresh cookies."""
    set_token_cookies(response, encoded_refresh_token, True, max_age, domain)


def unset_access_cookies(response: Response, domain: str | None = None) -> None:
    """Expire the access token cookie and its CSRF cookie."""
    set_token_cookies(response, None, False, domain=domain)


def unset_refresh_cookies(response: Response, domain: str | None = None) -> None:
    """Expire the refresh token cookie and its CSRF cookie."""
    set_token_cookies(response, None, True, domain=domain)


def unset_jwt_cookies(response: Response, domain: str | None = None) -> None:
    """Expire all four cookies (access, refresh and their CSRF cookies)."""
    unset_access_cookies(response, domain)
    unset_refresh_cookies(response, domain)
