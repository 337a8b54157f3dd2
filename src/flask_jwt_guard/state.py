"""One object per app: its settings, the manager's loaders, keys, and the clock.

:class:`JWTState` lives under ``app.extensions["jwt_guard"]``. It turns the
pure core (:mod:`~flask_jwt_guard.tokens`) into "create a token for this app"
and "verify a token for this app": it picks the key (configured, or from a
loader), reads "now" from its clock, and fills in the claims the extension
relies on. Nothing here imports Flask.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from . import tokens
from .csrf import check_csrf, new_csrf_token
from .exceptions import (
    ConfigurationError,
    DecodeError,
    ExpiredSignatureError,
    InvalidSignatureError,
    InvalidTokenError,
    RevocationStoreUnavailable,
    TokenCreationError,
)
from .jwks import RemoteJWKS
from .keys import Key, KeyCache
from .revocation import identity_key, identity_tag, open_store, session_key, token_key, used_key
from .settings import RemoteKeysSettings, RevocationSettings, Settings, SettingsCache
from .typing import (
    Clock,
    DecodeKeyCallback,
    EncodeKeyCallback,
    IdentityCallback,
    IdentityMappingCallback,
    JWTData,
    JWTHeader,
    RevocationStore,
    TokenPredicate,
    UserLookupCallback,
)

EXTENSION_KEY = "jwt_guard"
_MINTED_KEPT = 64
#: The claim naming a token's session (a login and every token refreshed from it).
SESSION_CLAIM = "sid"
#: The claim carrying the identity's generation when the token was made (see revoke_all).
GENERATION_CLAIM = "gen"
logger = logging.getLogger("flask_jwt_guard")
#: Seconds a fetch of a provider's keys (discovery, JWK Set) may take.
JWKS_FETCH_TIMEOUT = 2.0


class RevocationCheck(NamedTuple):
    """What the store said about a verified token."""

    revoked: bool
    #: The identity's current generation (``None``: never revoked-all, or no store).
    generation: str | None
    #: A refresh token presented again under rotation (the session has just been revoked).
    reused: bool = False


NOT_CHECKED = RevocationCheck(False, None)
#: ``create_token(generation=...)`` default: read the generation from the store.
NOT_LOOKED_UP: object = object()


@dataclass(slots=True)
class Loaders:
    """The data callbacks that the loader decorators set; ``None``: not set, skip the step."""

    additional_claims: IdentityMappingCallback | None = None
    additional_headers: IdentityMappingCallback | None = None
    decode_key: DecodeKeyCallback | None = None
    encode_key: EncodeKeyCallback | None = None
    token_in_blocklist: TokenPredicate | None = None
    token_verification: TokenPredicate | None = None
    user_identity: IdentityCallback | None = None
    user_lookup: UserLookupCallback | None = None


class JWTState:
    """Everything Flask-JWT-Guard keeps for one app.

    :param config: the app's configuration mapping (``app.config``).
    :param loaders: the manager's loaders (shared by every app of that manager).
    :param clock: where "now" comes from; :func:`time.time` unless a test moves it.
    """

    __slots__ = (
        "_remote",
        "defaulted_keys",
        "_keys",
        "_minted",
        "_outage",
        "_settings",
        "_store",
        "_store_lock",
        "clock",
        "config",
        "loaders",
    )

    def __init__(self, config: Mapping[str, Any], loaders: Loaders, clock: Clock = time.time) -> None:
        self.config = config
        self.loaders = loaders
        self.clock: Clock = clock
        self._settings = SettingsCache()
        self._keys = KeyCache()
        # CSRF values of tokens this app made recently, so that set_*_cookies
        # need not verify a token it has just signed. Bounded; any thread may fill it.
        self._minted: dict[str, str] = {}
        self._store: tuple[Any, RevocationStore] | None = None  # (spec, opened store)
        self._store_lock = threading.Lock()
        self._outage = False
        self._remote: tuple[RemoteKeysSettings, RemoteJWKS] | None = (
            None  # (settings it was made for, client)
        )
        #: The ``JWT_*`` keys that ``init_app`` filled with their defaults (the app did not set them).
        self.defaulted_keys: frozenset[str] = frozenset()

    @property
    def settings(self) -> Settings:
        """The compiled settings, rebuilt if a ``JWT_*`` value changed since last time.

        :raises ConfigurationError: naming an invalid key.
        """
        return self._settings.get(self.config)

    # ------------------------------------------------------------------ creating

    def create_token(
        self,
        identity: Any,
        token_type: str,
        *,
        fresh: bool | float | timedelta = False,
        expires_delta: Any = None,
        additional_claims: Mapping[str, Any] | None = None,
        additional_headers: Mapping[str, Any] | None = None,
        json_default: Callable[[Any], Any] | None = None,
        session_id: str | None = None,
        generation: str | None | object = NOT_LOOKED_UP,
        loaders_apply: bool = True,
        subject: Any = NOT_LOOKED_UP,
    ) -> str:
        """Sign a new ``"access"`` or ``"refresh"`` token for ``identity``.

        :param expires_delta: ``None``/``True``: the configured lifetime; ``False``:
            never expires; seconds, a timedelta or a relativedelta: that lifetime.
        :param session_id: the session the token belongs to (``sid``); ``None``: a new one.
        :param generation: the identity's current generation, if the caller has read it
            this request; otherwise it is read from the store (when there is one).
        :param loaders_apply: ``False``: ``identity`` already is the identity claim's value
            and no identity/claims/headers loader runs (renewing a token from its claims).
        :param subject: the identity claim's value, if the caller has already made it
            with ``user_identity_loader`` (so that the loader runs once per token).
        :raises ConfigurationError: no usable signing key.
        :raises TokenCreationError: the token would be longer than ``JWT_MAX_TOKEN_SIZE``.
        """
        settings = self.settings
        loaders = self.loaders if loaders_apply else Loaders()
        headers = dict(loaders.additional_headers(identity) or {}) if loaders.additional_headers else {}
        if additional_headers:
            headers.update(additional_headers)
        extra = dict(loaders.additional_claims(identity) or {}) if loaders.additional_claims else {}
        if additional_claims:
            extra.update(additional_claims)
        key = self._signing_key(identity, settings)
        lifetime = _lifetime(expires_delta, settings.of(token_type == "refresh").expires)
        if settings.revocation.store is not None:
            _check_revocable(lifetime, settings.revocation.longest_lifetime)
        csrf = new_csrf_token() if settings.csrf_protect else None
        if subject is NOT_LOOKED_UP:
            subject = self.identity_claim_value(identity) if loaders_apply else identity
        extra = {SESSION_CLAIM: session_id or new_session_id(), **extra}
        if generation is NOT_LOOKED_UP:
            generation = self.generation_of(subject, settings)
        if generation is not None:
            extra.setdefault(GENERATION_CLAIM, generation)
        claims = tokens.build_claims(
            identity=subject,
            token_type=token_type,
            now=self.clock(),
            identity_claim=settings.identity_claim,
            fresh=fresh,
            expires_delta=lifetime,
            audience=settings.encode_audience,
            issuer=settings.encode_issuer,
            encode_nbf=settings.encode_nbf,
            csrf=csrf,
            extra=extra,
        )
        token = tokens.encode(claims, key, settings.algorithm, headers=headers, json_default=json_default)
        limit = settings.decode_options.max_size
        if len(token) > limit:
            raise TokenCreationError(
                f"The new token is {len(token)} bytes long, over JWT_MAX_TOKEN_SIZE ({limit}), so it "
                "would be refused: raise JWT_MAX_TOKEN_SIZE or put fewer claims in the token"
            )
        if isinstance(claims.get("csrf"), str):
            if len(self._minted) >= _MINTED_KEPT:
                self._minted.clear()
            self._minted[token] = claims["csrf"]
        return token

    def identity_claim_value(self, identity: Any) -> Any:
        """What ``identity`` becomes in a token: ``user_identity_loader(identity)``, or itself."""
        loader = self.loaders.user_identity
        return loader(identity) if loader is not None else identity

    def _signing_key(self, identity: Any, settings: Settings) -> Key:
        if self.loaders.encode_key is not None:
            material = self.loaders.encode_key(identity)
            if not material:
                raise ConfigurationError("encode_key_loader returned no key")
            return self._keys.get(material)
        if settings.signing_key is None:
            raise ConfigurationError(settings.key_error)
        return settings.signing_key

    # ------------------------------------------------------------------ verifying

    def verify_token(
        self,
        token: str,
        settings: Settings | None = None,
        *,
        csrf_value: str | None = None,
        allow_expired: bool = False,
    ) -> tuple[JWTHeader, JWTData]:
        """Verify ``token`` with this app's keys and options; return ``(header, claims)``.

        Claims the extension relies on get their defaults (``type`` "access",
        ``fresh`` False, ``jti`` None), as Flask-JWT-Extended does.

        :param settings: the settings already looked up for this request, if any.
        :param csrf_value: when not ``None``, must equal the token's ``csrf`` claim
            (an empty string is a wrong value, not "skip the check").
        :param allow_expired: accept an expired (but otherwise valid) token.
        :raises JWTExtendedException: (subclasses) for every way the token can be bad;
            an expired one only after every other check, CSRF included.
        """
        if settings is None:
            settings = self.settings
        options = settings.decode_options
        parsed = tokens.parse(token, options.max_size)
        payload = None
        loader = self.loaders.decode_key
        if loader is not None:
            payload = tokens.unverified_payload(parsed)
            # Copies: what the loader does to them must not reach the trusted claims.
            try:
                header_copy, payload_copy = copy.deepcopy(parsed.header), copy.deepcopy(payload)
            except RecursionError:  # nested deeper than copying can go: not a token of ours
                raise DecodeError("Invalid token: nested too deeply") from None
            material = loader(header_copy, payload_copy)
            if not material:  # e.g. an unknown "kid": the token's fault, not the server's
                raise InvalidSignatureError("Signature verification failed")
            key = self._keys.get(material)
        elif settings.key_set is not None or settings.remote_keys is not None:
            kid = parsed.header.get("kid")
            # Our own keys first, then the provider's (a service may do both).
            found = settings.key_set.get(kid) if settings.key_set is not None else None
            if found is None and settings.remote_keys is not None:
                found = self.remote_key(kid, settings)
            if found is None:  # a dropped key, or a kid nobody issued
                raise InvalidTokenError("Unknown key ID (kid)")
            key = found
        elif settings.verification_key is not None:
            key = settings.verification_key
        else:
            raise ConfigurationError(settings.key_error)
        now = self.clock()
        header, claims, expired = tokens.decode(
            parsed, key, options, now=now, verify_exp=not allow_expired, payload=payload
        )
        claims.setdefault("type", "access")
        claims.setdefault("fresh", False)
        claims.setdefault("jti", None)
        if csrf_value is not None:
            check_csrf(claims, csrf_value)
        if expired:
            raise ExpiredSignatureError("Signature has expired", header, claims)
        return header, claims

    def remote_key(self, kid: Any, settings: Settings) -> Key | None:
        """The provider's key for ``kid`` (fetched, cached and refreshed by :class:`RemoteJWKS`)."""
        remote = settings.remote_keys
        if remote is None or not isinstance(kid, str):
            return None
        current = self._remote
        if current is None or current[0] is not remote:  # first use, or the settings were rebuilt
            with self._store_lock:
                current = self._remote
                if current is None or current[0] is not remote:
                    client = (
                        current[1] if current is not None and current[0].source == remote.source else None
                    )
                    if client is None:
                        client = RemoteJWKS(
                            jwks_uri=remote.jwks_uri,
                            issuer=remote.issuer,
                            min_refresh_interval=remote.min_refresh_interval,
                            timeout=JWKS_FETCH_TIMEOUT,
                            allow_http=remote.allow_http,
                            clock=lambda: self.clock(),
                        )
                    client.min_refresh_interval = remote.min_refresh_interval  # a changed setting applies
                    current = self._remote = (remote, client)
        return current[1].get(kid)

    def is_fresh(self, claims: JWTData) -> bool:
        """Whether a verified token is fresh now.

        :raises JWTDecodeError: its ``fresh`` claim is neither a bool nor a NumericDate.
        """
        return tokens.is_fresh(claims, self.clock())

    def csrf_value(self, token: str, settings: Settings | None = None) -> str:
        """The ``csrf`` claim of ``token``: remembered if this app just made it, else verified."""
        csrf = self._minted.get(token)
        if csrf is not None:
            return csrf
        claims = self.verify_token(token, settings)[1]
        return str(claims["csrf"])

    # ------------------------------------------------------------------ revocation

    def store(self, settings: Settings | None = None) -> RevocationStore | None:
        """The revocation store, opened on first use (``None`` when none is configured)."""
        spec = (settings or self.settings).revocation.store
        if spec is None:
            return None
        opened = self._store
        if opened is not None and opened[0] is spec:
            return opened[1]
        with self._store_lock:
            opened = self._store
            if opened is None or opened[0] is not spec:
                revocation = (settings or self.settings).revocation
                opened = self._store = (spec, open_store(spec, revocation.timeout, lambda: self.clock()))
        return opened[1]

    def _store_failed(self, err: Exception, revocation: RevocationSettings) -> None:
        """Log an outage once (not per request), then fail closed or open as configured."""
        if not self._outage:
            self._outage = True
            verdict = "accepting tokens unchecked" if revocation.fail_open else "refusing with 503"
            logger.error("Revocation store unavailable (%s: %s); %s", type(err).__name__, err, verdict)
        if not revocation.fail_open:
            raise RevocationStoreUnavailable("Revocation store unavailable") from err

    def _store_answered(self) -> None:
        if self._outage:
            self._outage = False
            logger.warning("Revocation store reachable again")

    def check_revocation(
        self, claims: JWTData, settings: Settings, *, consume: bool = False
    ) -> RevocationCheck:
        """Ask the store, in one round trip, whether the token, its session or its identity is revoked.

        :param consume: mark this refresh token used (rotation); if it already was,
            the whole session is revoked (RFC 9700, 4.14.2) and the check says so.
        :raises RevocationStoreUnavailable: the store did not answer (unless fail-open).
        """
        store = self.store(settings)
        if store is None:
            return NOT_CHECKED
        revocation = settings.revocation
        prefix, tag = revocation.key_prefix, identity_tag(claims.get(settings.identity_claim))
        jti, sid = claims.get("jti"), claims.get(SESSION_CLAIM)
        if not isinstance(jti, str):
            jti = token_id(claims)
        keys = [identity_key(prefix, tag), token_key(prefix, tag, jti)]
        if isinstance(sid, str):
            keys.append(session_key(prefix, tag, sid))
        spend = None
        if consume:
            spend = (used_key(prefix, tag, jti), self._remaining(claims, revocation, settings))
        try:
            values, consumed = store.lookup(keys, spend)
        except Exception as err:  # noqa: BLE001 - any failure of the store is an outage
            self._store_failed(err, revocation)
            return NOT_CHECKED
        self._store_answered()
        generation, revoked_at = parse_generation(values[0])
        revoked = values[1] is not None or (len(values) > 2 and values[2] is not None)
        if generation is not None:
            token_generation = claims.get(GENERATION_CLAIM)
            if token_generation is not None:
                revoked = revoked or token_generation != generation
            else:
                # A token that carries no generation (made before any revoke_all, or by
                # another issuer): revoked if it was issued up to the moment of revoke_all.
                issued = tokens.numeric_date(claims.get("iat"))
                revoked = revoked or issued is None or issued <= revoked_at
        if spend is not None and not consumed:
            if not revoked:
                self.revoke_session(claims, settings)
            return RevocationCheck(True, generation, reused=True)
        return RevocationCheck(revoked, generation)

    def generation_of(self, subject: Any, settings: Settings | None = None) -> str | None:
        """The identity's current generation, read from the store (``None`` without one)."""
        settings = settings or self.settings
        store = self.store(settings)
        if store is None:
            return None
        revocation = settings.revocation
        try:
            values, _ = store.lookup([identity_key(revocation.key_prefix, identity_tag(subject))])
        except Exception as err:  # noqa: BLE001 - any failure of the store is an outage
            self._store_failed(err, revocation)
            return None
        self._store_answered()
        return parse_generation(values[0])[0]

    def _remaining(self, claims: JWTData, revocation: RevocationSettings, settings: Settings) -> float | None:
        """How long a revocation of this token must live: until it expires (``None``: forever)."""
        exp = tokens.numeric_date(claims.get("exp"))
        if exp is None:
            return None
        return max(exp - self.clock() + settings.decode_options.leeway, 1.0)

    def _put(self, key: str, ttl: float | None, settings: Settings, value: str = "1") -> None:
        store = self.store(settings)
        if store is None:
            raise ConfigurationError("Revoking tokens needs JWT_REVOCATION_STORE")
        try:
            store.put(key, value, ttl)
        except Exception as err:
            # Revoking must never pass silently: fail-open applies to checks only.
            raise RevocationStoreUnavailable("Revocation store unavailable") from err

    def revoke_token(self, claims: JWTData, settings: Settings | None = None) -> None:
        """Revoke one token (by its ``jti``, or a digest of its claims without one) until it expires."""
        settings = settings or self.settings
        tag = identity_tag(claims.get(settings.identity_claim))
        ttl = self._remaining(claims, settings.revocation, settings)
        self._put(token_key(settings.revocation.key_prefix, tag, token_id(claims)), ttl, settings)

    def revoke_session(self, claims: JWTData, settings: Settings | None = None) -> None:
        """Revoke every token of this token's session (``sid``), access and refresh alike."""
        settings = settings or self.settings
        sid = claims.get(SESSION_CLAIM)
        if not isinstance(sid, str):
            # A token made before sessions existed: revoking it alone is all there is to do.
            self.revoke_token(claims, settings)
            return
        tag = identity_tag(claims.get(settings.identity_claim))
        own = self._remaining(claims, settings.revocation, settings)
        ttl = _longest(own, settings.revocation.longest_lifetime)
        self._put(session_key(settings.revocation.key_prefix, tag, sid), ttl, settings)

    def revoke_all(self, subject: Any, settings: Settings | None = None) -> str:
        """Reject every token of ``subject`` (the identity claim's value) made up to now.

        The identity gets a new generation; tokens made from now on carry it.

        :returns: the new generation.
        """
        settings = settings or self.settings
        generation = uuid.uuid4().hex
        key = identity_key(settings.revocation.key_prefix, identity_tag(subject))
        # The moment is kept too, for tokens that carry no generation (another issuer's).
        self._put(key, settings.revocation.longest_lifetime, settings, f"{generation}:{self.clock()!r}")
        return generation


def _check_revocable(lifetime: Any, longest: float | None) -> None:
    """Refuse a token that would outlive the revocations that may have to cover it."""
    if longest is None:
        return
    if lifetime is None:
        seconds = float("inf")
    else:
        start = datetime.now(UTC)
        seconds = (start + lifetime - start).total_seconds()
    if seconds > longest:
        raise TokenCreationError(
            "With JWT_REVOCATION_STORE, a token may not live longer than the configured lifetimes "
            "(JWT_ACCESS_TOKEN_EXPIRES, JWT_REFRESH_TOKEN_EXPIRES): revoking its session or identity "
            "would not outlast it. Raise those settings instead"
        )


def parse_generation(record: str | None) -> tuple[str | None, float]:
    """An identity record ``"<generation>:<time of revoke_all>"`` split in two (``None``: none)."""
    if record is None:
        return None, 0.0
    generation, _, at = record.partition(":")
    try:
        return generation, float(at)
    except ValueError:
        return generation, float("inf")  # unreadable: every token without a generation is refused


def token_id(claims: JWTData) -> str:
    """The id a revocation of one token is kept under: its ``jti``, or a digest of its claims.

    Tokens from some identity providers carry no ``jti``; they can still be revoked one by one.
    """
    jti = claims.get("jti")
    if isinstance(jti, str):
        return jti
    canonical = json.dumps(
        {"type": "access", "fresh": False, **claims, "jti": None},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
        allow_nan=True,
    )
    return "c-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


def new_session_id() -> str:
    """A fresh random session id (the ``sid`` claim)."""
    return uuid.uuid4().hex


def _longest(own: float | None, configured: float | None) -> float | None:
    if own is None or configured is None:
        return None
    return max(own, configured)


def _lifetime(expires_delta: Any, configured: Any) -> Any:
    if expires_delta is None or expires_delta is True:
        return configured
    if expires_delta is False:
        return None
    if isinstance(expires_delta, int | float):
        return timedelta(seconds=expires_delta)
    return expires_delta  # a timedelta, or e.g. a relativedelta
