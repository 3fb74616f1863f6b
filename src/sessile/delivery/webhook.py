"""Delivery by a signed HTTP POST to the operator's sender, retried with backoff.

The body is JSON ``{channel, to, code, text, subject, created_at}``. Headers:
``Sessile-Timestamp: <unix seconds>`` and ``Sessile-Signature: v1=<hex>``, where
the hex is HMAC-SHA256(secret, ``"<timestamp>.<body>"``). A receiver recomputes
it, compares in constant time, and refuses old timestamps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import httpx

from sessile.config import Settings
from sessile.delivery.base import Message
from sessile.errors import DeliveryFailed

__all__ = ["WebhookSender", "webhook_signature"]


def webhook_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSender:
    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        retries: int = 3,
        timeout: float = 5.0,
        backoff: float = 0.25,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self._retries = retries
        self._backoff = backoff
        self._client = client or httpx.AsyncClient(timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookSender:
        # Settings refuses delivery=webhook without both.
        assert settings.webhook_url is not None
        assert settings.webhook_secret is not None
        return cls(
            settings.webhook_url,
            settings.webhook_secret.get_secret_value().encode(),
            retries=settings.webhook_retries,
            timeout=settings.webhook_timeout,
        )

    async def send(self, message: Message) -> None:
        body = json.dumps(
            {
                "channel": message.channel,
                "to": message.to,
                "code": message.code,
                "text": message.text,
                "subject": message.subject,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        ).encode()
        for attempt in range(self._retries + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "Sessile-Timestamp": timestamp,
                "Sessile-Signature": webhook_signature(self._secret, timestamp, body),
            }
            try:
                response = await self._client.post(self._url, content=body, headers=headers)
            except httpx.HTTPError:
                response = None
            if response is not None and response.is_success:
                return
            if (
                response is not None
                and 400 <= response.status_code < 500
                and response.status_code != 429
            ):
                break  # the receiver refused this message; sending it again won't help
            if attempt < self._retries:
                await asyncio.sleep(self._backoff * 2**attempt)
        raise DeliveryFailed()
