"""Common refreshes that arrive while rotations are in flight go to the database together.

On PostgreSQL each rotation is a commit, and a commit waits for its WAL flush: under
load most of a rotation's cost is the round trip and the flush, not the row. Up to
``running`` rotation statements are in flight at once (sessile's store runs one); a
rotation that finds fewer runs alone (``ROTATE_WITH_PROOF``). Those that arrive while
all of them run wait, and when one ends, the waiting go as one statement
(``ROTATE_BATCH``): one round trip and one commit for all. At low load nothing waits;
under load a rotation waits for the statement in flight to end, and goes with every
other that arrived meanwhile.

Each row of a batch is checked as it would be alone (token, generation, key, liveness,
the proof newer than every refresh proof of its key). Two rotations of one key never
share a batch: the later one waits for the next, so a proof replayed on two sessions of
one key is taken once, as the statement's lock on the key's rows ensures between
statements.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Mapping
from typing import Any

from sessile.errors import ServiceUnavailable
from sessile.store.drivers import Driver, Row, Statement
from sessile.store.session_statements import BATCH_COLUMNS, batch_parameter

__all__ = ["RotationBatches", "Waiting", "fail", "settle"]

#: The most rotations one statement carries.
LARGEST = 64

#: A rotation waiting for its batch: its parameters, and its caller's future.
Waiting = tuple[Mapping[str, Any], "asyncio.Future[Row | None]"]


class RotationBatches:
    def __init__(self, driver: Driver, one: Statement, many: Statement, *, running: int) -> None:
        self._driver = driver
        self._one = one
        self._many = many
        self._limit = running
        self._running = 0
        self._waiting: deque[Waiting] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    async def rotate(self, params: Mapping[str, Any]) -> Row | None:
        """The rotation's row, or None when the session didn't rotate (any check failed)."""
        if self._running < self._limit:
            self._running += 1
            try:
                return await self._alone(params)
            finally:
                self._running -= 1
                self._start_waiting()
        future: asyncio.Future[Row | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((params, future))
        return await future

    def _start_waiting(self) -> None:
        while self._waiting and self._running < self._limit:
            batch = self._next_batch()
            if not batch:
                return
            self._running += 1
            # A context of its own: the batch belongs to none of its requests (their
            # facts would otherwise follow it into the logs).
            task = asyncio.get_running_loop().create_task(
                self._run(batch), context=contextvars.Context()
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _next_batch(self) -> list[Waiting]:
        """The oldest waiting rotations, one per key, up to LARGEST."""
        batch: list[Waiting] = []
        keys: set[str] = set()
        later: deque[Waiting] = deque()
        while self._waiting:
            params, future = entry = self._waiting.popleft()
            if future.done():  # its request was cancelled
                continue
            if params["jkt"] in keys or len(batch) == LARGEST:
                later.append(entry)
                continue
            keys.add(params["jkt"])
            batch.append(entry)
        self._waiting = later
        return batch

    async def _run(self, batch: list[Waiting]) -> None:
        try:
            if len(batch) == 1:
                settle(batch[0][1], await self._alone(batch[0][0]))
            else:
                await self._together(batch)
        except BaseException as error:
            for _, future in batch:
                fail(future, error)
            if not isinstance(error, Exception):
                raise
        finally:
            self._running -= 1
            self._start_waiting()

    async def _alone(self, params: Mapping[str, Any]) -> Row | None:
        rows = await self._driver.rows(self._one, params)
        return rows[0] if rows else None

    async def _together(self, batch: list[Waiting]) -> None:
        arrays = {
            batch_parameter(name): [params[name] for params, _ in batch] for name in BATCH_COLUMNS
        }
        try:
            rows = await self._driver.rows(self._many, arrays)
        except ServiceUnavailable:
            raise
        except Exception:
            # The database refused the statement for a row's sake (its data): each row goes
            # alone, so that only its own caller sees the error.
            for params, future in batch:
                try:
                    row = await self._alone(params)
                except Exception as error:
                    fail(future, error)
                else:
                    settle(future, row)
            return
        results: list[Row | None] = [None] * len(batch)
        # Each row returned ends with its place in the batch, from 1.
        for row in rows:
            results[row[-1] - 1] = row[:-1]
        for (_, future), result in zip(batch, results, strict=True):
            settle(future, result)


def settle(future: asyncio.Future[Row | None], result: Row | None) -> None:
    """Give a waiting rotation its row, unless its request was cancelled meanwhile."""
    if not future.done():  # its request was cancelled
        future.set_result(result)


def fail(future: asyncio.Future[Row | None], error: BaseException) -> None:
    """Give a waiting rotation its batch's error (cancelled, if the batch was)."""
    if future.done():
        return
    if isinstance(error, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(error)
