"""Verify sessile access tokens in a backend (DESIGN §10).

``Verifier`` (threads) and ``AsyncVerifier`` (asyncio) check a token against
the issuer's JWKS and return :class:`Claims` or raise a :class:`TokenError`.
``verify_webhook`` checks a webhook delivery's signature (RSASSA-PSS against the keys
of ``WebhookKeys``, or HMAC with the endpoint's secret) and its freshness.
Framework glue lives in ``sessile.verify.fastapi``, ``.starlette`` and
``.flask``; import the one you use. See docs/backend.md.
"""

from sessile.verify._errors import (
    BadSignature,
    ExpiredToken,
    InsufficientScope,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidToken,
    KeysUnavailable,
    MissingToken,
    RevokedToken,
    TokenError,
    TokenNotYetValid,
    UnknownKey,
    UnsupportedAlgorithm,
)
from sessile.verify._revocations import FeedStats, RevocationFeed
from sessile.verify._verifier import AsyncVerifier, Verifier
from sessile.verify._webhook_keys import WebhookKeys
from sessile.verify._webhooks import WebhookBatch, WebhookError, verify_webhook
from sessile.verify.claims import Claims

__all__ = [
    "AsyncVerifier",
    "BadSignature",
    "Claims",
    "ExpiredToken",
    "FeedStats",
    "InsufficientScope",
    "InvalidAudience",
    "InvalidClaim",
    "InvalidIssuer",
    "InvalidToken",
    "KeysUnavailable",
    "MissingToken",
    "RevocationFeed",
    "RevokedToken",
    "TokenError",
    "TokenNotYetValid",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "Verifier",
    "WebhookBatch",
    "WebhookError",
    "WebhookKeys",
    "verify_webhook",
]
