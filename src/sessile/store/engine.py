"""Async engines for SQLite (WAL, the embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from sessile.store.drivers.sqlite import connection_pragmas

__all__ = ["create_engine"]


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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in connection_pragmas(busy_timeout_ms=30_000):
        cursor.execute(pragma)
    cursor.close()
