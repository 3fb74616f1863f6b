"""Bounded deletes for the clean-up, and the lock that lets one node at a time run it.

Each batch is its own short transaction that deletes at most ``batch`` rows picked by
primary key, so a large backlog drains over several runs without long locks or a long
transaction; nothing a request needs waits behind it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sessile.store.drivers import Driver, Statement
from sessile.store.sql import shaped

__all__ = ["PurgeBounds", "delete_in_batches", "one_node_at_a_time", "run_in_batches"]

#: The PostgreSQL advisory-lock key of the clean-up (a constant no other lock uses).
_MAINTENANCE_LOCK = 0x5E551E_0C1EA2


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
    return await run_in_batches(driver, statement, bounds, params)


async def run_in_batches(
    driver: Driver, statement: Statement, bounds: PurgeBounds, params: Mapping[str, Any]
) -> int:
    """Run ``statement``, a delete of at most ``batch`` rows (a bind parameter) that
    returns a row per row deleted, until a run deletes fewer or ``bounds.max_batches``
    have run; how many rows went."""
    purged = 0
    for _ in range(bounds.max_batches):
        deleted = len(await driver.rows(statement, {**params, "batch": bounds.batch}))
        purged += deleted
        if deleted < bounds.batch:
            break
    return purged


@contextlib.asynccontextmanager
async def one_node_at_a_time(driver: Driver) -> AsyncIterator[bool]:
    """Yield True to the one process that holds the clean-up lock, False to the others.

    On PostgreSQL a session advisory lock, held on one connection for the run: it is
    released when the run ends, or by the server when the holder's connection dies (a
    node killed mid-run), so no lease can outlive its node. SQLite serves one machine,
    where its own write lock already serialises the deletes: every caller runs.
    """
    async with driver.lock_held(_MAINTENANCE_LOCK) as got:
        yield got
