"""Setting and unsetting the token cookie and its CSRF cookie, for either token type."""

from __future__ import annotations

from datetime import timedelta

from flask import Response

from .context import current_state
from .exceptions import ConfigurationError
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
    state = current_state()
    settings = state.settings
    names = settings.of(refresh)
    if domain and settings.strict:
        raise ConfigurationError("JWT_STRICT sets __Host- cookies, which browsers refuse with a Domain")
    domain = domain or settings.cookie_domain
    with_csrf = settings.csrf_protect and settings.csrf_in_cookies
    if encoded_token is None:
        _put(response, settings, names.cookie, "", None, domain, 0)
        if with_csrf:
            _put(response, settings, names.csrf_cookie, "", None, domain, 0)
        return
    max_age = max_age or settings.cookie_max_age
    _put(response, settings, names.cookie, encoded_token, max_age, domain, None)
    if with_csrf:
        # A token this app just made is remembered; any other one is verified first.
        csrf = state.csrf_value(encoded_token, settings)
        _put(response, settings, names.csrf_cookie, csrf, max_age, domain, None)


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
