"""Every error sessile reports on the wire (DESIGN §2).

Each class carries its wire ``code`` and HTTP ``status``; only the HTTP layer
turns them into responses::

    SessileError
    ├── BadRequest                 400 bad_request
    │   ├── InvalidIdentifier      400 invalid_identifier
    │   ├── BadCheckCode           400 bad_check_code
    │   ├── InvalidPassword        400 invalid_password
    │   ├── InvalidPaginationLimit 400 invalid_pagination_limit
    │   ├── InvalidPaginationOffset 400 invalid_pagination_offset
    │   ├── OAuthProviderNotConfigured 400 oauth_provider_not_configured
    │   ├── OAuthProviderDisabled  400 oauth_provider_disabled
    │   ├── InvalidRedirectUri     400 invalid_redirect_uri
    │   ├── InvalidOAuthState      400 invalid_oauth_state
    │   └── InvalidChallengeToken  400 invalid_challenge_token
    ├── DPoPError                  (OAuth pair: error / error_description)
    │   ├── InvalidDPoPProof       401 invalid_dpop_proof
    │   ├── MissingDPoPProof       401 missing_dpop_proof
    │   ├── UseDPoPNonce           401 use_dpop_nonce
    │   └── DPoPKeyMismatch        401 dpop_key_mismatch
    ├── Unauthorized               401 unauthorized
    ├── Forbidden                  403 forbidden
    ├── StepUpError                (step-up, DESIGN §12; the names Prelude's SDK maps)
    │   ├── MissingChallengeToken     400 missing_challenge_token
    │   ├── InvalidChallengeToken     400 invalid_challenge_token
    │   ├── ExpiredChallengeToken     400 expired_challenge_token
    │   ├── InvalidVerificationToken  400 invalid_verification_token
    │   ├── InvalidMetadata           400 invalid_metadata
    │   ├── TokenMismatch             403 token_mismatch
    │   ├── StepUpNotConfigured       403 not_configured
    │   ├── ScopeNotAllowed           403 scope_not_allowed
    │   ├── AuthBlocked               403 auth_blocked
    │   ├── StepNotFound              404 step_not_found
    │   ├── TokenReused               409 token_reused
    │   ├── StepNotCompleted          409 step_not_completed
    │   └── StepBypassed              409 step_bypassed
    ├── NotFound                   404 not_found
    ├── MethodNotAllowed           405 method_not_allowed
    ├── Conflict                   409 conflict
    │   └── IdentifierAlreadyExists 409 identifier_already_exists
    ├── PayloadTooLarge            413 payload_too_large
    ├── RateLimited                429 rate_limited (Retry-After)
    ├── Internal                   500 internal
    └── ServiceUnavailable         503 service_unavailable
        └── DeliveryFailed         503 delivery_failed
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuthBlocked",
    "BadCheckCode",
    "BadRequest",
    "Conflict",
    "DPoPError",
    "DPoPKeyMismatch",
    "DeliveryFailed",
    "ExpiredChallengeToken",
    "Forbidden",
    "IdentifierAlreadyExists",
    "InsufficientScope",
    "Internal",
    "InvalidChallengeToken",
    "InvalidDPoPProof",
    "InvalidIdentifier",
    "InvalidMetadata",
    "InvalidOAuthState",
    "InvalidPaginationLimit",
    "InvalidPaginationOffset",
    "InvalidPassword",
    "InvalidRedirectUri",
    "InvalidVerificationToken",
    "MethodNotAllowed",
    "MissingChallengeToken",
    "MissingDPoPProof",
    "NotFound",
    "OAuthProviderDisabled",
    "OAuthProviderNotConfigured",
    "PayloadTooLarge",
    "RateLimited",
    "ScopeNotAllowed",
    "ServiceUnavailable",
    "SessileError",
    "StepBypassed",
    "StepNotCompleted",
    "StepNotFound",
    "StepUpError",
    "StepUpNotConfigured",
    "TokenMismatch",
    "TokenReused",
    "Unauthorized",
    "UseDPoPNonce",
]


class SessileError(Exception):
    """Base of every error with a wire code."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "Internal error."
    #: The OAuth ``error`` value, for errors an OAuth or DPoP client looks at.
    oauth_error: ClassVar[str | None] = None

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadRequest(SessileError):
    code = "bad_request"
    status = 400
    default_message = "The request is malformed."


class InvalidIdentifier(BadRequest):
    code = "invalid_identifier"
    default_message = "The identifier is not a valid email address or phone number."


class BadCheckCode(BadRequest):
    code = "bad_check_code"
    default_message = "The code is wrong or has expired."


class InvalidPassword(BadRequest):
    code = "invalid_password"
    default_message = "The identifier or password is wrong."


class InvalidPaginationLimit(BadRequest):
    code = "invalid_pagination_limit"
    default_message = "limit must be an integer between 1 and 100."


class InvalidPaginationOffset(BadRequest):
    code = "invalid_pagination_offset"
    default_message = "offset must be a non-negative integer."


class DPoPError(SessileError):
    status = 401
    oauth_error = "invalid_dpop_proof"


class InvalidDPoPProof(DPoPError):
    code = "invalid_dpop_proof"
    default_message = "The DPoP proof is invalid."


class MissingDPoPProof(DPoPError):
    code = "missing_dpop_proof"
    default_message = "This endpoint needs a DPoP proof in the DPoP header."


class UseDPoPNonce(DPoPError):
    code = "use_dpop_nonce"
    oauth_error = "use_dpop_nonce"
    default_message = "Retry with the server nonce from the DPoP-Nonce header."


class DPoPKeyMismatch(DPoPError):
    code = "dpop_key_mismatch"
    default_message = "The DPoP proof is signed by a key other than the session's."


class Unauthorized(SessileError):
    code = "unauthorized"
    status = 401
    default_message = "Authentication is required."
    oauth_error = "invalid_token"


class Forbidden(SessileError):
    code = "forbidden"
    status = 403
    default_message = "This action is not allowed."


class InsufficientScope(Forbidden):
    """The access token lacks the scope the call needs, or its grant was spent (RFC 6750
    §3.1's ``insufficient_scope``; Prelude's code for a password change without
    ``prld:pwd:write``)."""

    code = "insufficient_scope"
    default_message = "This needs a step-up for the scope, still valid."


class StepUpError(SessileError):
    """A step-up request, step or grant that can't go on; never a 401, so that a client's
    retry-after-refresh logic on Bearer routes doesn't resend it."""

    status = 400


class MissingChallengeToken(StepUpError):
    code = "missing_challenge_token"
    default_message = "challenge_token is required."


class InvalidChallengeToken(StepUpError):
    code = "invalid_challenge_token"
    default_message = "The challenge token is invalid or no longer current."


class ExpiredChallengeToken(StepUpError):
    code = "expired_challenge_token"
    default_message = "The step-up challenge has expired; request it again."


class InvalidVerificationToken(StepUpError):
    code = "invalid_verification_token"
    default_message = "The verification token is invalid or expired."


class InvalidMetadata(StepUpError):
    code = "invalid_metadata"
    default_message = "metadata must be an object of short strings."


class TokenMismatch(StepUpError):
    code = "token_mismatch"
    status = 403
    default_message = "The tokens presented belong to different challenges or sessions."


class StepUpNotConfigured(StepUpError):
    code = "not_configured"
    status = 403
    default_message = "Step-up authentication is not configured."


class ScopeNotAllowed(StepUpError):
    code = "scope_not_allowed"
    status = 403
    default_message = "This scope can't be requested."


class AuthBlocked(StepUpError):
    code = "auth_blocked"
    status = 403
    default_message = "This step-up can't be granted to this account."


class StepNotFound(StepUpError):
    code = "step_not_found"
    status = 404
    default_message = "The challenge's current step is not of this kind."


class TokenReused(StepUpError):
    code = "token_reused"
    status = 409
    default_message = "This token has already been used."


class StepNotCompleted(StepUpError):
    code = "step_not_completed"
    status = 409
    default_message = "The challenge has steps left to complete."


class StepBypassed(StepUpError):
    code = "step_bypassed"
    status = 409
    default_message = "An earlier step of the challenge is not done yet."


class NotFound(SessileError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class MethodNotAllowed(SessileError):
    code = "method_not_allowed"
    status = 405
    default_message = "This method is not allowed on this path."


class Conflict(SessileError):
    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state."


class IdentifierAlreadyExists(Conflict):
    code = "identifier_already_exists"
    default_message = "This identifier belongs to another user."


class PayloadTooLarge(SessileError):
    code = "payload_too_large"
    status = 413
    default_message = "The request body is too large."


class RateLimited(SessileError):
    code = "rate_limited"
    status = 429
    default_message = "Too many requests; retry later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Internal(SessileError):
    pass


class ServiceUnavailable(SessileError):
    code = "service_unavailable"
    status = 503
    default_message = "The service is temporarily unavailable; retry later."


class DeliveryFailed(ServiceUnavailable):
    code = "delivery_failed"
    default_message = "The code could not be sent; try again in a moment."


# Social login (login/oauth/). Prelude's SDK maps the first three by name.
class OAuthProviderNotConfigured(BadRequest):
    code = "oauth_provider_not_configured"
    default_message = "This sign-in provider is not configured."


class OAuthProviderDisabled(BadRequest):
    code = "oauth_provider_disabled"
    default_message = "This sign-in provider is turned off."


class InvalidRedirectUri(BadRequest):
    code = "invalid_redirect_uri"
    default_message = "redirect_uri is not one of the allowed redirect URIs."


class InvalidOAuthState(BadRequest):
    code = "invalid_oauth_state"
    default_message = "This sign-in is unknown, used, expired or was started in another browser."
