"""The delivery queue's rows (DESIGN §12): claimed under a lease, so that any number of
workers on any number of nodes send each message once (``SKIP LOCKED`` on PostgreSQL;
SQLite has one writer at a time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile.store.drivers import Driver
from sessile.store.engine import LeasedQueue, due_now
from sessile.store.schema import deliveries

__all__ = ["Delivery", "DeliveryStore"]


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


def _delivery(row: Any) -> Delivery:
    return Delivery(**row._asdict())


#: The due messages, oldest first (binds ``now`` and ``limit``).
_DUE = (
    sa.select(deliveries.c.id)
    .where(due_now(deliveries))
    .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
    .limit(sa.bindparam("limit"))
)


class DeliveryStore:
    def __init__(self, engine: AsyncEngine, driver: Driver) -> None:
        self._engine = engine
        self._queue = LeasedQueue(engine, driver, _DUE, key=deliveries.c.id, returning=_COLUMNS)

    @staticmethod
    async def add(conn: AsyncConnection, delivery: Delivery) -> None:
        """Queue a message inside the caller's transaction."""
        await conn.execute(
            deliveries.insert().values(
                id=delivery.id,
                channel=delivery.channel,
                suppressed=delivery.suppressed,
                payload=delivery.payload,
                created_at=delivery.created_at,
                expires_at=delivery.expires_at,
                next_attempt_at=delivery.created_at,
                attempts=0,
            )
        )

    async def enqueue(self, delivery: Delivery) -> None:
        async with self._engine.begin() as conn:
            await self.add(conn, delivery)

    async def claim(self, *, now: float, lease: float, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` due messages, oldest first, counting an attempt on each."""
        claimed = await self._queue.claim(now=now, lease=lease, limit=limit)
        return sorted((_delivery(r) for r in claimed), key=lambda d: (d.created_at, d.id))

    async def settle(self, delivery_id: str, *, now: float, sent: bool, error: str | None) -> None:
        """Sent, or given up on (dead-lettered); either way the payload goes."""
        values: dict[str, Any] = {
            "next_attempt_at": None,
            "leased_until": None,
            "payload": "",
            "last_error": error[:200] if error else None,
        }
        values["sent_at" if sent else "dead_at"] = now
        async with self._engine.begin() as conn:
            await conn.execute(
                deliveries.update().where(deliveries.c.id == delivery_id).values(**values)
            )

    async def retry_at(self, delivery_id: str, *, at: float, error: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                deliveries.update()
                .where(deliveries.c.id == delivery_id)
                .values(next_attempt_at=at, leased_until=None, last_error=error[:200])
            )

    async def pending(self) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(deliveries)
                .where(deliveries.c.next_attempt_at.is_not(None))
            )
        return int(count or 0)

    async def dead_letters(self, *, limit: int = 100) -> list[Delivery]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(*_COLUMNS)
                .where(deliveries.c.dead_at.is_not(None))
                .order_by(deliveries.c.dead_at.desc())
                .limit(limit)
            )
            return [_delivery(r) for r in rows]
