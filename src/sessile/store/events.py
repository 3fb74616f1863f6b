"""The event outbox (DESIGN §12, "events"): rows written in the transaction of the change
they announce, then claimed by a worker under a lease.

``record_event`` fans one event out to every active endpoint that subscribes to its type,
inside the caller's transaction: a rolled-back change leaves no row, a committed one can't
lose its event. ``EventStore.record`` does the same in a transaction of its own, for an
event that announces no change of the database (a hook that failed).

A claim takes, per endpoint, only the oldest unsettled row of each user (``SKIP LOCKED``
on PostgreSQL; SQLite has one writer at a time), so a user's events are delivered in
order by any number of workers on any number of nodes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile.ids import new_id
from sessile.store.drivers import Driver
from sessile.store.engine import LeasedQueue, due_now
from sessile.store.event_documents import event_document
from sessile.store.schema import webhook_events, webhooks

__all__ = ["EventStore", "OutboxStats", "Payload", "QueuedEvent", "record_event"]

#: An event's payload fields, or what reads them: it is only called when an endpoint wants
#: the event, so a payload that needs another query costs nothing when none does.
Payload = Mapping[str, Any] | Callable[[], Awaitable[Mapping[str, Any]]]


async def record_event(
    conn: AsyncConnection,
    event_type: str,
    *,
    user_id: str,
    payload: Payload,
    now: float,
) -> str | None:
    """Queue an event for every active endpoint that wants it; its id, or None if none does.

    The row holds the event document as it will be sent, fixed now
    (:mod:`sessile.store.event_documents`): the payload gets ``user_id`` and the event's
    time field beside the fields given here.
    """
    subscribed = [
        row.id
        for row in await conn.execute(
            sa.select(webhooks.c.id, webhooks.c.events).where(webhooks.c.active.is_(True))
        )
        if event_type in row.events
    ]
    if not subscribed:
        return None
    event_id = new_id("evt")
    fields = payload if isinstance(payload, Mapping) else await payload()
    document = event_document(event_id, event_type, user_id=user_id, payload=fields, now=now)
    await conn.execute(
        webhook_events.insert(),
        [
            {
                "webhook_id": webhook_id,
                "event_id": event_id,
                "type": event_type,
                "user_id": user_id,
                "payload": document,
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
            for webhook_id in subscribed
        ],
    )
    return event_id


@dataclass(frozen=True)
class QueuedEvent:
    seq: int
    webhook_id: str
    event_id: str
    type: str
    user_id: str
    payload: Mapping[str, Any]
    created_at: float
    attempts: int
    sent_at: float | None = None
    dead_at: float | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    oldest_created_at: float | None
    dead: int
    pending_attempts: int


_COLUMNS = (
    webhook_events.c.seq,
    webhook_events.c.webhook_id,
    webhook_events.c.event_id,
    webhook_events.c.type,
    webhook_events.c.user_id,
    webhook_events.c.payload,
    webhook_events.c.created_at,
    webhook_events.c.attempts,
    webhook_events.c.sent_at,
    webhook_events.c.dead_at,
    webhook_events.c.last_error,
)


def _event(row: Any) -> QueuedEvent:
    return QueuedEvent(**row._asdict())


_EARLIER = webhook_events.alias("earlier")
#: The due rows, each the oldest unsettled one of its user and endpoint, oldest first
#: (binds ``now`` and ``limit``).
_DUE = (
    sa.select(webhook_events.c.seq)
    .where(
        due_now(webhook_events),
        ~sa.exists(
            sa.select(_EARLIER.c.seq).where(
                _EARLIER.c.webhook_id == webhook_events.c.webhook_id,
                _EARLIER.c.user_id == webhook_events.c.user_id,
                _EARLIER.c.seq < webhook_events.c.seq,
                _EARLIER.c.next_attempt_at.is_not(None),
            )
        ),
    )
    .order_by(webhook_events.c.seq)
    .limit(sa.bindparam("limit"))
)


class EventStore:
    def __init__(self, engine: AsyncEngine, driver: Driver) -> None:
        self._engine = engine
        self._queue = LeasedQueue(
            engine, driver, _DUE, key=webhook_events.c.seq, returning=_COLUMNS
        )

    async def record(
        self, event_type: str, *, user_id: str, payload: Mapping[str, Any], now: float
    ) -> str | None:
        """Queue an event that announces no change of the database, in a transaction of
        its own; its id, or None when no active endpoint wants it."""
        async with self._engine.begin() as conn:
            return await record_event(conn, event_type, user_id=user_id, payload=payload, now=now)

    async def claim(self, *, now: float, lease: float, limit: int) -> list[QueuedEvent]:
        """Lease up to ``limit`` due rows, each the oldest unsettled one of its user and
        endpoint, counting an attempt on each; oldest first."""
        claimed = await self._queue.claim(now=now, lease=lease, limit=limit)
        return sorted((_event(r) for r in claimed), key=lambda e: e.seq)

    async def delivered(self, seqs: Sequence[int], *, now: float) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                webhook_events.update()
                .where(webhook_events.c.seq.in_(seqs))
                .values(next_attempt_at=None, leased_until=None, sent_at=now, last_error=None)
            )

    async def retry_at(self, seq: int, *, at: float, error: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                webhook_events.update()
                .where(webhook_events.c.seq == seq)
                .values(next_attempt_at=at, leased_until=None, last_error=error[:200])
            )

    async def dead_letter(self, seq: int, *, now: float, error: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                webhook_events.update()
                .where(webhook_events.c.seq == seq)
                .values(
                    next_attempt_at=None, leased_until=None, dead_at=now, last_error=error[:200]
                )
            )

    async def dead_letters(self, webhook_id: str, *, limit: int = 100) -> list[QueuedEvent]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(*_COLUMNS)
                .where(
                    webhook_events.c.webhook_id == webhook_id, webhook_events.c.dead_at.is_not(None)
                )
                .order_by(webhook_events.c.seq)
                .limit(limit)
            )
            return [_event(r) for r in rows]

    async def redeliver(
        self, webhook_id: str, *, now: float, event_ids: Sequence[str] | None = None
    ) -> int:
        """Queue dead letters again (all of the endpoint's, or those named), attempts reset."""
        condition = sa.and_(
            webhook_events.c.webhook_id == webhook_id, webhook_events.c.dead_at.is_not(None)
        )
        if event_ids is not None:
            condition = sa.and_(condition, webhook_events.c.event_id.in_(event_ids))
        async with self._engine.begin() as conn:
            result = await conn.execute(
                webhook_events.update()
                .where(condition)
                .values(dead_at=None, next_attempt_at=now, attempts=0, created_at=now)
            )
        return result.rowcount

    async def all_for(self, webhook_id: str) -> list[QueuedEvent]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(*_COLUMNS)
                .where(webhook_events.c.webhook_id == webhook_id)
                .order_by(webhook_events.c.seq)
            )
            return [_event(r) for r in rows]

    async def stats(self) -> OutboxStats:
        pending = webhook_events.c.next_attempt_at.is_not(None)
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        sa.func.count().filter(pending),
                        sa.func.min(webhook_events.c.created_at).filter(pending),
                        sa.func.count().filter(webhook_events.c.dead_at.is_not(None)),
                        sa.func.coalesce(sa.func.sum(webhook_events.c.attempts).filter(pending), 0),
                    )
                )
            ).one()
        return OutboxStats(int(row[0]), row[1], int(row[2]), int(row[3]))
