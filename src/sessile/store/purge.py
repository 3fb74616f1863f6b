"""Bounded deletes for the clean-up, and the lock that lets one node at a time run it.

Each batch is its own short transaction that deletes at most ``batch`` rows picked by
primary key, so a large backlog drains over several runs without long locks or a long
transaction; nothing a request needs waits behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile.store.drivers import Driver, One, Steps
from sessile.store.sql import fetch, prepared, shaped

__all__ = ["PurgeBounds", "delete_in_batches", "one_node_at_a_time"]

#: The PostgreSQL advisory-lock key of the clean-up (a constant no other lock uses).
_MAINTENANCE_LOCK = 0x5E551E_0C1EA2
#: How long the lock's transaction waits in the database between two looks at whether
#: the run is over (seconds): the lock outlives its run by at most this.
_HOLD_PAUSE = 0.05

_TRY_LOCK = prepared(
    lambda: sa.select(
        sa.func.pg_try_advisory_xact_lock(sa.literal(_MAINTENANCE_LOCK, sa.BigInteger)).label("got")
    )
)
_PAUSE = prepared(lambda: sa.select(sa.func.pg_sleep(sa.literal(_HOLD_PAUSE, sa.Float))))


@dataclass(frozen=True)
class PurgeBounds:
    batch: int = 1_000
    max_batches: int = 20


def _delete(table: sa.Table, condition: sa.ColumnElement[bool]) -> sa.ClauseElement:
    keys = list(table.primary_key.columns)
    picked = sa.select(*keys).where(condition).limit(sa.bindparam("batch"))
    if len(keys) == 1:
        match = keys[0].in_(picked.scalar_subquery())
    else:
        match = sa.tuple_(*keys).in_(picked)
    return table.delete().where(match).returning(keys[0])


async def delete_in_batches(
    driver: Driver,
    name: str,
    table: sa.Table,
    condition: sa.ColumnElement[bool],
    bounds: PurgeBounds,
    params: Mapping[str, Any],
) -> int:
    """Delete the rows of ``table`` that meet ``condition``, ``bounds.batch`` rows per
    transaction and at most ``bounds.max_batches`` transactions; return how many.

    ``condition`` binds named parameters, whose values ``params`` gives; it is compiled
    once per ``name``, so a name stands for one condition."""
    statement = shaped(driver.dialect, ("purge", name), lambda: _delete(table, condition))
    purged = 0
    for _ in range(bounds.max_batches):
        deleted = len(await driver.rows(statement, {**params, "batch": bounds.batch}))
        purged += deleted
        if deleted < bounds.batch:
            break
    return purged


@dataclass
class _Run:
    over: bool = False


def _holding(dialect: Dialect, taken: asyncio.Future[bool], run: _Run) -> Steps[None]:
    """Take the clean-up lock in this transaction, tell ``taken`` whether it was free,
    and if so keep the transaction (and the lock) open until ``run`` is over."""
    records = yield from fetch(_TRY_LOCK.on(dialect))
    got = bool(records[0]["got"])
    taken.set_result(got)
    while got and not run.over:
        yield One(_PAUSE.on(dialect), {})


@contextlib.asynccontextmanager
async def one_node_at_a_time(driver: Driver) -> AsyncIterator[bool]:
    """Yield True to the one process that holds the clean-up lock, False to the others.

    On PostgreSQL a transaction-level advisory lock, held by a transaction of its own for
    the run, which waits in the database until the run ends: the lock is released when
    the run ends, or by the server when the holder's connection dies (a node killed
    mid-run), so no lease can outlive its node. SQLite serves one machine, where its own
    write lock already serialises the deletes: every caller runs.
    """
    if driver.dialect.name != "postgresql":
        yield True
        return
    taken: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    run = _Run()
    holder = asyncio.create_task(driver.transaction(_holding(driver.dialect, taken, run)))
    try:
        await asyncio.wait((taken, holder), return_when=asyncio.FIRST_COMPLETED)
        if not taken.done():
            await holder  # raises: the lock's transaction could not start
        got = taken.result()
        if not got:
            await holder
        yield got
    finally:
        run.over = True
        await holder
