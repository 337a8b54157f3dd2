"""Ending sessions: ``revoke_token``, ``revoke_session``, ``revoke_all_tokens``, and implicit refresh.

Revocations go to the store configured by ``JWT_REVOCATION_STORE``; every
protected request asks it, in one round trip, whether its token, the token's
session or its identity has been revoked. See docs/revocation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, current_app

from .context import current_state, request_jwt, request_state
from .cookies import set_access_cookies
from .settings import Settings
from .state import GENERATION_CLAIM, SESSION_CLAIM, JWTState

#: Claims that a renewed token gets anew rather than copies from the one it renews.
_RENEWED = frozenset({"iat", "nbf", "exp", "jti", "csrf", "type", "fresh", GENERATION_CLAIM})

Token = str | Mapping[str, Any] | None


def _claims_of(state: JWTState, token: Token) -> dict[str, Any]:
    if token is None:
        verified = request_jwt()
        if verified is None or not verified.claims:
            raise RuntimeError("No verified token in this request: pass the token to revoke")
        return verified.claims
    if isinstance(token, str):
        # Verified (an expired token may still be revoked), so that a forged token
        # cannot end somebody else's session.
        return state.verify_token(token, allow_expired=True)[1]
    return dict(token)


def _ended_here() -> None:
    current = request_state()
    if current is not None:
        current.ended = True


def revoke_token(token: Token = None) -> None:
    """Revoke one token: it is refused from the next request on, by every process sharing the store.

    :param token: an encoded token, its decoded claims, or ``None`` for the
        current request's token.
    :raises ConfigurationError: no ``JWT_REVOCATION_STORE`` is configured.
    :raises RevocationStoreUnavailable: the store did not take the revocation.

    .. versionadded:: 0.2
    """
    state = current_state()
    state.revoke_token(_claims_of(state, token))
    _ended_here()


def revoke_session(token: Token = None) -> None:
    """Log out: revoke every access and refresh token of this token's session.

    :param token: an encoded token, its decoded claims, or ``None`` for the
        current request's token.
    :raises ConfigurationError: no ``JWT_REVOCATION_STORE`` is configured.
    :raises RevocationStoreUnavailable: the store did not take the revocation.

    .. versionadded:: 0.2
    """
    state = current_state()
    state.revoke_session(_claims_of(state, token))
    _ended_here()


def revoke_all_tokens(identity: Any) -> None:
    """Log out everywhere: every token of ``identity`` issued up to now is refused.

    Tokens created afterwards (in this request too) work.

    :param identity: the identity claim's value, as ``get_jwt_identity()`` returns it;
        anything that is not a JSON value (a user object) goes through
        ``user_identity_loader`` first, as in ``create_access_token``.
    :raises ConfigurationError: no ``JWT_REVOCATION_STORE`` is configured.
    :raises RevocationStoreUnavailable: the store did not take the revocation.

    .. versionadded:: 0.2
    """
    state = current_state()
    subject = identity if _is_json_value(identity) else state.identity_claim_value(identity)
    generation = state.revoke_all(subject)
    current = request_state()
    if current is not None:
        current.ended = True
        current.sessions.clear()  # sessions started earlier in this request are gone too
        if current.verified and current.claims.get(current.identity_claim) == subject:
            current.generation = generation


def _is_json_value(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def _sets_access_cookie(response: Response, name: str) -> bool:
    prefix = f"{name}="
    return any(value.startswith(prefix) for value in response.headers.getlist("Set-Cookie"))


def refresh_expiring_cookie(response: Response) -> Response:
    """``after_request``: renew an access cookie that is within ``JWT_IMPLICIT_REFRESH`` of expiry.

    The new token continues the session and keeps the old token's claims. Never
    on an error response, on a response that sets or unsets the access cookie
    itself (a logout), or after a ``revoke_*`` call in this request.
    """
    verified = request_jwt()
    if verified is None or verified.location != "cookies" or response.status_code >= 400:
        return response
    if not verified.revocation_checked:  # skip_revocation_check: a revoked token must not be renewed
        return response
    state = current_state()
    settings: Settings = state.settings
    window = settings.revocation.implicit_refresh
    claims = verified.claims
    if window is None or claims.get("type") != "access" or not isinstance(claims.get("exp"), int | float):
        return response
    current = request_state()
    if current is not None and current.ended:
        return response
    if claims["exp"] - state.clock() > window.total_seconds():
        return response
    if _sets_access_cookie(response, settings.access.cookie.name):
        return response
    kept = {name: value for name, value in claims.items() if name not in _RENEWED}
    subject = kept.pop(settings.identity_claim, None)
    sid = kept.pop(SESSION_CLAIM, None)
    token = state.create_token(
        subject,
        "access",
        additional_claims=kept,
        json_default=getattr(current_app.json, "default", None),
        session_id=sid if isinstance(sid, str) else None,
        generation=verified.generation,
        loaders_apply=False,
    )
    set_access_cookies(response, token)
    return response
