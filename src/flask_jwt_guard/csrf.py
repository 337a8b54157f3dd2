"""Double-submit CSRF tokens: making them, finding the submitted one, comparing."""

from __future__ import annotations

import hmac
import uuid
from typing import TYPE_CHECKING, Any

from .exceptions import CSRFError

if TYPE_CHECKING:
    from flask import Request

    from .settings import Settings


def new_csrf_token() -> str:
    """A fresh random CSRF value (the ``csrf`` claim and cookie)."""
    return str(uuid.uuid4())


def csrf_matches(expected: Any, submitted: str) -> bool:
    """Constant-time comparison; safe for any ``str`` (non-ASCII included)."""
    if not isinstance(expected, str):
        return False
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), submitted.encode("utf-8", "surrogatepass")
    )


def submitted_csrf(request: Request, settings: Settings, refresh: bool) -> str | None:
    """The CSRF value a cookie-authenticated request must carry, or ``None`` if it needs none.

    :raises CSRFError: the request method needs one and none was sent.
    """
    if not settings.csrf_protect or request.method not in settings.csrf_methods:
        return None
    value = request.headers.get(settings.csrf_header_names[refresh])
    if not value and settings.csrf_check_form:
        value = request.form.get(settings.csrf_field_names[refresh])
    if not value:
        raise CSRFError("Missing CSRF token")
    return value
