"""The event outbox (DESIGN §12, "events"): rows written in the transaction of the change
they announce, then claimed by a worker under a lease.

``event_steps`` fans one event out to every active endpoint that subscribes to its type,
inside the caller's transaction: a rolled-back change leaves no row, a committed one can't
lose its event. ``EventStore.record`` does the same in a transaction of its own, for an
event that announces no change of the database (a hook that failed).

A claim takes, per endpoint, only the oldest unsettled row of each user (``SKIP LOCKED``
on PostgreSQL; SQLite has one writer at a time), so a user's events are delivered in
order by any number of workers on any number of nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile.ids import new_id
from sessile.store.drivers import Driver, Steps
from sessile.store.event_documents import event_document
from sessile.store.leased_queue import LeasedQueue, due_now
from sessile.store.schema import webhook_events, webhooks
from sessile.store.sql import Store, bound, each, fetch, names, numbered, prepared, shaped

__all__ = [
    "EventStore",
    "OutboxStats",
    "Payload",
    "QueuedEvent",
    "Subscribers",
    "event_steps",
    "subscribers_steps",
]

#: An event's payload fields, or the steps that read them in the transaction: they only
#: run when an endpoint wants the event, so a payload that needs another query costs
#: nothing when none does.
Payload = Mapping[str, Any] | Callable[[], Steps[Mapping[str, Any]]]

_SUBSCRIBERS = prepared(
    lambda: sa.select(webhooks.c.id, webhooks.c.events).where(webhooks.c.active.is_(sa.true()))
)
_QUEUE = prepared(
    lambda: webhook_events.insert().values(
        bound(
            "webhook_id", "event_id", "type", "user_id", "payload", "created_at",
            "next_attempt_at", "attempts",
        )
    )
)  # fmt: skip


#: The active endpoints and the event types each wants, as read in a transaction.
Subscribers = Sequence[Mapping[str, Any]]


def subscribers_steps(dialect: Dialect) -> Steps[Subscribers]:
    """The step that reads the active endpoints, for a transaction that queues several
    events to read them once."""
    return (yield from fetch(_SUBSCRIBERS.on(dialect)))


def event_steps(
    dialect: Dialect,
    event_type: str,
    *,
    user_id: str,
    payload: Payload,
    now: float,
    subscribers: Subscribers | None = None,
) -> Steps[str | None]:
    """The steps that queue an event, in the caller's transaction, for every active
    endpoint that wants it; its id, or None if none does. ``subscribers``: the endpoints
    the transaction read already (:func:`subscribers_steps`); read here without them.

    The row holds the event document as it will be sent, fixed now
    (:mod:`sessile.store.event_documents`): the payload gets ``user_id`` and the event's
    time field beside the fields given here.
    """
    endpoints = subscribers if subscribers is not None else (yield from subscribers_steps(dialect))
    subscribed = [row["id"] for row in endpoints if event_type in row["events"]]
    if not subscribed:
        return None
    event_id = new_id("evt")
    fields = payload if isinstance(payload, Mapping) else (yield from payload())
    document = event_document(event_id, event_type, user_id=user_id, payload=fields, now=now)
    yield from each(
        _QUEUE.on(dialect),
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


def _event(record: Mapping[str, Any]) -> QueuedEvent:
    return QueuedEvent(**record)


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


_FOR_WEBHOOK = sa.select(*_COLUMNS).where(webhook_events.c.webhook_id == sa.bindparam("webhook_id"))
_SETTLE = webhook_events.update().where(webhook_events.c.seq == sa.bindparam("seq"))
_PENDING = webhook_events.c.next_attempt_at.is_not(None)


def _redeliver(named: int | None) -> sa.Update:
    condition = sa.and_(
        webhook_events.c.webhook_id == sa.bindparam("webhook_id"),
        webhook_events.c.dead_at.is_not(None),
    )
    if named is not None:
        condition = sa.and_(condition, webhook_events.c.event_id.in_(names("event", named)))
    return (
        webhook_events.update()
        .where(condition)
        .values(
            dead_at=None,
            next_attempt_at=sa.bindparam("now"),
            attempts=0,
            created_at=sa.bindparam("now"),
        )
        .returning(webhook_events.c.seq)
    )


class EventStore(Store):
    _retry = prepared(
        lambda: _SETTLE.values(
            next_attempt_at=sa.bindparam("at"),
            leased_until=None,
            last_error=sa.bindparam("error"),
        )
    )
    _dead_letter = prepared(
        lambda: _SETTLE.values(
            next_attempt_at=None,
            leased_until=None,
            dead_at=sa.bindparam("now"),
            last_error=sa.bindparam("error"),
        )
    )
    _dead_letters = prepared(
        lambda: (
            _FOR_WEBHOOK.where(webhook_events.c.dead_at.is_not(None))
            .order_by(webhook_events.c.seq)
            .limit(sa.bindparam("limit"))
        )
    )
    _all_for = prepared(lambda: _FOR_WEBHOOK.order_by(webhook_events.c.seq))
    _stats = prepared(
        lambda: sa.select(
            sa.func.count().filter(_PENDING).label("pending"),
            sa.func.min(webhook_events.c.created_at).filter(_PENDING).label("oldest"),
            sa.func.count().filter(webhook_events.c.dead_at.is_not(None)).label("dead"),
            sa.func.coalesce(sa.func.sum(webhook_events.c.attempts).filter(_PENDING), 0).label(
                "attempts"
            ),
        )
    )

    def __init__(self, driver: Driver) -> None:
        super().__init__(driver)
        self._queue = LeasedQueue(driver, _DUE, key=webhook_events.c.seq, returning=_COLUMNS)

    async def record(
        self, event_type: str, *, user_id: str, payload: Mapping[str, Any], now: float
    ) -> str | None:
        """Queue an event that announces no change of the database, in a transaction of
        its own; its id, or None when no active endpoint wants it."""
        return await self.transaction(
            event_steps(self.dialect, event_type, user_id=user_id, payload=payload, now=now)
        )

    async def claim(self, *, now: float, lease: float, limit: int) -> list[QueuedEvent]:
        """Lease up to ``limit`` due rows, each the oldest unsettled one of its user and
        endpoint, counting an attempt on each; oldest first."""
        claimed = await self._queue.claim(now=now, lease=lease, limit=limit)
        return sorted((_event(r) for r in claimed), key=lambda e: e.seq)

    async def delivered(self, seqs: Sequence[int], *, now: float) -> None:
        if not seqs:
            return
        statement = shaped(
            self.dialect,
            ("events.delivered", len(seqs)),
            lambda: (
                webhook_events.update()
                .where(webhook_events.c.seq.in_(names("seq", len(seqs))))
                .values(
                    next_attempt_at=None,
                    leased_until=None,
                    sent_at=sa.bindparam("now"),
                    last_error=None,
                )
            ),
        )
        await self._records(statement, now=now, **numbered("seq", seqs))

    async def retry_at(self, seq: int, *, at: float, error: str) -> None:
        await self._records(self._retry, seq=seq, at=at, error=error[:200])

    async def dead_letter(self, seq: int, *, now: float, error: str) -> None:
        await self._records(self._dead_letter, seq=seq, now=now, error=error[:200])

    async def dead_letters(self, webhook_id: str, *, limit: int = 100) -> list[QueuedEvent]:
        records = await self._records(self._dead_letters, webhook_id=webhook_id, limit=limit)
        return [_event(r) for r in records]

    async def redeliver(
        self, webhook_id: str, *, now: float, event_ids: Sequence[str] | None = None
    ) -> int:
        """Queue dead letters again (all of the endpoint's, or those named), attempts reset."""
        named = None if event_ids is None else len(event_ids)
        if named == 0:
            return 0
        statement = shaped(self.dialect, ("events.redeliver", named), lambda: _redeliver(named))
        return await self._changed(
            statement, webhook_id=webhook_id, now=now, **numbered("event", event_ids or ())
        )

    async def all_for(self, webhook_id: str) -> list[QueuedEvent]:
        return [_event(r) for r in await self._records(self._all_for, webhook_id=webhook_id)]

    async def stats(self) -> OutboxStats:
        row = await self._record(self._stats)
        assert row is not None
        return OutboxStats(
            int(row["pending"]), row["oldest"], int(row["dead"]), int(row["attempts"])
        )
