"""Webhook deliveries: sign (the server) and verify (a receiver).

The format is Prelude's: ``X-Webhook-Signature: sha256=<base64 HMAC-SHA256 of the raw
body>``, keyed by the endpoint's secret (the ``whsec_…`` string, as UTF-8 bytes). The
signed body carries what a receiver needs to judge freshness and replays: ``sent_at``
(unix seconds of this attempt), the delivery ``id`` (new for every attempt) and each
event's ``id`` (the same on every attempt: deduplicate on it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from sessile.errors import SessileError

__all__ = [
    "SIGNATURE_HEADER",
    "WebhookBatch",
    "WebhookError",
    "sign_webhook",
    "verify_webhook",
]

SIGNATURE_HEADER = "X-Webhook-Signature"
_PREFIX = "sha256="


class WebhookError(SessileError):
    """A delivery that must be refused: bad or missing signature, stale, or malformed."""

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
    """The ``X-Webhook-Signature`` value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return _PREFIX + base64.b64encode(digest).decode()


def verify_webhook(
    body: bytes,
    signature: str | None,
    secrets: str | Iterable[str],
    *,
    tolerance: float = 300.0,
    now: float | None = None,
    app_id: str | None = None,
) -> WebhookBatch:
    """Check a delivery's signature (against any of ``secrets``, for rotation) and freshness;
    return its batch, or raise :class:`WebhookError`.

    Replays within ``tolerance`` are the receiver's to drop: remember each event ``id``
    (or the delivery ``id``) for at least that long.
    """
    if not signature or not signature.startswith(_PREFIX):
        raise WebhookError("The delivery carries no sha256= signature.")
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    if not any(hmac.compare_digest(sign_webhook(s, body), signature) for s in candidates):
        raise WebhookError("The signature does not match the body.")
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
