"""Creating and decoding tokens with the current app's configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from . import tokens
from .context import current_state, request_state
from .revocation import identity_tag
from .state import NOT_LOOKED_UP, SESSION_CLAIM, JWTState, new_session_id
from .typing import ExpiresDelta, Fresh


def _json_default() -> Any:
    # Flask's JSON provider knows how to serialise what views return (dates, UUIDs, ...).
    return getattr(current_app.json, "default", None)


def _session_for(state: JWTState, identity: Any) -> tuple[str | None, str | None | object, Any]:
    """The session (``sid``), generation and identity claim a new token for ``identity`` gets.

    A request holding a verified token of the same identity (a refresh view, a
    re-login) continues that token's session. Otherwise the request starts one
    new session per identity: the access and refresh token of one login share it.
    """
    current = request_state()
    subject = state.identity_claim_value(identity)  # the loader runs once per token, here
    if current is None:  # no request (a CLI command, a script): each call is a login
        return None, NOT_LOOKED_UP, subject
    if current.verified and current.claims and current.claims.get(current.identity_claim) == subject:
        sid = current.claims.get(SESSION_CLAIM)
        if isinstance(sid, str):
            return sid, current.generation, subject
    tag = subject if isinstance(subject, str) else identity_tag(subject)
    started = current.sessions.get(tag)
    if started is None:
        started = current.sessions[tag] = (new_session_id(), state.generation_of(subject))
    return started[0], started[1], subject


def _create(identity: Any, token_type: str, **kwargs: Any) -> str:
    state = current_state()
    session_id, generation, subject = _session_for(state, identity)
    return state.create_token(
        identity,
        token_type,
        json_default=_json_default(),
        session_id=session_id,
        generation=generation,
        subject=subject,
        **kwargs,
    )


def create_access_token(
    identity: Any,
    fresh: Fresh = False,
    expires_delta: ExpiresDelta | None = None,
    additional_claims: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
) -> str:
    """Make a signed access token.

    :param identity: who the token is for; ``user_identity_loader`` turns it
        into the identity claim.
    :param fresh: ``True`` marks the token fresh; a :class:`~datetime.timedelta`
        keeps it fresh for that long; a number is the UNIX time until which it
        is fresh (as in Flask-JWT-Extended).
    :param expires_delta: lifetime (a timedelta or seconds); ``False``: never
        expires; ``None``: ``JWT_ACCESS_TOKEN_EXPIRES``.
    :param additional_claims: claims to add (they win over ``additional_claims_loader``).
    :param additional_headers: JOSE headers to add; ``alg`` cannot be changed this way.
    :raises TokenCreationError: (a ``ValueError``) the token would exceed ``JWT_MAX_TOKEN_SIZE``.
    """
    return _create(
        identity,
        "access",
        fresh=fresh,
        expires_delta=expires_delta,
        additional_claims=additional_claims,
        additional_headers=additional_headers,
    )


def create_refresh_token(
    identity: Any,
    expires_delta: ExpiresDelta | None = None,
    additional_claims: Mapping[str, Any] | None = None,
    additional_headers: Mapping[str, Any] | None = None,
) -> str:
    """Make a signed refresh token (never fresh); see :func:`create_access_token`.

    ``expires_delta=None`` means ``JWT_REFRESH_TOKEN_EXPIRES``.
    """
    return _create(
        identity,
        "refresh",
        expires_delta=expires_delta,
        additional_claims=additional_claims,
        additional_headers=additional_headers,
    )


def decode_token(
    encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
) -> dict[str, Any]:
    """Verify a token and return its claims.

    :param csrf_value: when not ``None``, must match the token's ``csrf`` claim
        (an empty string never matches).
    :param allow_expired: accept an expired (but otherwise valid) token.
    :raises jwt.InvalidTokenError: (PyJWT's classes) when the token is not valid.
    """
    return current_state().verify_token(encoded_token, csrf_value=csrf_value, allow_expired=allow_expired)[1]


def get_unverified_jwt_headers(encoded_token: str) -> dict[str, Any]:
    """The token's JOSE header, **without** verifying the token."""
    return tokens.parse(encoded_token, current_state().settings.decode_options.max_size).header


def get_jti(encoded_token: str) -> str | None:
    """The ``jti`` of a (verified) token."""
    jti: str | None = decode_token(encoded_token).get("jti")
    return jti


def get_csrf_token(encoded_token: str) -> str:
    """The ``csrf`` claim of a (verified) token."""
    csrf: str = decode_token(encoded_token)["csrf"]
    return csrf
