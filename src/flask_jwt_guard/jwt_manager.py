"""Compatibility path: ``flask_jwt_extended.jwt_manager.JWTManager``.

New code should import from ``flask_jwt_guard`` directly.
"""

from .manager import JWTManager

__all__ = ["JWTManager"]
