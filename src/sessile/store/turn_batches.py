"""On SQLite, the common refreshes of one turn of the event loop share one transaction.

A rotation on SQLite runs on the event loop's own thread, and each one alone is a
transaction: it takes the write lock, appends its pages to the WAL, commits and lets
the lock go. Under load many requests reach their rotation in the same turn of the loop,
each with its proof checked and its token hashed. Each then waits for the next turn,
where the rotations of the turn before run one after another in one transaction, each
the very statement it would run alone (``ROTATE_WITH_PROOF``); their callers go on with
their rows in the turn after. A turn's rotations take the lock once, append to the WAL
once and commit once.

The statements run in the order their requests reached them, and each sees the ones
before it, as they would one at a time: a proof replayed on two sessions of one key is
taken by the first only. At low load a batch holds one rotation, which waits for one turn
of an idle loop. When another process holds the write lock, the batch waits for it, as
a rotation alone does (:class:`~sessile.store.drivers.sqlite.SqliteDriver`).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping
from typing import Any

from sessile.store.drivers import One, Row, Statement, Steps
from sessile.store.drivers.sqlite import LockHeld, SqliteDriver
from sessile.store.rotation_batches import Waiting, fail, settle

__all__ = ["TurnBatches"]


class TurnBatches:
    def __init__(self, driver: SqliteDriver, one: Statement) -> None:
        self._driver = driver
        self._one = one
        self._turn: list[Waiting] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def rotate(self, params: Mapping[str, Any]) -> Row | None:
        """The rotation's row, or None when the session didn't rotate (any check failed)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Row | None] = loop.create_future()
        self._turn.append((params, future))
        if len(self._turn) == 1:
            # A context of its own: the batch belongs to none of its requests (their
            # facts would otherwise follow it into the logs).
            loop.call_soon(self._run, context=contextvars.Context())
        return await future

    def _run(self) -> None:
        batch = [waiting for waiting in self._turn if not waiting[1].done()]  # not cancelled
        self._turn = []
        if not batch:
            return
        steps = self._steps(batch)
        try:
            rows = self._driver.transaction_now(steps)
        except LockHeld:
            task = asyncio.get_running_loop().create_task(self._when_free(batch, steps))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        except Exception as error:
            _fail(batch, error)
            return
        _settle(batch, rows)

    async def _when_free(self, batch: list[Waiting], steps: Steps[list[Row | None]]) -> None:
        try:
            rows = await self._driver.transaction(steps)
        except BaseException as error:
            _fail(batch, error)
            if not isinstance(error, Exception):
                raise
        else:
            _settle(batch, rows)

    def _steps(self, batch: list[Waiting]) -> Steps[list[Row | None]]:
        rows: list[Row | None] = []
        for params, _ in batch:
            returned = yield One(self._one, params)
            rows.append(returned[0] if returned else None)
        return rows


def _settle(batch: list[Waiting], rows: list[Row | None]) -> None:
    for (_, future), row in zip(batch, rows, strict=True):
        settle(future, row)


def _fail(batch: list[Waiting], error: BaseException) -> None:
    for _, future in batch:
        fail(future, error)
