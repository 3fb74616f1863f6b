"""The delivery queue (DESIGN §12): requests queue messages, a worker sends them.

A login start writes its message in the same transaction as its challenge and answers at
once: it never waits on an e-mail or SMS provider, and the answer (and its timing) is the
same whether the message goes out, goes to nobody (an unknown identifier: a *suppressed*
row, handled like the rest), or fails and is retried. The worker in each server process
claims due rows under a lease, sends them through the configured provider, retries a
failure with a growing delay, and dead-letters a message once it has expired or used its
attempts. Payloads are encrypted at rest (they hold codes) and emptied once settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import asdict

from sessile.clock import Clock
from sessile.crypto import SecretBox
from sessile.delivery.base import Channel, Message, Sender
from sessile.errors import DeliveryFailed
from sessile.ids import new_id
from sessile.metrics import DELIVERIES
from sessile.polling import pause
from sessile.store.deliveries import Delivery, DeliveryStore

__all__ = ["DeliveryQueue"]

log = logging.getLogger("sessile.delivery")

_LEASE = 60.0
_BATCH = 20
_IDLE_POLL = 1.0
_LONGEST_BACKOFF = 300.0
#: How long a notice (no code to expire with it) is worth retrying.
NOTICE_LIFETIME = 86_400.0


class DeliveryQueue:
    """Queue messages (as a :class:`Sender`, or inside a caller's transaction), and run
    the worker that sends them through ``provider``."""

    def __init__(
        self,
        store: DeliveryStore,
        provider: Sender,
        server_secret: bytes,
        clock: Clock,
        *,
        max_attempts: int,
    ) -> None:
        self._store = store
        self._provider = provider
        self._box = SecretBox(server_secret, "deliveries")
        self._clock = clock
        self._max_attempts = max_attempts
        self._wake = asyncio.Event()

    # Queueing -------------------------------------------------------------------------------
    def prepare(self, message: Message | None, *, channel: Channel, expires_at: float) -> Delivery:
        """A row for ``message``; None makes a suppressed row that sends nothing."""
        delivery_id = new_id("dlv")
        plain = json.dumps(asdict(message) if message else {}).encode()
        return Delivery(
            id=delivery_id,
            channel=channel,
            suppressed=message is None,
            payload=self._box.encrypt(plain, delivery_id.encode()),
            created_at=self._clock.now(),
            expires_at=expires_at,
            attempts=0,
        )

    def wake(self) -> None:
        """Tell this process's worker that a row is waiting."""
        self._wake.set()

    async def send(self, message: Message) -> None:
        """Queue one message on its own (the :class:`Sender` interface)."""
        expires_at = self._clock.now() + NOTICE_LIFETIME
        await self._store.enqueue(
            self.prepare(message, channel=message.channel, expires_at=expires_at)
        )
        self.wake()

    # The worker -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Send due messages until cancelled; a failure is logged and retried later."""
        failures = 0
        while True:
            try:
                handled = await self.deliver_due()
                failures = 0
            except Exception:
                log.exception("delivery worker failed")
                handled = 0
                failures += 1
            if handled == 0:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can lose a
                # cancellation that meets the event being set, and hang shutdown.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause(_IDLE_POLL, failures)):
                        await self._wake.wait()
                self._wake.clear()

    async def deliver_due(self) -> int:
        """Claim one batch of due messages and send them; how many were claimed."""
        now = self._clock.now()
        batch = await self._store.claim(now=now, lease=_LEASE, limit=_BATCH)
        sent = await asyncio.gather(*(self._deliver(delivery) for delivery in batch))
        # The batch's sent messages settled in one write: until then their lease holds them.
        done = [delivery for delivery, ok in zip(batch, sent, strict=True) if ok]
        if done:
            await self._store.sent([delivery.id for delivery in done], now=self._clock.now())
        for delivery in done:
            result = "suppressed" if delivery.suppressed else "sent"
            DELIVERIES.labels(channel=delivery.channel, result=result).inc()
        return len(batch)

    async def _deliver(self, delivery: Delivery) -> bool:
        """Send one message; True once it is sent (or, suppressed, needs no sending), False
        when it failed and was put back or dead-lettered."""
        if delivery.suppressed:
            return True
        fields = json.loads(self._box.decrypt(delivery.payload, delivery.id.encode()))
        try:
            await self._provider.send(Message(**fields))
        except DeliveryFailed as exc:
            await self._failed(delivery, repr(exc.__cause__ or exc))
            return False
        except Exception as exc:  # a provider's bug must not wedge the queue
            log.exception("delivery provider raised", extra={"delivery_id": delivery.id})
            await self._failed(delivery, repr(exc))
            return False
        return True

    async def _failed(self, delivery: Delivery, error: str) -> None:
        now = self._clock.now()
        retry_at = now + min(2.0**delivery.attempts, _LONGEST_BACKOFF)
        if delivery.attempts >= self._max_attempts or retry_at >= delivery.expires_at:
            await self._store.dead(delivery.id, now=now, error=error)
            DELIVERIES.labels(channel=delivery.channel, result="dead").inc()
            log.error(
                "delivery dead-lettered",
                extra={"delivery_id": delivery.id, "channel": delivery.channel},
            )
            return
        await self._store.retry_at(delivery.id, at=retry_at, error=error)
        DELIVERIES.labels(channel=delivery.channel, result="failed").inc()
        log.warning(
            "delivery failed; retrying",
            extra={"delivery_id": delivery.id, "attempts": delivery.attempts},
        )
