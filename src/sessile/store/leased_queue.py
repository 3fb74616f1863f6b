"""Work queues whose due rows workers lease, so that any number of workers on any number
of nodes take each row once (``SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a
time)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from sessile.store.drivers import Driver
from sessile.store.sql import Record, Store, prepared

__all__ = ["LeasedQueue", "due_now"]


def due_now(queue: sa.Table) -> sa.ColumnElement[bool]:
    """A queue's row is due: its next attempt has come, and no lease holds it (binds
    ``now``)."""
    now: sa.BindParameter[float] = sa.bindparam("now")
    return sa.and_(
        queue.c.next_attempt_at <= now,
        sa.or_(queue.c.leased_until.is_(None), queue.c.leased_until <= now),
    )


class LeasedQueue(Store):
    """:meth:`claim` leases up to ``limit`` rows of ``due`` and counts an attempt on each.

    A worker polls its queue every second or so, and the queue is nearly always empty.
    Claiming writes, so on SQLite a claim holds the one write lock: it runs only when a
    plain read finds a due row.
    """

    def __init__(
        self,
        driver: Driver,
        due: sa.Select[Any],
        *,
        key: sa.Column[Any],
        returning: Sequence[sa.Column[Any]],
    ) -> None:
        """``due`` selects ``key`` of the rows to lease, oldest first, and binds ``now``
        and ``limit``; a claim returns the ``returning`` columns of the leased rows."""
        super().__init__(driver)
        # Any due row will do for the probe.
        probe = sa.select(due.order_by(None).limit(None).exists())
        queue = key.table
        if self.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=queue)
        claim = (
            queue.update()
            .where(key.in_(due.scalar_subquery()))
            .values(leased_until=sa.bindparam("lease_ends"), attempts=queue.c.attempts + 1)
            .returning(*returning)
        )
        self._probe = prepared(lambda: probe).on(self.dialect)
        self._claim = prepared(lambda: claim).on(self.dialect)

    async def any_due(self, now: float) -> bool:
        """Whether a row is due at ``now``, read without a write transaction."""
        rows = await self.driver.rows(self._probe, {"now": now})
        return bool(rows and rows[0][0])

    async def claim(self, *, now: float, lease: float, limit: int) -> list[Record]:
        """Lease up to ``limit`` due rows until ``now + lease``; their ``returning``
        columns, in no set order."""
        if not await self.any_due(now):
            return []
        return await self._records(self._claim, now=now, limit=limit, lease_ends=now + lease)
