"""Testing apps that use Flask-JWT-Guard: a logged-in test client and a clock that tests move.

Without pytest::

    from flask_jwt_guard.testing import JWTTestClient, frozen_time

    app.test_client_class = JWTTestClient
    client = app.test_client()
    client.login_as("alice", location="cookies")
    assert client.post("/orders", json={"item": 1}).status_code == 200  # CSRF header sent for you

    with frozen_time(app) as clock:
        client.login_as("alice")
        clock.advance(timedelta(minutes=16))
        assert client.get("/protected").status_code == 401  # expired, and no sleep

With pytest, this module is a plugin (entry point ``flask_jwt_guard``, installed with the
package; ``-p no:flask_jwt_guard`` turns it off). Given an ``app`` fixture of your own, it provides:

* ``jwt_client``: a :class:`JWTTestClient` for ``app``;
* ``jwt_clock``: the :class:`FrozenClock` of ``app``, held by :func:`frozen_time` for the test.

::

    def test_order(jwt_client):
        jwt_client.login_as("alice", location="cookies")
        assert jwt_client.post("/orders", json={"item": 1}).status_code == 200

    def test_expiry(jwt_client, jwt_clock):
        jwt_client.login_as("alice")
        jwt_clock.advance(15 * 60 + 1)
        assert jwt_client.get("/protected").status_code == 401

.. versionadded:: 0.1
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import EnvironBuilder, FlaskClient
from werkzeug.test import EnvironBuilder as BaseEnvironBuilder
from werkzeug.test import TestResponse
from werkzeug.wrappers import Request

from .context import state_of
from .issuing import create_access_token, create_refresh_token
from .settings import LOCATIONS, CookieSpec
from .typing import ExpiresDelta, Fresh

__all__ = ["FrozenClock", "JWTTestClient", "frozen_time"]

Location = Literal["headers", "cookies", "query_string", "json"]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: A cookie in the client's jar: ``(name, domain, path)``.
_CookieKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _Login:
    """The token a client carries and where; for cookies, the CSRF value and the cookies set."""

    token: str
    location: Location
    refresh: bool
    csrf: str | None = None
    cookies: tuple[_CookieKey, ...] = ()
    csrf_cookie: _CookieKey | None = None


class JWTTestClient(FlaskClient):
    """A Flask test client that can be logged in: every request then carries the token.

    ``app.test_client_class = JWTTestClient``, then ``app.test_client()``; or
    ``JWTTestClient(app, app.response_class)``. Every way of calling ``open`` (``client.get(path,
    headers=..., query_string=..., json=...)``, an ``EnvironBuilder``, an environ, a request,
    followed redirects) gets the token, unless the request already has its own there.
    """

    _login: _Login | None = None

    def login_as(
        self,
        identity: Any,
        location: Location = "headers",
        *,
        fresh: Fresh = False,
        claims: Mapping[str, Any] | None = None,
        expires_delta: ExpiresDelta | None = None,
        refresh: bool = False,
    ) -> str:
        """Make a token for ``identity`` with the app's configuration and send it from now on.

        ``"headers"``: ``<JWT_HEADER_NAME>: <JWT_HEADER_TYPE> <token>``. ``"cookies"``: the token
        cookie and its CSRF cookie in the client's cookie jar, and the CSRF header on every
        ``JWT_CSRF_METHODS`` request (the value of the CSRF cookie, as a browser script would
        send it). ``"query_string"``: ``?<JWT_QUERY_STRING_NAME>=<prefix><token>`` added to the
        request's arguments. ``"json"``: ``{"<JWT_JSON_KEY>": token}`` merged into the JSON object
        body of POST, PUT, PATCH and DELETE requests (a request with no body gets one; another
        body is left alone).

        One login at a time: a new ``login_as`` replaces the previous one.

        :param fresh: as for :func:`~flask_jwt_guard.create_access_token`.
        :param claims: additional claims.
        :param expires_delta: the token's lifetime; ``None``: the configured one.
        :param refresh: a refresh token (in the refresh cookie or JSON key) instead.
        :returns: the token.
        :raises ValueError: an unknown ``location``.
        """
        if location not in LOCATIONS:
            raise ValueError(f"location must be one of {LOCATIONS}, not {location!r}")
        self.logout()
        app = self.application
        with app.app_context():
            if refresh:
                token = create_refresh_token(identity, expires_delta, claims)
            else:
                token = create_access_token(identity, fresh, expires_delta, claims)
            login = _Login(token, location, refresh)
            if location == "cookies":
                login = self._set_cookies(login)
        self._login = login
        return token

    def logout(self) -> None:
        """Stop sending the token (and remove the cookies ``login_as`` put in the jar)."""
        login, self._login = self._login, None
        for name, domain, path in login.cookies if login else ():
            self.set_cookie(name, "", domain=domain, path=path, max_age=0)

    def _set_cookies(self, login: _Login) -> _Login:
        """Put the token (and CSRF) cookies in the jar, under the keys the app's own would have."""
        state = state_of(self.application)
        settings = state.settings
        names = settings.of(login.refresh)
        # Stored as a Set-Cookie from the app would be: for its Domain, else for the request host.
        host = urlsplit("//" + (self.application.config.get("SERVER_NAME") or "localhost")).hostname
        domain = settings.cookie_domain or host or "localhost"
        origin_only = settings.cookie_domain is None

        def put(spec: CookieSpec, value: str) -> _CookieKey:
            self.set_cookie(spec.name, value, domain=domain, origin_only=origin_only, path=spec.path)
            return spec.name, domain, spec.path

        cookies = (put(names.cookie, login.token),)
        if not settings.csrf_protect:
            return replace(login, cookies=cookies)
        csrf = state.csrf_value(login.token, settings)
        if not settings.csrf_in_cookies:
            return replace(login, csrf=csrf, cookies=cookies)
        csrf_cookie = put(names.csrf_cookie, csrf)
        return replace(login, csrf=csrf, cookies=(*cookies, csrf_cookie), csrf_cookie=csrf_cookie)

    def open(
        self, *args: Any, buffered: bool = False, follow_redirects: bool = False, **kwargs: Any
    ) -> TestResponse:
        """Send a request as :meth:`FlaskClient.open` does, carrying the token of ``login_as``."""
        if self._login is None:
            return super().open(*args, buffered=buffered, follow_redirects=follow_redirects, **kwargs)
        first = args[0] if args else None
        # The request as FlaskClient.open would build it (its environ_base is applied by that).
        if isinstance(first, BaseEnvironBuilder):
            environ = first.get_environ()
        elif isinstance(first, dict):
            environ = EnvironBuilder.from_environ(first, app=self.application).get_environ()
        elif isinstance(first, Request):
            environ = dict(first.environ)
        else:
            builder = EnvironBuilder(self.application, *args, **kwargs)
            try:
                environ = builder.get_environ()
            finally:
                builder.close()
        self._carry(environ, self._login)
        return super().open(Request(environ), buffered=buffered, follow_redirects=follow_redirects)

    def _carry(self, environ: dict[str, Any], login: _Login) -> None:
        """Add the token to ``environ`` where ``login`` says, unless the request has one there."""
        settings = state_of(self.application).settings
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if login.location == "headers":
            kind = settings.header_type
            environ.setdefault(
                _header_key(settings.header_name), f"{kind} {login.token}" if kind else login.token
            )
        elif login.location == "cookies":
            csrf = self._current_csrf(login)
            if csrf is not None and settings.csrf_protect and method in settings.csrf_methods:
                environ.setdefault(_header_key(settings.of(login.refresh).csrf_header_name), csrf)
        elif login.location == "query_string":
            query = environ.get("QUERY_STRING", "")
            name = settings.query_string_name
            if name not in parse_qs(query, keep_blank_values=True):
                added = urlencode({name: settings.query_string_prefix + login.token})
                environ["QUERY_STRING"] = f"{query}&{added}" if query else added
        elif method in _BODY_METHODS:
            self._merge_json(environ, settings.of(login.refresh).json_key, login.token)

    def _current_csrf(self, login: _Login) -> str | None:
        """The CSRF cookie's value now (the app may have renewed it), else the one from login."""
        if login.csrf_cookie is not None:
            name, domain, path = login.csrf_cookie
            cookie = self.get_cookie(name, domain=domain, path=path)
            if cookie is not None:
                return cookie.decoded_value
        return login.csrf

    def _merge_json(self, environ: dict[str, Any], key: str, token: str) -> None:
        """Put ``{key: token}`` in the JSON object body (or the empty body) of ``environ``."""
        incoming = Request(environ)
        if incoming.mimetype and not incoming.is_json:  # a form, text, ...: not ours to change
            return
        length = incoming.content_length or 0
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict):
            body.setdefault(key, token)
            raw = self.application.json.dumps(body).encode()
            environ["CONTENT_TYPE"] = incoming.content_type or "application/json"
        environ["wsgi.input"] = BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))


def _header_key(name: str) -> str:
    """The WSGI environ key of a request header."""
    return "HTTP_" + name.upper().replace("-", "_")


# --------------------------------------------------------------------------- time


def _timestamp(at: float | datetime) -> float:
    if isinstance(at, datetime):
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()
    return float(at)


class FrozenClock:
    """A clock that stands still until a test moves it; call it for "now" (UNIX seconds).

    :param at: the time it shows: seconds since the epoch, or a datetime (naive: UTC).
    """

    __slots__ = ("_now",)

    def __init__(self, at: float | datetime) -> None:
        self._now = _timestamp(at)

    def __call__(self) -> float:
        return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({datetime.fromtimestamp(self._now, UTC).isoformat()})"

    def advance(self, by: float | timedelta) -> float:
        """Move the clock by ``by`` (seconds or a timedelta; negative: back) and return the new time."""
        self._now += by.total_seconds() if isinstance(by, timedelta) else float(by)
        return self._now

    def set(self, at: float | datetime) -> None:
        """Show ``at`` from now on (seconds since the epoch, or a datetime; naive: UTC)."""
        self._now = _timestamp(at)


@contextmanager
def frozen_time(app: Flask, at: float | datetime | None = None) -> Iterator[FrozenClock]:
    """Make ``app``'s "now" a :class:`FrozenClock` inside the ``with`` block, then put its clock back.

    Everything that reads the time reads it: creating and verifying tokens (``iat``, ``exp``,
    ``nbf``), freshness, and the expiry of entries in the memory revocation store.

    :param at: where the clock starts; ``None``: the app's time on entering, in whole seconds
        (as tokens count it, so that a token made now expires exactly its lifetime later).
    :raises RuntimeError: no ``JWTManager`` was initialised with ``app``.
    """
    state = state_of(app)
    previous = state.clock
    clock = FrozenClock(int(previous()) if at is None else at)
    state.clock = clock
    try:
        yield clock
    finally:
        state.clock = previous


# --------------------------------------------------------------------------- pytest plugin

try:
    import pytest
except ImportError:  # pragma: no cover - without pytest, the module is plain functions and classes
    pass
else:

    @pytest.fixture
    def jwt_client(app: Flask) -> JWTTestClient:
        """A :class:`JWTTestClient` for your ``app`` fixture."""
        return JWTTestClient(app, app.response_class, use_cookies=True)

    @pytest.fixture
    def jwt_clock(app: Flask) -> Iterator[FrozenClock]:
        """Your ``app`` fixture's clock, frozen for the test (see :func:`frozen_time`)."""
        with frozen_time(app) as clock:
            yield clock
