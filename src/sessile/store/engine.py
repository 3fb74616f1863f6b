"""Async engines for SQLite (WAL, the embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from sessile.store.drivers.base import Driver, compile_statement
from sessile.store.drivers.sqlite import WAL_SIZE_LIMIT

__all__ = ["QueueProbe", "create_engine", "due_now"]


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


class QueueProbe:
    """Whether a work queue has anything due, read without a write transaction.

    A worker polls its queue every second or so, and the queue is nearly always empty.
    Claiming writes, so on SQLite a claim holds the one write lock: it runs only when
    this read finds work. On SQLite the read runs on the driver's connection: through
    the engine, each poll's hops to aiosqlite's thread cost a few milliseconds of CPU,
    an idle server's main cost. On PostgreSQL it stays on the engine, so that background
    polls never take one of the few driver connections that requests wait for.
    """

    def __init__(self, engine: AsyncEngine, driver: Driver, due: sa.Select[Any]) -> None:
        self._engine = engine
        self._query = sa.select(due.order_by(None).limit(None).exists())  # any row will do
        self._driver = driver if driver.dialect.name == "sqlite" else None
        self._statement = compile_statement(self._query, driver.dialect)

    async def __call__(self, params: Mapping[str, Any]) -> bool:
        if self._driver is not None:
            rows = await self._driver.rows(self._statement, params)
            return bool(rows and rows[0][0])
        async with self._engine.connect() as conn:
            return bool((await conn.execute(self._query, params)).scalar())


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")  # as the driver's
    cursor.close()
