"""OpenAPI 3 security schemes for an app's token locations, and the requirement of a protected route.

Plain dicts, for any OpenAPI 3 generator; with flask-smorest and APIFlask::

    # flask-smorest: declare the schemes once the app is configured ...
    for name, scheme in security_schemes(app).items():
        api.spec.components.security_scheme(name, scheme)
    # ... and mark each protected operation
    @blp.doc(security=security_requirement(["headers", "cookies"], method="POST"))

    # APIFlask
    app.config["SECURITY_SCHEMES"] = security_schemes(app)
    @app.doc(security=security_requirement("headers"))

Swagger UI's "Authorize" dialog then offers one field per scheme. A scheme per
location: ``jwt_header`` (``Authorization: Bearer``, an ``http`` bearer scheme),
``jwt_cookie`` with ``jwt_csrf`` (the double-submit header, needed with the cookie
on the methods of ``JWT_CSRF_METHODS``), ``jwt_query``; with ``refresh=True`` also
``jwt_refresh_cookie`` and ``jwt_refresh_csrf``. A token in the JSON body has no
OpenAPI security scheme: it belongs to the operation's request body.

.. versionadded:: 0.2
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, has_app_context

from .context import current_state, state_of
from .settings import DEFAULTS, Settings, TokenTypeSettings, normalize_locations

#: The names of the schemes in ``components.securitySchemes``.
HEADER = "jwt_header"
COOKIE = "jwt_cookie"
CSRF = "jwt_csrf"
QUERY = "jwt_query"
REFRESH_COOKIE = "jwt_refresh_cookie"
REFRESH_CSRF = "jwt_refresh_csrf"

#: One security scheme (an OpenAPI Security Scheme Object).
SecurityScheme = dict[str, str]
#: A security requirement: alternatives, each a set of schemes sent together.
SecurityRequirement = list[dict[str, list[str]]]


def _settings(app: Flask | None) -> Settings:
    return state_of(app).settings if app is not None else current_state().settings


def _header_scheme(settings: Settings) -> SecurityScheme:
    name, kind = settings.header_name, settings.header_type
    if name.lower() == "authorization" and kind.lower() == "bearer":
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT access token",
        }
    shape = f"{kind} <JWT>" if kind else "<JWT>"
    return {"type": "apiKey", "in": "header", "name": name, "description": f"A JWT access token: {shape}"}


def _cookie_schemes(
    settings: Settings, tokens: TokenTypeSettings, names: tuple[str, str]
) -> dict[str, SecurityScheme]:
    cookie_name, csrf_name = names
    schemes = {
        cookie_name: {
            "type": "apiKey",
            "in": "cookie",
            "name": tokens.cookie.name,
            "description": f"A JWT {tokens.name} token in a cookie",
        }
    }
    if settings.csrf_protect:
        source = f" (the {tokens.csrf_cookie.name} cookie)" if settings.csrf_in_cookies else ""
        schemes[csrf_name] = {
            "type": "apiKey",
            "in": "header",
            "name": tokens.csrf_header_name,
            "description": f"The CSRF value of the {tokens.name} token{source}, sent with its cookie",
        }
    return schemes


def security_schemes(app: Flask | None = None, *, refresh: bool = False) -> dict[str, SecurityScheme]:
    """The OpenAPI security schemes of ``app``'s ``JWT_TOKEN_LOCATION`` (of the current app by default).

    Names, header and cookie names come from the app's ``JWT_*`` configuration, e.g.
    ``{"jwt_header": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", ...}}``.

    :param app: the app, initialised with a ``JWTManager``.
    :param refresh: also declare the refresh-token cookie (and its CSRF header), for
        routes marked with ``security_requirement(..., refresh=True)``.
    :returns: scheme name -> Security Scheme Object, for ``components.securitySchemes``.
    """
    settings = _settings(app)
    schemes: dict[str, SecurityScheme] = {}
    for location in settings.token_location:
        if location == "headers":
            schemes[HEADER] = _header_scheme(settings)
        elif location == "cookies":
            schemes.update(_cookie_schemes(settings, settings.access, (COOKIE, CSRF)))
            if refresh:
                schemes.update(_cookie_schemes(settings, settings.refresh, (REFRESH_COOKIE, REFRESH_CSRF)))
        elif location == "query_string":
            prefix = settings.query_string_prefix
            schemes[QUERY] = {
                "type": "apiKey",
                "in": "query",
                "name": settings.query_string_name,
                "description": f"A JWT access token: {prefix}<JWT>" if prefix else "A JWT access token",
            }
    return schemes


def security_requirement(
    locations: str | Sequence[str] | None = None,
    *,
    method: str | None = None,
    refresh: bool = False,
    optional: bool = False,
    app: Flask | None = None,
) -> SecurityRequirement:
    """The security requirement of an operation protected by ``jwt_required(...)``.

    One alternative per location, in order: ``[{"jwt_header": []}, {"jwt_cookie": [],
    "jwt_csrf": []}]``. Pass it as the operation's ``security`` (smorest:
    ``@blp.doc(security=...)``, APIFlask: ``@app.doc(security=...)``).

    :param locations: as given to ``jwt_required(locations=...)``; by default the app's
        ``JWT_TOKEN_LOCATION``. ``"json"`` is left out (a body is no security scheme).
    :param method: the operation's HTTP method: the CSRF header goes with the cookie only
        for the methods of ``JWT_CSRF_METHODS`` (``None``: always, as for ``POST``).
    :param refresh: the route takes a refresh token (``jwt_required(refresh=True)``).
    :param optional: ``jwt_required(optional=True)``: anonymous calls are accepted too.
    :param app: whose configuration decides the default locations and CSRF; by default the
        current app, or outside an app context (a module-level decorator) the default
        configuration, which then needs ``locations``.
    :raises TypeError: ``locations`` is missing and there is no app to take them from.
    :raises ~flask_jwt_guard.exceptions.ConfigurationError: an unknown location.
    :raises ValueError: no location has a security scheme (``"json"`` alone).
    """
    settings = _settings(app) if app is not None or has_app_context() else None
    if locations is None:
        if settings is None:
            raise TypeError("security_requirement() needs locations= outside an app context")
        chosen = settings.token_location
    else:
        chosen = normalize_locations(locations, "locations")
    csrf_protect = settings.csrf_protect if settings else bool(DEFAULTS["JWT_COOKIE_CSRF_PROTECT"])
    csrf_methods = settings.csrf_methods if settings else frozenset(DEFAULTS["JWT_CSRF_METHODS"])
    with_csrf = csrf_protect and (method is None or method.upper() in csrf_methods)
    cookie, csrf = (REFRESH_COOKIE, REFRESH_CSRF) if refresh else (COOKIE, CSRF)

    requirement: SecurityRequirement = []
    for location in chosen:
        if location == "headers":
            requirement.append({HEADER: []})
        elif location == "cookies":
            requirement.append({cookie: [], csrf: []} if with_csrf else {cookie: []})
        elif location == "query_string":
            requirement.append({QUERY: []})
    if not requirement:
        raise ValueError(f"no OpenAPI security scheme for the locations {list(chosen)!r}")
    if optional:
        requirement.append({})
    return requirement


__all__ = [
    "COOKIE",
    "CSRF",
    "HEADER",
    "QUERY",
    "REFRESH_COOKIE",
    "REFRESH_CSRF",
    "SecurityRequirement",
    "SecurityScheme",
    "security_requirement",
    "security_schemes",
]
