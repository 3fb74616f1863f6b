"""Async engines for SQLite (WAL, the embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from sessile.store.drivers.base import Driver, compile_statement
from sessile.store.drivers.sqlite import connection_pragmas

__all__ = ["LeasedQueue", "create_engine", "due_now"]


def create_engine(url: str, *, timeout: float = 30.0, **kwargs: Any) -> AsyncEngine:
    """Create the engine; for SQLite, create the file's folder and turn on WAL.

    On PostgreSQL, ``timeout`` bounds each statement, each connection attempt and each
    wait for a pooled connection, so a slow or stopped server fails requests, not hangs.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_timeout", timeout)
    connect_args = {"timeout": min(5.0, timeout), "command_timeout": timeout}
    return create_async_engine(url, connect_args=connect_args, **kwargs)


def due_now(queue: sa.Table) -> sa.ColumnElement[bool]:
    """A queue's row is due: its next attempt has come, and no lease holds it (binds
    ``now``)."""
    now: sa.BindParameter[float] = sa.bindparam("now")
    return sa.and_(
        queue.c.next_attempt_at <= now,
        sa.or_(queue.c.leased_until.is_(None), queue.c.leased_until <= now),
    )


class LeasedQueue:
    """A work queue whose due rows workers lease, so that any number of workers on any
    number of nodes take each row once (``SKIP LOCKED`` on PostgreSQL; SQLite has one
    writer at a time). :meth:`claim` leases up to ``limit`` rows of ``due`` and counts an
    attempt on each.

    A worker polls its queue every second or so, and the queue is nearly always empty.
    Claiming writes, so on SQLite a claim holds the one write lock: it runs only when a
    plain read finds a due row. On SQLite that read runs on the driver's connection:
    through the engine, each poll's hops to aiosqlite's thread cost a few milliseconds of
    CPU, an idle server's main cost. On PostgreSQL it stays on the engine, so that
    background polls never take one of the few driver connections that requests wait for.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        driver: Driver,
        due: sa.Select[Any],
        *,
        key: sa.Column[Any],
        returning: Sequence[sa.Column[Any]],
    ) -> None:
        """``due`` selects ``key`` of the rows to lease, oldest first, and binds ``now``
        and ``limit``; a claim returns the ``returning`` columns of the leased rows."""
        self._engine = engine
        self._probe = sa.select(due.order_by(None).limit(None).exists())  # any row will do
        # The probe compiled for the driver, on SQLite only: PostgreSQL's stays on the engine.
        self._on_driver = (
            (driver, compile_statement(self._probe, driver.dialect))
            if driver.dialect.name == "sqlite"
            else None
        )
        queue = key.table
        if engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=queue)
        self._claim = (
            queue.update()
            .where(key.in_(due.scalar_subquery()))
            .values(leased_until=sa.bindparam("lease_ends"), attempts=queue.c.attempts + 1)
            .returning(*returning)
        )

    async def any_due(self, now: float) -> bool:
        """Whether a row is due at ``now``, read without a write transaction."""
        if self._on_driver is not None:
            driver, probe = self._on_driver
            rows = await driver.rows(probe, {"now": now})
            return bool(rows and rows[0][0])
        async with self._engine.connect() as conn:
            return bool((await conn.execute(self._probe, {"now": now})).scalar())

    async def claim(self, *, now: float, lease: float, limit: int) -> list[sa.Row[Any]]:
        """Lease up to ``limit`` due rows until ``now + lease``; their ``returning``
        columns, in no set order."""
        if not await self.any_due(now):
            return []
        params = {"now": now, "limit": limit, "lease_ends": now + lease}
        async with self._engine.begin() as conn:
            return list(await conn.execute(self._claim, params))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in connection_pragmas(busy_timeout_ms=30_000):
        cursor.execute(pragma)
    cursor.close()
