"""Double-submit CSRF values: making one, and checking a submitted one against a token's claim.

Where the submitted value is read from (a header, a form field) is the Flask
layer's business (:mod:`flask_jwt_guard.locations`); nothing here imports Flask.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from typing import Any

from .exceptions import CSRFError, JWTDecodeError


def new_csrf_token() -> str:
    """A fresh random CSRF value (the ``csrf`` claim and cookie)."""
    return str(uuid.uuid4())


def csrf_matches(expected: Any, submitted: str) -> bool:
    """Constant-time comparison; safe for any ``str`` (non-ASCII included)."""
    if not isinstance(expected, str) or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), submitted.encode("utf-8", "surrogatepass")
    )


def check_csrf(claims: Mapping[str, Any], submitted: str) -> None:
    """Check the value a request submitted against the token's ``csrf`` claim.

    An empty ``submitted`` value is a wrong value, never "no check".

    :raises JWTDecodeError: the token has no ``csrf`` claim.
    :raises CSRFError: the values differ.
    """
    if "csrf" not in claims:
        raise JWTDecodeError("Missing claim: csrf")
    if not csrf_matches(claims["csrf"], submitted):
        raise CSRFError("CSRF double submit tokens do not match")
