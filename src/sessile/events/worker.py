"""The webhook worker: claims queued events, posts them to their endpoint in signed batches,
retries failures with a growing delay over ``event_retry_horizon``, then dead-letters.

A batch is Prelude's envelope, ``{"app_id": …, "events": […]}``, with sessile's delivery
``id`` (new for every attempt) and ``sent_at`` (unix seconds of this attempt) beside them;
each attempt is signed when it is sent (:mod:`.signing`). Anything but a 2xx within
``event_timeout`` is a failure.

Every server process runs one. A claim leases rows in the database, so workers on any number
of nodes share the queue without sending an event twice while its lease holds; a receiver
deduplicates on the event ``id`` for the rare retry after a lost answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

import httpx

from sessile.clock import Clock
from sessile.crypto import SecretBox
from sessile.events import egress
from sessile.events.signing import signature_headers
from sessile.ids import new_id
from sessile.keys import BodySigner
from sessile.metrics import DELIVERIES, WEBHOOK_ATTEMPTS
from sessile.polling import pause
from sessile.store.events import EventStore, QueuedEvent
from sessile.store.webhooks import Webhook, WebhookStore

__all__ = ["WebhookPolicy", "WebhookWorker", "secret_box"]

log = logging.getLogger("sessile.events")

_IDLE_POLL = 0.5


def secret_box(server_secret: bytes) -> SecretBox:
    return SecretBox(server_secret, "webhook-secrets")


@dataclass(frozen=True)
class WebhookPolicy:
    app_id: str
    batch_size: int
    timeout: float
    backoff_base: float
    backoff_max: float
    #: How long after it was queued an event is still retried.
    retry_horizon: float
    lease: float = 60.0
    #: Whether an endpoint may be at a loopback or private address (labs, tests).
    allow_private_urls: bool = False


class WebhookWorker:
    def __init__(
        self,
        events: EventStore,
        webhooks: WebhookStore,
        server_secret: bytes,
        signer: BodySigner,
        clock: Clock,
        policy: WebhookPolicy,
    ) -> None:
        self._events = events
        self._webhooks = webhooks
        self._box = secret_box(server_secret)
        self._signer = signer
        self._clock = clock
        self._policy = policy
        self._client: httpx.AsyncClient | None = None

    async def run(self) -> None:
        """Deliver due events until cancelled; a failure is logged and tried again later."""
        self._client = egress.client(
            timeout=self._policy.timeout, allow_private=self._policy.allow_private_urls
        )
        try:
            failures = 0
            while True:
                try:
                    handled = await self.deliver_due()
                    failures = 0
                except Exception:
                    log.exception("webhook worker failed")
                    handled = 0
                    failures += 1
                if handled == 0:
                    await asyncio.sleep(pause(_IDLE_POLL, failures))
        finally:
            with contextlib.suppress(Exception):
                await self._client.aclose()

    async def deliver_due(self) -> int:
        """Claim one round of due events and post them, a batch per endpoint."""
        now = self._clock.now()
        claimed = await self._events.claim(
            now=now, lease=self._policy.lease, limit=self._policy.batch_size * 4
        )
        if not claimed:
            return 0
        by_webhook: dict[str, list[QueuedEvent]] = defaultdict(list)
        for event in claimed:
            by_webhook[event.webhook_id].append(event)
        endpoints = await self._webhooks.many(list(by_webhook))
        batches = [
            (endpoints.get(webhook_id), rows[i : i + self._policy.batch_size])
            for webhook_id, rows in by_webhook.items()
            for i in range(0, len(rows), self._policy.batch_size)
        ]
        await asyncio.gather(*(self._post(webhook, rows) for webhook, rows in batches))
        return len(claimed)

    async def _post(self, webhook: Webhook | None, rows: list[QueuedEvent]) -> None:
        if webhook is None:  # deleted meanwhile: its rows went with it
            return
        body = json.dumps(
            {
                "app_id": self._policy.app_id,
                "events": [dict(row.payload) for row in rows],
                "id": new_id("whd"),
                "sent_at": int(time.time()),
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "sessile-webhooks",
            **await signature_headers(
                webhook.signature,
                body,
                signer=self._signer,
                secret=lambda: self._secret(webhook),
            ),
        }
        assert self._client is not None
        error: str | None = None
        status = 0
        try:
            response = await self._client.post(webhook.url, content=body, headers=headers)
            status = response.status_code
            if not response.is_success:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = repr(exc)
        now = self._clock.now()
        if status:
            await self._webhooks.answered(webhook.id, status=status, now=now)
        if error is None:
            WEBHOOK_ATTEMPTS.labels(result="delivered").inc(len(rows))
            DELIVERIES.labels(channel="webhook", result="sent").inc(len(rows))
            await self._events.delivered([row.seq for row in rows], now=now)
            return
        WEBHOOK_ATTEMPTS.labels(result="failed").inc(len(rows))
        for row in rows:
            await self._failed(row, error, now)

    def _secret(self, webhook: Webhook) -> str:
        return self._box.decrypt(webhook.secret_encrypted, webhook.id.encode()).decode()

    async def _failed(self, row: QueuedEvent, error: str, now: float) -> None:
        policy = self._policy
        delay = min(policy.backoff_base * 2 ** (row.attempts - 1), policy.backoff_max)
        if now + delay > row.created_at + policy.retry_horizon:
            await self._events.dead_letter(row.seq, now=now, error=error)
            DELIVERIES.labels(channel="webhook", result="dead").inc()
            log.error(
                "webhook event dead-lettered",
                extra={"event_id": row.event_id, "webhook_id": row.webhook_id},
            )
            return
        await self._events.retry_at(row.seq, at=now + delay, error=error)
        log.warning(
            "webhook delivery failed; retrying",
            extra={"event_id": row.event_id, "attempts": row.attempts, "error": error},
        )
