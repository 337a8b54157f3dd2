"""Keys of tokens made elsewhere: :class:`RemoteJWKS` fetches an OpenID provider's JWK Set.

Given an issuer, it reads the provider's discovery document
(``{issuer}/.well-known/openid-configuration``), checks that the document names
the same issuer, and takes ``jwks_uri`` from it; given a ``jwks_uri``, it goes
there directly. Those are the only URLs it ever fetches: a token's ``jku`` or
``x5u`` header is never followed (only ``kid`` is read). URLs must be
``https://``, except for a loopback host (``127.0.0.0/8``, ``::1``,
``localhost``) or with ``allow_http``; redirects are refused.

The keys are fetched once and cached for the response's ``Cache-Control:
max-age`` (kept between one minute and one day; ten minutes without one). A
``kid`` the cache does not know makes it fetch again, at most once per
``min_refresh_interval`` and one fetch at a time, so a flood of made-up ``kid``
values cannot become a flood of fetches. When the provider is down, slow, or
answers with something that is not a usable JWK Set, the cached keys stay in
use (even past their max-age), unknown ``kid`` values get ``None``, the failure
is logged once per streak of failures on the ``flask_jwt_guard`` logger, and no
call waits longer than ``timeout``.

Why not PyJWT's :class:`jwt.PyJWKClient`: with PyJWT 2.8 (our lower bound) it
has no lock, refetches on every unknown ``kid`` and follows redirects. Recent
releases add a lock, a refetch cooldown and refuse redirects, but the cooldown
starts only after a *successful* fetch, so while the provider is down every
unknown ``kid`` is one more fetch that waits out the timeout, queued behind the
lock; once its cache has expired it raises instead of falling back on the keys
it has; it reads a response of any size, bounds each socket operation (30 s by
default) rather than the whole fetch, ignores ``Cache-Control``, has no
discovery, and takes ``http://`` to any host and JWKs with private members.
Here the standard library's :mod:`http.client` is used directly: the socket
timeout is set to the time left before one deadline before every operation, the
body is read in chunks up to ``max_bytes``, and the whole fetch runs in a worker
thread that the caller waits for at most ``timeout`` (so that a slow DNS lookup,
which no socket timeout bounds, cannot hold a request either). It adds no
dependency.

Nothing here imports Flask.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import math
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .exceptions import ConfigurationError, UnusableKeyError
from .keys import Key, key_from_jwk

logger = logging.getLogger("flask_jwt_guard")

#: The path of the discovery document, after the issuer (OpenID Connect Discovery 1.0, section 4).
DISCOVERY_PATH = "/.well-known/openid-configuration"
#: The largest response read, in bytes (a JWK Set of a few keys is a few kilobytes).
MAX_BYTES = 512 * 1024
#: How long fetched keys are fresh without a ``Cache-Control: max-age``, in seconds.
DEFAULT_MAX_AGE = 600.0
#: Bounds on a provider's ``max-age``, in seconds.
MIN_MAX_AGE, MAX_MAX_AGE = 60.0, 86400.0

_EMPTY: Mapping[str, Key] = MappingProxyType({})
_CHUNK = 64 * 1024


def url_problem(url: object, allow_http: bool = False) -> str | None:
    """What makes ``url`` unfit to fetch keys from, or ``None`` when it is fine.

    Fine is an ``https://`` URL with a host and no credentials; ``http://`` only for a
    loopback host or with ``allow_http``. Settings can call this at start-up to name
    the configuration key at fault.
    """
    if not isinstance(url, str):
        return f"must be a URL string, not {type(url).__name__}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return f"{url!r} is not a URL"
    if parts.scheme not in ("https", "http"):
        return f"must be an https:// URL, not {url!r}"
    if not parts.hostname:
        return f"{url!r} has no host"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        return f"must be https:// (http:// only for a loopback host, or with allow_http), not {url!r}"
    return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as in a URL, without brackets) is ``localhost`` or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def max_age_of(cache_control: str | None, age: str | None = None) -> float:
    """Seconds a response stays fresh: its ``max-age`` less its ``Age``, within bounds.

    :param cache_control: the ``Cache-Control`` header (``no-cache``/``no-store`` mean the least).
    :param age: the ``Age`` header, if any.
    """
    seconds = DEFAULT_MAX_AGE
    if cache_control:
        directives = {}
        for item in cache_control.split(","):
            name, _, value = item.strip().partition("=")
            directives[name.strip().lower()] = value.strip().strip('"')
        if "no-store" in directives or "no-cache" in directives:
            seconds = MIN_MAX_AGE
        elif directives.get("max-age", "").isdigit():
            seconds = float(directives["max-age"])
    if age and age.strip().isdigit():
        seconds -= float(age)
    return min(max(seconds, MIN_MAX_AGE), MAX_MAX_AGE)


class _FetchError(Exception):
    """A fetch that did not give a usable JWK Set (the message says why)."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What one fetch brought, built in the worker and installed by the caller."""

    keys: dict[str, Key]
    max_age: float
    jwks_uri: str
    discovery_max_age: float | None  # set when the discovery document was (re)read
    skipped: tuple[str, ...]


class RemoteJWKS:
    """The JWK Set of a provider, fetched on demand, cached, and refreshed with care.

    :param jwks_uri: where the JWK Set is; when ``None``, found by discovery from ``issuer``.
    :param issuer: the provider's issuer identifier; its discovery document must name
        exactly this issuer.
    :param min_refresh_interval: seconds between two fetches at least (by ``clock``).
    :param timeout: seconds any one call may wait for the provider, all steps together.
    :param allow_http: allow ``http://`` URLs to hosts other than loopback ones.
    :param clock: where "now" comes from, for the cache and the rate limit.
    :param max_bytes: the largest response accepted.
    :raises ConfigurationError: neither URL given, a URL unfit by :func:`url_problem`,
        or a timeout or interval out of range.

    .. versionadded:: 0.2
    """

    __slots__ = (
        "_clock",
        "_discovering",
        "_discovery_expires",
        "_fetches",
        "_expires_at",
        "_failing",
        "_fetching",
        "_jwks_uri",
        "_keys",
        "_last_attempt",
        "_lock",
        "allow_http",
        "issuer",
        "max_bytes",
        "min_refresh_interval",
        "timeout",
    )

    def __init__(
        self,
        jwks_uri: str | None = None,
        issuer: str | None = None,
        *,
        min_refresh_interval: float = 60.0,
        timeout: float = 2.0,
        allow_http: bool = False,
        clock: Callable[[], float] = time.time,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        if jwks_uri is None and issuer is None:
            raise ConfigurationError("RemoteJWKS needs a jwks_uri or an issuer")
        for name, url in (("jwks_uri", jwks_uri), ("issuer", issuer)):
            problem = None if url is None else url_problem(url, allow_http)
            if problem is not None:
                raise ConfigurationError(f"RemoteJWKS {name} {problem}")
        if not (isinstance(timeout, int | float) and 0 < timeout < math.inf):
            raise ConfigurationError(
                f"RemoteJWKS timeout must be a positive number of seconds, not {timeout!r}"
            )
        if not (isinstance(min_refresh_interval, int | float) and 0 <= min_refresh_interval < math.inf):
            raise ConfigurationError(
                f"RemoteJWKS min_refresh_interval must be seconds (0 or more), not {min_refresh_interval!r}"
            )
        self.issuer = issuer
        #: Seconds between two fetches at least; may be changed on a live object.
        self.min_refresh_interval = float(min_refresh_interval)
        self.timeout = float(timeout)
        self.allow_http = allow_http
        self.max_bytes = max_bytes
        self._clock = clock
        self._jwks_uri = jwks_uri
        self._discovering = jwks_uri is None  # with a configured jwks_uri there is nothing to discover
        self._discovery_expires = -math.inf
        self._keys: Mapping[str, Key] = _EMPTY  # replaced whole, never changed in place
        self._expires_at = -math.inf
        self._last_attempt: float | None = None
        self._failing = False
        self._fetching = False  # set while a fetch runs, so that callers wait for it
        self._fetches = 0  # fetches ended: a caller that waited for one does not start another
        self._lock = threading.Lock()  # one fetch at a time

    def __repr__(self) -> str:
        return f"RemoteJWKS(issuer={self.issuer!r}, jwks_uri={self._jwks_uri!r}, keys={len(self._keys)})"

    @property
    def jwks_uri(self) -> str | None:
        """The configured or discovered JWK Set URL (``None`` before a discovery succeeded)."""
        return self._jwks_uri

    def keys(self) -> Mapping[str, Key]:
        """The keys now cached, by ``kid`` (a read-only snapshot; empty before a fetch succeeded)."""
        return self._keys

    def get(self, kid: object) -> Key | None:
        """The provider's key for ``kid``, fetching the set when needed.

        A cached key is returned at once; once its set is past its max-age, the
        first caller to find the set stale (and allowed by the rate limit) fetches
        it again, the others keep the cached key meanwhile. An unknown ``kid``
        fetches the set, at most once per ``min_refresh_interval``, or waits for
        the fetch under way (one at a time) and does not fetch again after it.
        Never raises for network or provider problems; returns within ``timeout``.

        :returns: the key, or ``None``: an unknown ``kid``, or no keys could be had.
        """
        if not isinstance(kid, str) or not kid:
            return None
        key = self._keys.get(kid)
        if key is not None:
            if self._clock() < self._expires_at or not self._due():
                return key  # the per-request path: no deadline, no lock
            deadline = time.monotonic() + self.timeout
            if not self._lock.acquire(blocking=False):  # someone is fetching: use what we have
                return key
            try:
                if self._clock() >= self._expires_at and self._due():
                    self._attempt(deadline)
            finally:
                self._lock.release()
            return self._keys.get(kid)  # None when the provider has dropped the key
        if not self._fetching and not self._due():  # rate-limited, and no fetch to wait for
            return None
        deadline = time.monotonic() + self.timeout
        fetches = self._fetches
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            return None
        try:
            key = self._keys.get(kid)  # a fetch we waited for may have brought it
            if key is None and self._fetches == fetches and self._due():
                self._attempt(deadline)
                key = self._keys.get(kid)
        finally:
            self._lock.release()
        return key

    def refresh(self, force: bool = False) -> bool:
        """Fetch the set now, unless the rate limit forbids it (``force`` overrides the limit).

        :returns: whether a usable set was fetched and installed. Never raises for
            network or provider problems.
        """
        deadline = time.monotonic() + self.timeout
        if not self._lock.acquire(timeout=self.timeout):
            return False
        try:
            if not force and not self._due():
                return False
            return self._attempt(deadline)
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ internals

    def _due(self) -> bool:
        """Whether the rate limit allows a fetch now (a clock that went back allows one)."""
        last = self._last_attempt
        if last is None:
            return True
        elapsed = self._clock() - last
        return elapsed >= self.min_refresh_interval or elapsed < 0

    def _attempt(self, deadline: float) -> bool:
        """One fetch, with the lock held: install its keys, or keep the old ones and log."""
        now = self._clock()
        uri = self._jwks_uri
        discover = self._discovering and (uri is None or now >= self._discovery_expires)
        box: list[_Outcome | Exception] = []

        def work() -> None:
            try:
                box.append(self._download(deadline, discover, uri))
            except Exception as err:  # reported by the caller: a thread must not raise
                box.append(err)

        worker = threading.Thread(target=work, name="flask_jwt_guard-jwks", daemon=True)
        self._fetching = True  # before the attempt is recorded: callers with an unknown kid now wait
        self._last_attempt = now
        try:
            worker.start()
            worker.join(max(deadline - time.monotonic(), 0.0))
        finally:
            self._fetching = False
            self._fetches += 1
        # An unfinished worker is left behind: its sockets time out by the deadline, and
        # its result is dropped (only a slow name lookup can keep it a little longer).
        if box:
            outcome = box[0]
        else:
            where = uri if uri is not None and not discover else self._discovery_url()
            outcome = _FetchError(f"{where}: no answer within {self.timeout:g} s")
        if isinstance(outcome, _Outcome):
            self._install(outcome, now)
            return True
        if self._discovering:
            self._discovery_expires = -math.inf  # the jwks_uri may have moved: discover again next time
        self._report(outcome)
        return False

    def _install(self, outcome: _Outcome, now: float) -> None:
        self._jwks_uri = outcome.jwks_uri
        if outcome.discovery_max_age is not None:
            self._discovery_expires = now + outcome.discovery_max_age
        self._keys = MappingProxyType(outcome.keys)
        self._expires_at = now + outcome.max_age
        if outcome.skipped:
            logger.debug("JWK Set at %s: keys skipped: %s", outcome.jwks_uri, "; ".join(outcome.skipped))
        if self._failing:
            self._failing = False
            logger.info("JWK Set at %s fetched again (%d keys)", outcome.jwks_uri, len(outcome.keys))

    def _report(self, error: Exception) -> None:
        """Log the first failure of a streak; the following ones are silent."""
        if self._failing:
            return
        self._failing = True
        reason = str(error) if isinstance(error, _FetchError) else f"unexpected error: {error!r}"
        logger.warning(
            "Cannot fetch the JWK Set: %s (keeping %d cached keys; said once until a fetch succeeds)",
            reason,
            len(self._keys),
        )

    def _download(self, deadline: float, discover: bool, jwks_uri: str | None) -> _Outcome:
        """Discovery when asked, then the JWK Set; runs in the worker thread, changes nothing."""
        discovery_max_age: float | None = None
        if discover:
            assert self.issuer is not None
            try:
                jwks_uri, discovery_max_age = self._discover(deadline)
            except _FetchError:
                if jwks_uri is None:  # nothing to fall back on
                    raise
        assert jwks_uri is not None
        document, max_age = self._get_json(jwks_uri, deadline)
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise _FetchError(f'{jwks_uri} did not answer with a JWK Set ({{"keys": [...]}})')
        keys: dict[str, Key] = {}
        skipped: list[str] = []
        for jwk in document["keys"]:
            try:
                key = verification_key(jwk)
            except Exception as err:  # remote data: a key that fails in any way is skipped
                skipped.append(str(err))
                continue
            assert key.kid is not None  # key_from_jwk requires one
            if key.kid in keys:
                skipped.append(f"JWK {key.kid!r} is a second key with this kid")
                continue
            keys[key.kid] = key
        if not keys:
            raise _FetchError(
                f"{jwks_uri} has no usable signing key ({'; '.join(skipped) or 'an empty set'})"
            )
        return _Outcome(keys, max_age, jwks_uri, discovery_max_age, tuple(skipped))

    def _discovery_url(self) -> str:
        return f"{(self.issuer or '').rstrip('/')}{DISCOVERY_PATH}"

    def _discover(self, deadline: float) -> tuple[str, float]:
        """The ``jwks_uri`` from the issuer's discovery document, and how long it is fresh."""
        url = self._discovery_url()
        document, max_age = self._get_json(url, deadline)
        if not isinstance(document, dict):
            raise _FetchError(f"{url} did not answer with a JSON object")
        if document.get("issuer") != self.issuer:
            raise _FetchError(f"{url} names the issuer {document.get('issuer')!r}, not {self.issuer!r}")
        jwks_uri = document.get("jwks_uri")
        problem = url_problem(jwks_uri, self.allow_http)
        if problem is not None:
            raise _FetchError(f"the jwks_uri of {url} {problem}")
        assert isinstance(jwks_uri, str)
        return jwks_uri, max_age

    def _get_json(self, url: str, deadline: float) -> tuple[Any, float]:
        """GET ``url`` and parse its JSON body, before ``deadline`` (monotonic).

        :returns: the document and its max-age.
        :raises _FetchError: anything but a 200 with a JSON body of at most ``max_bytes``.
        """
        problem = url_problem(url, self.allow_http)
        if problem is not None:  # checked again: a discovered URL, or a changed attribute
            raise _FetchError(f"{url} {problem}")
        parts = urlsplit(url)
        assert parts.hostname is not None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                host, parts.port, timeout=_left(deadline, url), context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(host, parts.port, timeout=_left(deadline, url))
        try:
            connection.connect()
            sock = connection.sock  # kept: the connection forgets it once the response owns it
            assert sock is not None
            connection.request(
                "GET",
                target,
                headers={
                    "Accept": "application/jwk-set+json, application/json",
                    "Accept-Encoding": "identity",
                    "User-Agent": "flask-jwt-guard",
                },
            )
            sock.settimeout(_left(deadline, url))
            response = connection.getresponse()
            if 300 <= response.status < 400:
                raise _FetchError(f"{url} redirects ({response.status}); redirects are refused")
            if response.status != 200:
                raise _FetchError(f"{url} answered {response.status} {response.reason}")
            length = response.getheader("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
                raise _FetchError(f"{url} sends {int(length)} bytes, more than {self.max_bytes}")
            body = bytearray()
            while not response.isclosed():  # it closes itself once Content-Length bytes are read
                sock.settimeout(_left(deadline, url))
                chunk = response.read(min(_CHUNK, self.max_bytes + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
                if len(body) > self.max_bytes:
                    raise _FetchError(f"{url} sends more than {self.max_bytes} bytes")
            max_age = max_age_of(response.getheader("Cache-Control"), response.getheader("Age"))
        except (OSError, http.client.HTTPException, ValueError) as err:  # TimeoutError and SSL errors too
            raise _FetchError(f"{url}: {type(err).__name__}: {err}") from err
        finally:
            connection.close()
        try:
            return json.loads(body), max_age
        except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
            raise _FetchError(f"{url} did not answer with JSON: {err}") from err


def verification_key(jwk: object) -> Key:
    """The :class:`Key` of one JWK from a provider's set: public, for signatures, with a ``kid``.

    :raises UnusableKeyError: private members, ``use`` other than ``sig``, ``key_ops``
        without ``verify``, or anything :func:`~flask_jwt_guard.keys.key_from_jwk` refuses.
    """
    if not isinstance(jwk, dict):
        raise UnusableKeyError("A JWK must be a JSON object")
    kid = jwk.get("kid")
    if jwk.get("use", "sig") != "sig":
        raise UnusableKeyError(f"JWK {kid!r} is not for signatures (use {jwk.get('use')!r})")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise UnusableKeyError(f"JWK {kid!r} is not for verifying (key_ops {ops!r})")
    return key_from_jwk(jwk, require_alg=False, public_only=True)


def _left(deadline: float, url: str) -> float:
    """Seconds left before ``deadline``; raises when there are none."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _FetchError(f"{url}: timed out")
    return left


__all__ = [
    "DISCOVERY_PATH",
    "MAX_BYTES",
    "RemoteJWKS",
    "is_loopback",
    "max_age_of",
    "url_problem",
    "verification_key",
]
