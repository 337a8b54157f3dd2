"""Compatibility path: the names Flask-JWT-Extended exposes as ``flask_jwt_extended.view_decorators``.

New code should import from ``flask_jwt_guard`` directly.
"""

from .typing import LocationType
from .view import jwt_required, verify_jwt_in_request

__all__ = ["LocationType", "jwt_required", "verify_jwt_in_request"]
