"""Flask-JWT-Guard: JSON Web Token authentication for Flask.

A drop-in for Flask-JWT-Extended 4.x: the same names, configuration keys,
defaults, callbacks, status codes and error bodies.
"""

from .context import (
    current_user,
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
from .manager import JWTManager
from .sessions import revoke_all_tokens, revoke_session, revoke_token
from .settings import JWTGuardSecurityWarning
from .view import jwt_required, verify_jwt_in_request

__version__ = "0.1.0"

__all__ = [
    "JWTGuardSecurityWarning",
    "JWTManager",
    "create_access_token",
    "create_refresh_token",
    "current_user",
    "decode_token",
    "get_csrf_token",
    "get_current_user",
    "get_jti",
    "get_jwt",
    "get_jwt_header",
    "get_jwt_identity",
    "get_jwt_request_location",
    "get_unverified_jwt_headers",
    "jwt_required",
    "revoke_all_tokens",
    "revoke_session",
    "revoke_token",
    "set_access_cookies",
    "set_refresh_cookies",
    "unset_access_cookies",
    "unset_jwt_cookies",
    "unset_refresh_cookies",
    "verify_jwt_in_request",
]
