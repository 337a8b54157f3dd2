"""Every error the extension raises: one hierarchy.

- :class:`JWTGuardError`: the base of everything raised here.
- :class:`ConfigurationError`: a server-side mistake (a bad ``JWT_*`` value, an
  unusable key, a second ``init_app``). Never answered as a client error.
- :class:`TokenCreationError`: ``create_*_token`` cannot make the token asked for.
- :class:`JWTExtendedException` (the Flask-JWT-Extended compatible base): everything
  wrong with a *request*. The manager's error handler is registered for this
  class only, and answers each subclass through its loader. An error raised by
  some other use of PyJWT in the application is not answered by this extension.

Decoding errors are also subclasses of PyJWT's own classes, so code written for
Flask-JWT-Extended that catches ``jwt.ExpiredSignatureError`` (and the rest)
keeps working.
"""

from __future__ import annotations

from typing import Any

import jwt
import jwt.exceptions


class JWTGuardError(Exception):
    """Base of everything raised by Flask-JWT-Guard."""


class ConfigurationError(JWTGuardError, RuntimeError):
    """A ``JWT_*`` configuration value is missing or invalid; the message names the key."""


class UnusableKeyError(ConfigurationError, jwt.exceptions.InvalidKeyError):
    """A configured or loaded key does not fit its algorithm (e.g. a PEM key as an HMAC secret)."""


class TokenCreationError(JWTGuardError, ValueError):
    """``create_*_token`` cannot make this token (it would exceed ``JWT_MAX_TOKEN_SIZE``)."""


class JWTExtendedException(JWTGuardError):
    """Base of every error in a request; the manager's error handler answers these."""


class JWTDecodeError(JWTExtendedException):
    """The token is well-formed JWT but lacks something this extension needs."""


class TokenTooLargeError(JWTDecodeError, jwt.DecodeError):
    """The token is longer than ``JWT_MAX_TOKEN_SIZE``; it was refused unparsed."""


class InvalidHeaderError(JWTExtendedException):
    """The ``Authorization`` header does not have the expected shape."""


class InvalidQueryParamError(JWTExtendedException):
    """The query-string token lacks the configured prefix."""


class NoAuthorizationError(JWTExtendedException):
    """No token was found where the route looks for one."""


class CSRFError(JWTExtendedException):
    """The double-submit CSRF token is missing or does not match."""


class WrongTokenError(JWTExtendedException):
    """An access token where a refresh token is required, or the reverse."""


class RevocationStoreUnavailable(JWTExtendedException):
    """The revocation store did not answer in time; the request is refused with ``503``.

    With ``JWT_REVOCATION_FAIL_OPEN`` the request is accepted instead (and the outage logged).
    """


class TokenRejectedError(JWTExtendedException):
    """A valid token that a later check rejected; carries the token for the handler.

    :param message: why the token was rejected.
    :param jwt_header: the token's header.
    :param jwt_data: the token's claims.
    """

    def __init__(self, message: str, jwt_header: dict[str, Any], jwt_data: dict[str, Any]) -> None:
        super().__init__(message)
        self.jwt_header = jwt_header
        self.jwt_data = jwt_data


class RevokedTokenError(TokenRejectedError):
    """The token is in the blocklist."""

    def __init__(self, jwt_header: dict[str, Any], jwt_data: dict[str, Any]) -> None:
        super().__init__("Token has been revoked", jwt_header, jwt_data)


class FreshTokenRequired(TokenRejectedError):
    """The route needs a fresh token and this one is not (or no longer) fresh."""


class UserLookupError(TokenRejectedError):
    """``user_lookup_loader`` returned ``None``."""


class UserClaimsVerificationError(TokenRejectedError):
    """``token_verification_loader`` returned ``False``."""


# PyJWT's classes, marked as raised by this extension (and so answered by its handler).


class DecodeError(jwt.DecodeError, JWTExtendedException):
    """The token cannot be parsed."""


class InvalidSignatureError(jwt.InvalidSignatureError, JWTExtendedException):
    """The signature does not verify."""


class InvalidAlgorithmError(jwt.InvalidAlgorithmError, JWTExtendedException):
    """The ``alg`` header is missing or not on the allow-list."""


class InvalidTokenError(jwt.InvalidTokenError, JWTExtendedException):
    """A header the token carries is invalid (``kid``, ``crit``)."""


class ExpiredSignatureError(jwt.ExpiredSignatureError, JWTExtendedException):
    """The token has expired; carries the verified token for the handler.

    :param message: why.
    :param jwt_header: the token's header (empty until verified).
    :param jwt_data: the token's claims (empty until verified).
    """

    def __init__(
        self,
        message: str = "Signature has expired",
        jwt_header: dict[str, Any] | None = None,
        jwt_data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.jwt_header = jwt_header if jwt_header is not None else {}
        self.jwt_data = jwt_data if jwt_data is not None else {}


class ImmatureSignatureError(jwt.ImmatureSignatureError, JWTExtendedException):
    """``nbf`` or ``iat`` lies in the future."""


class InvalidIssuedAtError(jwt.InvalidIssuedAtError, JWTExtendedException):
    """``iat`` is not a number."""


class InvalidAudienceError(jwt.InvalidAudienceError, JWTExtendedException):
    """``aud`` does not match."""


class InvalidIssuerError(jwt.InvalidIssuerError, JWTExtendedException):
    """``iss`` does not match."""


class MissingRequiredClaimError(jwt.MissingRequiredClaimError, JWTExtendedException):
    """A claim that the configuration requires is absent."""


class InvalidSubjectError(jwt.exceptions.InvalidSubjectError, JWTExtendedException):
    """``sub`` is not a string."""


class InvalidJTIError(jwt.exceptions.InvalidJTIError, JWTExtendedException):
    """``jti`` is not a string."""


__all__ = [
    "CSRFError",
    "ConfigurationError",
    "DecodeError",
    "ExpiredSignatureError",
    "FreshTokenRequired",
    "ImmatureSignatureError",
    "InvalidAlgorithmError",
    "InvalidAudienceError",
    "InvalidHeaderError",
    "InvalidIssuedAtError",
    "InvalidIssuerError",
    "InvalidJTIError",
    "InvalidQueryParamError",
    "InvalidSignatureError",
    "InvalidSubjectError",
    "InvalidTokenError",
    "JWTDecodeError",
    "JWTExtendedException",
    "JWTGuardError",
    "MissingRequiredClaimError",
    "NoAuthorizationError",
    "RevocationStoreUnavailable",
    "RevokedTokenError",
    "TokenCreationError",
    "TokenRejectedError",
    "TokenTooLargeError",
    "UnusableKeyError",
    "UserClaimsVerificationError",
    "UserLookupError",
    "WrongTokenError",
]
