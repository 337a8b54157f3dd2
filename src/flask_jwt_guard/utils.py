"""Compatibility path: the names Flask-JWT-Extended exposes as ``flask_jwt_extended.utils``.

Apps written for it import from here (``from flask_jwt_extended.utils import get_jwt``);
after the import-line swap they get the very same objects as ``flask_jwt_guard``.
New code should import from ``flask_jwt_guard`` directly.
"""

from .context import (
    current_user,
    current_user_context_processor,
    get_current_user,
    get_jwt,
    get_jwt_header,
    get_jwt_identity,
    get_jwt_request_location,
)
from .cookies import (
    set_access_cookies,
    set_refresh_cookies,
    unset_access_cookies,
    unset_jwt_cookies,
    unset_refresh_cookies,
)
from .issuing import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_csrf_token,
    get_jti,
    get_unverified_jwt_headers,
)

__all__ = [
    "create_access_token",
    "create_refresh_token",
    "current_user",
    "current_user_context_processor",
    "decode_token",
    "get_csrf_token",
    "get_current_user",
    "get_jti",
    "get_jwt",
    "get_jwt_header",
    "get_jwt_identity",
    "get_jwt_request_location",
    "get_unverified_jwt_headers",
    "set_access_cookies",
    "set_refresh_cookies",
    "unset_access_cookies",
    "unset_jwt_cookies",
    "unset_refresh_cookies",
]
