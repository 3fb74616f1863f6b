"""Bounded deletes for the clean-up, and the lock that lets one node at a time run it.

Each batch is its own short transaction that deletes at most ``batch`` rows picked by
primary key, so a large backlog drains over several runs without long locks or a long
transaction; nothing a request needs waits behind it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["PurgeBounds", "delete_in_batches", "one_node_at_a_time"]

log = logging.getLogger("sessile.maintenance")

#: The PostgreSQL advisory-lock key of the clean-up (a constant no other lock uses).
_MAINTENANCE_LOCK = 0x5E551E_0C1EA2


@dataclass(frozen=True)
class PurgeBounds:
    batch: int = 1_000
    max_batches: int = 20


async def delete_in_batches(
    engine: AsyncEngine,
    table: sa.Table,
    condition: sa.ColumnElement[bool],
    bounds: PurgeBounds,
) -> int:
    """Delete the rows of ``table`` that meet ``condition``, ``bounds.batch`` rows per
    transaction and at most ``bounds.max_batches`` transactions; return how many."""
    keys = list(table.primary_key.columns)
    picked = sa.select(*keys).where(condition).limit(bounds.batch)
    if len(keys) == 1:
        match = keys[0].in_(picked.scalar_subquery())
    else:
        match = sa.tuple_(*keys).in_(picked)
    statement = table.delete().where(match)
    purged = 0
    for _ in range(bounds.max_batches):
        async with engine.begin() as conn:
            deleted = (await conn.execute(statement)).rowcount
        purged += deleted
        if deleted < bounds.batch:
            break
    return purged


@contextlib.asynccontextmanager
async def one_node_at_a_time(engine: AsyncEngine) -> AsyncIterator[bool]:
    """Yield True to the one process that holds the clean-up lock, False to the others.

    On PostgreSQL a session advisory lock, held on one connection for the run: it is
    released when the run ends, or by the server when the holder's connection dies (a
    node killed mid-run), so no lease can outlive its node. SQLite serves one machine,
    where its own write lock already serialises the deletes: every caller runs.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as conn:
        got = bool(
            (
                await conn.execute(sa.select(sa.func.pg_try_advisory_lock(_MAINTENANCE_LOCK)))
            ).scalar()
        )
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                try:
                    await conn.execute(sa.select(sa.func.pg_advisory_unlock(_MAINTENANCE_LOCK)))
                    await conn.commit()
                except Exception:
                    # A pooled connection must not keep the lock: drop the connection.
                    log.warning("clean-up lock not released; dropping its connection")
                    await conn.invalidate()
                    raise
