"""The delivery queue's rows (DESIGN §12): claimed under a lease, so that any number of
workers on any number of nodes send each message once (``SKIP LOCKED`` on PostgreSQL;
SQLite has one writer at a time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile.store.drivers import Driver, One, Steps
from sessile.store.leased_queue import LeasedQueue, due_now
from sessile.store.schema import deliveries
from sessile.store.sql import Store, bound, names, numbered, prepared, shaped

__all__ = ["Delivery", "DeliveryStore", "delivery_steps"]


@dataclass(frozen=True)
class Delivery:
    id: str
    channel: str
    suppressed: bool
    payload: str
    created_at: float
    expires_at: float
    attempts: int
    sent_at: float | None = None
    dead_at: float | None = None
    last_error: str | None = None


_COLUMNS = (
    deliveries.c.id,
    deliveries.c.channel,
    deliveries.c.suppressed,
    deliveries.c.payload,
    deliveries.c.created_at,
    deliveries.c.expires_at,
    deliveries.c.attempts,
    deliveries.c.sent_at,
    deliveries.c.dead_at,
    deliveries.c.last_error,
)


def _delivery(record: Mapping[str, Any]) -> Delivery:
    return Delivery(**record)


#: The due messages, oldest first (binds ``now`` and ``limit``).
_DUE = (
    sa.select(deliveries.c.id)
    .where(due_now(deliveries))
    .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
    .limit(sa.bindparam("limit"))
)

_QUEUE = prepared(
    lambda: deliveries.insert().values(
        {
            **bound("id", "channel", "suppressed", "payload", "created_at", "expires_at"),
            "next_attempt_at": sa.bindparam("created_at"),
            "attempts": 0,
        }
    )
)


def delivery_steps(dialect: Dialect, delivery: Delivery) -> Steps[None]:
    """The step that queues a message in the caller's transaction."""
    yield One(
        _QUEUE.on(dialect),
        {
            "id": delivery.id,
            "channel": delivery.channel,
            "suppressed": delivery.suppressed,
            "payload": delivery.payload,
            "created_at": delivery.created_at,
            "expires_at": delivery.expires_at,
        },
    )


_BY_ID = deliveries.update().where(deliveries.c.id == sa.bindparam("id"))


def _sent(count: int) -> sa.Update:
    """``count`` messages sent: binds ``id0``… and ``now``."""
    return (
        deliveries.update()
        .where(deliveries.c.id.in_(names("id", count)))
        .values(
            next_attempt_at=None,
            leased_until=None,
            payload="",
            last_error=None,
            sent_at=sa.bindparam("now"),
        )
    )


class DeliveryStore(Store):
    # Given up on (dead-lettered): the payload goes.
    _dead = prepared(
        lambda: _BY_ID.values(
            next_attempt_at=None,
            leased_until=None,
            payload="",
            last_error=sa.bindparam("error"),
            dead_at=sa.bindparam("now"),
        )
    )
    _retry = prepared(
        lambda: _BY_ID.values(
            next_attempt_at=sa.bindparam("at"), leased_until=None, last_error=sa.bindparam("error")
        )
    )
    _pending = prepared(
        lambda: (
            sa.select(sa.func.count().label("count"))
            .select_from(deliveries)
            .where(deliveries.c.next_attempt_at.is_not(None))
        )
    )
    _dead_letters = prepared(
        lambda: (
            sa.select(*_COLUMNS)
            .where(deliveries.c.dead_at.is_not(None))
            .order_by(deliveries.c.dead_at.desc())
            .limit(sa.bindparam("limit"))
        )
    )

    def __init__(self, driver: Driver) -> None:
        super().__init__(driver)
        self._queue = LeasedQueue(driver, _DUE, key=deliveries.c.id, returning=_COLUMNS)

    async def enqueue(self, delivery: Delivery) -> None:
        await self.transaction(delivery_steps(self.dialect, delivery))

    async def claim(self, *, now: float, lease: float, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` due messages, oldest first, counting an attempt on each."""
        claimed = await self._queue.claim(now=now, lease=lease, limit=limit)
        return sorted((_delivery(r) for r in claimed), key=lambda d: (d.created_at, d.id))

    async def sent(self, delivery_ids: Sequence[str], *, now: float) -> None:
        """Messages sent (or suppressed), a batch by one statement; their payloads go."""
        count = len(delivery_ids)
        statement = shaped(self.dialect, ("deliveries.sent", count), lambda: _sent(count))
        await self._records(statement, now=now, **numbered("id", delivery_ids))

    async def dead(self, delivery_id: str, *, now: float, error: str) -> None:
        """Given up on (dead-lettered); its payload goes."""
        await self._records(self._dead, id=delivery_id, now=now, error=error[:200])

    async def retry_at(self, delivery_id: str, *, at: float, error: str) -> None:
        await self._records(self._retry, id=delivery_id, at=at, error=error[:200])

    async def pending(self) -> int:
        row = await self._record(self._pending)
        return int(row["count"]) if row else 0

    async def dead_letters(self, *, limit: int = 100) -> list[Delivery]:
        return [_delivery(r) for r in await self._records(self._dead_letters, limit=limit)]
