"""Why a token was refused (RFC 6750 §3.1, RFC 8725, RFC 9068 §4).

Each class carries its machine ``code`` and HTTP ``status``; the framework
integrations turn them into a response::

    TokenError                       401 invalid_token
    ├── MissingToken                 401 missing_token    (no error= in WWW-Authenticate)
    ├── InvalidToken                 401 invalid_token    (malformed, wrong typ, no kid)
    │   ├── UnsupportedAlgorithm     401 unsupported_algorithm
    │   ├── BadSignature             401 invalid_signature
    │   ├── UnknownKey               401 unknown_key
    │   ├── InvalidClaim             401 invalid_claim
    │   ├── InvalidIssuer            401 invalid_issuer
    │   ├── InvalidAudience          401 invalid_audience
    │   ├── ExpiredToken             401 expired_token
    │   ├── TokenNotYetValid         401 token_not_yet_valid
    │   └── RevokedToken             401 revoked_token    (its session was revoked: the feed)
    ├── InsufficientScope            403 insufficient_scope (valid, but lacks a scope)
    └── KeysUnavailable              503 keys_unavailable (the JWKS could not be fetched)

Messages are fixed sentences: they reach the ``WWW-Authenticate`` header, so
they never quote the token. The data that failed rides on attributes.
"""

from __future__ import annotations

from typing import ClassVar

from sessile.errors import SessileError

__all__ = [
    "BadSignature",
    "ExpiredToken",
    "InsufficientScope",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidIssuer",
    "InvalidToken",
    "KeysUnavailable",
    "MissingToken",
    "RevokedToken",
    "TokenError",
    "TokenNotYetValid",
    "UnknownKey",
    "UnsupportedAlgorithm",
]


class TokenError(SessileError):
    """Base of every reason a bearer token is refused."""

    code: ClassVar[str] = "invalid_token"
    status: ClassVar[int] = 401
    default_message: ClassVar[str] = "The access token is invalid."
    oauth_error: ClassVar[str | None] = "invalid_token"


class MissingToken(TokenError):
    # RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
    code = "missing_token"
    default_message = "The request carries no bearer token."
    oauth_error = None


class InvalidToken(TokenError):
    code = "invalid_token"
    default_message = "The access token is malformed."


class UnsupportedAlgorithm(InvalidToken):
    code = "unsupported_algorithm"
    default_message = "The access token's algorithm is not allowed."

    def __init__(self, alg: object, message: str | None = None) -> None:
        super().__init__(message)
        self.alg = alg


class BadSignature(InvalidToken):
    code = "invalid_signature"
    default_message = "The access token's signature does not verify."


class UnknownKey(InvalidToken):
    code = "unknown_key"
    default_message = "The access token was signed by a key the issuer does not publish."

    def __init__(self, kid: str, message: str | None = None) -> None:
        super().__init__(message)
        self.kid = kid


class InvalidClaim(InvalidToken):
    code = "invalid_claim"
    default_message = "The access token lacks a required claim or has one of the wrong type."

    def __init__(self, claim: str, message: str | None = None) -> None:
        super().__init__(message)
        self.claim = claim


class InvalidIssuer(InvalidToken):
    code = "invalid_issuer"
    default_message = "The access token was issued by another issuer."

    def __init__(self, issuer: object, message: str | None = None) -> None:
        super().__init__(message)
        self.issuer = issuer


class InvalidAudience(InvalidToken):
    code = "invalid_audience"
    default_message = "The access token is meant for another audience."

    def __init__(self, audience: object, message: str | None = None) -> None:
        super().__init__(message)
        self.audience = audience


class ExpiredToken(InvalidToken):
    code = "expired_token"
    default_message = "The access token has expired."

    def __init__(self, expired_at: float, message: str | None = None) -> None:
        super().__init__(message)
        self.expired_at = expired_at


class TokenNotYetValid(InvalidToken):
    code = "token_not_yet_valid"
    default_message = "The access token is not valid yet."

    def __init__(self, valid_from: float, message: str | None = None) -> None:
        super().__init__(message)
        self.valid_from = valid_from


class KeysUnavailable(TokenError):
    """The issuer's JWKS could not be fetched, so the token cannot be checked either way."""

    code = "keys_unavailable"
    status = 503
    default_message = "The issuer's signing keys could not be fetched."
    oauth_error = None


class RevokedToken(InvalidToken):
    code = "revoked_token"
    default_message = "The access token's session has been revoked."


class InsufficientScope(TokenError):
    """A valid token without a scope the route needs (RFC 6750 §3.1): 403, and the scope
    named in ``WWW-Authenticate`` so the client knows what to step up for."""

    code = "insufficient_scope"
    status = 403
    default_message = "The access token lacks a scope this needs."
    oauth_error = "insufficient_scope"

    def __init__(self, scopes: tuple[str, ...], message: str | None = None) -> None:
        super().__init__(message)
        self.scopes = scopes


def check_scopes(granted: frozenset[str], needed: tuple[str, ...]) -> None:
    """Raise InsufficientScope unless every scope in ``needed`` was granted."""
    if not set(needed) <= granted:
        raise InsufficientScope(needed)
