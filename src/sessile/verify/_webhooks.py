"""Webhook deliveries: verify one (a receiver), and the HMAC scheme's signing.

The formats are Prelude's, both of them (an endpoint chose one when it was created):

- ``X-Webhook-Signature: rsassa-pss-sha256=<unpadded base64url>``, RSASSA-PSS with
  SHA-256 over the raw body, by the key whose ``kid`` is in
  ``X-Webhook-Signature-Key-Id``, published in the issuer's JWKS (the default);
- ``X-Webhook-Signature: sha256=<base64 HMAC-SHA256 of the raw body>``, keyed by the
  endpoint's secret (the ``whsec_…`` string, as UTF-8 bytes).

The signed body carries what a receiver needs to judge freshness and replays: ``sent_at``
(unix seconds of this attempt), the delivery ``id`` (new for every attempt) and each
event's ``id`` (the same on every attempt: deduplicate on it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sessile.errors import SessileError
from sessile.verify._webhook_keys import WebhookKeys

__all__ = [
    "HMAC_PREFIX",
    "KEY_ID_HEADER",
    "RSASSA_PSS_PREFIX",
    "SIGNATURE_HEADER",
    "WebhookBatch",
    "WebhookError",
    "sign_webhook",
    "verify_webhook",
]

SIGNATURE_HEADER = "X-Webhook-Signature"
KEY_ID_HEADER = "X-Webhook-Signature-Key-Id"
RSASSA_PSS_PREFIX = "rsassa-pss-sha256="
HMAC_PREFIX = "sha256="

#: sessile signs with a 32-byte salt (PS256's); the check takes whatever length was used.
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


class WebhookError(SessileError):
    """A delivery that must be refused: bad or missing signature, unknown key, stale, or
    malformed."""

    code: ClassVar[str] = "invalid_webhook"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The webhook delivery is not authentic or not fresh."


@dataclass(frozen=True)
class WebhookBatch:
    """One verified delivery: its id, when it was sent, the app, and its events in order."""

    id: str
    app_id: str
    sent_at: int
    events: tuple[Mapping[str, Any], ...]


def sign_webhook(secret: str, body: bytes) -> str:
    """The ``X-Webhook-Signature`` value of ``body`` under the HMAC scheme."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return HMAC_PREFIX + base64.b64encode(digest).decode()


def verify_webhook(
    body: bytes,
    signature: str | None,
    secrets: str | Iterable[str] | None = None,
    *,
    key_id: str | None = None,
    keys: WebhookKeys | None = None,
    tolerance: float = 300.0,
    now: float | None = None,
    app_id: str | None = None,
) -> WebhookBatch:
    """Check a delivery's signature and freshness; return its batch, or raise
    :class:`WebhookError`.

    ``signature`` and ``key_id`` are the values of ``X-Webhook-Signature`` and
    ``X-Webhook-Signature-Key-Id``. An ``rsassa-pss-sha256=`` signature is checked with
    the key of ``keys`` (the issuer's JWKS) that ``key_id`` names; a ``sha256=`` one
    against any of ``secrets`` (several while you rotate).

    Replays within ``tolerance`` are the receiver's to drop: remember each event ``id``
    (or the delivery ``id``) for at least that long.
    """
    if signature and signature.startswith(RSASSA_PSS_PREFIX):
        _check_rsassa_pss(body, signature.removeprefix(RSASSA_PSS_PREFIX), key_id, keys)
    elif signature and signature.startswith(HMAC_PREFIX):
        candidates = [secrets] if isinstance(secrets, str) else list(secrets or ())
        if not candidates:
            raise WebhookError("The delivery is signed with sha256= but no secret was given.")
        if not any(hmac.compare_digest(sign_webhook(s, body), signature) for s in candidates):
            raise WebhookError("The signature does not match the body.")
    else:
        raise WebhookError("The delivery carries no rsassa-pss-sha256= or sha256= signature.")
    return _fresh_batch(body, tolerance=tolerance, now=now, app_id=app_id)


def _check_rsassa_pss(
    body: bytes, encoded: str, key_id: str | None, keys: WebhookKeys | None
) -> None:
    if keys is None:
        raise WebhookError("The delivery is signed with rsassa-pss-sha256= but no keys given.")
    if not key_id:
        raise WebhookError("The delivery names no key (X-Webhook-Signature-Key-Id).")
    public = keys.key(key_id)
    if public is None:
        raise WebhookError("The delivery's key is not an RSA signing key of the JWKS.")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        public.verify(raw, body, _PSS, hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise WebhookError("The signature does not match the body.") from exc


def _fresh_batch(
    body: bytes, *, tolerance: float, now: float | None, app_id: str | None
) -> WebhookBatch:
    try:
        document = json.loads(body)
        batch = WebhookBatch(
            id=str(document["id"]),
            app_id=str(document["app_id"]),
            sent_at=int(document["sent_at"]),
            events=tuple(document["events"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WebhookError("The delivery body is not a webhook batch.") from exc
    current = time.time() if now is None else now
    if abs(current - batch.sent_at) > tolerance:
        raise WebhookError("The delivery is too old (or from the future): a replay?")
    if app_id is not None and batch.app_id != app_id:
        raise WebhookError("The delivery is for another app.")
    return batch
