"""Hot statements on stdlib ``sqlite3``, on the event loop's own thread.

A statement on one row costs about 17 µs here, against about 1.2 ms through the
async engine on aiosqlite. Running it on the loop is safe only while it can't
wait: the loop's connection has no busy timeout, so when another process holds
the write lock the statement fails at once, and is tried again after a short
sleep on the loop (0.5 ms, doubling to 50 ms, for 30 s at most). The loop serves
other requests meanwhile. An earlier design ran such statements again on a
worker thread whose connection waited for the lock: each one then cost a thread
wake-up and the GIL both ways, about a sixth more CPU per refresh at 70 % load
on two workers (``bench/refresh.py --workers 2 --latency``). A line of the statements
that met the lock, run in order by one task, made more of them wait (docs/operations.md).
``sessile_sqlite_lock_wait_seconds`` counts the waits.

The loop's connection never checkpoints the WAL either (a checkpoint writes
pages and syncs): a thread of its own does it every few hundred writes. That
checkpoint is a ``RESTART``: it holds back new writers while it copies, for the
few milliseconds that takes (they wait on the loop, as for any writer), so that
the next write starts the log over. A ``PASSIVE`` one copies what it can while
the writes go on, never catches up under a steady load, and the log then grows
by a page per write for as long as the load lasts (16 MB after 4,000 writes).

A ``RESTART`` also waits for the readers of older frames, up to 50 ms. A reader that
stays longer (a backup, a replication tool) keeps the log from starting over
whatever the checkpoint does, so after a ``RESTART`` that could not finish the next
ones are ``PASSIVE``: one, then three, and so on doubling up to 63 between two tries.
``sessile_sqlite_checkpoints{mode, result}`` counts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect

from sessile.errors import ServiceUnavailable
from sessile.metrics import SQLITE_CHECKPOINTS, SQLITE_LOCK_WAITS
from sessile.store.drivers.base import IntegrityViolation, Many, Row, Statement, Steps

__all__ = [
    "CHECKPOINT_EVERY",
    "WAL_SIZE_LIMIT",
    "LockHeld",
    "SqliteDriver",
    "connection_pragmas",
]

log = logging.getLogger("sessile.store")

T = TypeVar("T")

#: How long a statement waits for another process's write lock.
_BUSY_TIMEOUT_MS = 30_000
#: The first wait before a statement is tried again, and the longest one.
_FIRST_RETRY = 0.0005
_LONGEST_RETRY = 0.05
#: Each checkpoint's counter, found once.
_CHECKPOINTS = {
    (mode, busy): SQLITE_CHECKPOINTS.labels(mode=mode, result="busy" if busy else "done")
    for mode in ("restart", "passive")
    for busy in (False, True)
}
#: Loop-connection statements between two WAL checkpoints on the checkpoint thread.
CHECKPOINT_EVERY = 500
#: The WAL file's size once the log starts over: a few checkpoint intervals' writes.
WAL_SIZE_LIMIT = 16 * 1024 * 1024
#: How long a RESTART checkpoint waits for a writer or a reader to finish, holding new
#: writers back meanwhile. Past it, it copies what it can.
_CHECKPOINT_WAIT_MS = 50
#: The most PASSIVE checkpoints between two RESTART tries that could not finish.
_MOST_PASSIVE = 63


def connection_pragmas(busy_timeout_ms: int) -> tuple[str, ...]:
    """What every connection to the database file sets: the driver's and the engine's."""
    return (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={busy_timeout_ms}",
        # When the log starts over, a file grown past this (a reader held it) shrinks back.
        f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}",
    )


class LockHeld(Exception):
    """Another connection holds SQLite's write lock: nothing ran."""


def _connect(path: str, *, busy_timeout_ms: int, autocheckpoint: bool) -> sqlite3.Connection:
    # isolation_level=None: sqlite3 opens no transaction by itself; one statement
    # commits on its own, and a transaction is an explicit BEGIN IMMEDIATE.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in connection_pragmas(busy_timeout_ms):
        conn.execute(pragma)
    if not autocheckpoint:
        conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _rows(conn: sqlite3.Connection, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
    # fetchall steps the statement to its end: a RETURNING statement still running
    # would keep its transaction, and the write lock, open.
    return conn.execute(statement.sql, statement.args(params)).fetchall()


def _begin(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.execute("BEGIN IMMEDIATE")
    return conn


def _in_transaction(conn: sqlite3.Connection, steps: Steps[T]) -> tuple[T, int]:
    """Run ``steps`` in the transaction ``conn`` has begun; commit, or roll back on error.
    The result, and how many rows' statements ran."""
    statements = 0
    try:
        step = next(steps)
        while True:
            if isinstance(step, Many):
                conn.executemany(step.statement.sql, [step.statement.args(p) for p in step.params])
                statements += len(step.params)
                step = steps.send(None)
            else:
                statements += 1
                step = steps.send(_rows(conn, step.statement, step.params))
    except StopIteration as done:
        conn.execute("COMMIT")
        result: T = done.value
        return result, statements
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class SqliteDriver:
    dialect: Dialect = sqlite_dialect.dialect(paramstyle="qmark")

    def __init__(self, path: str) -> None:
        self._path = path
        self._loop_conn: sqlite3.Connection | None = None
        self._checkpointer = ThreadPoolExecutor(1, thread_name_prefix="sessile-checkpoint")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._writes = 0
        self._checkpoint: Future[None] | None = None
        # The checkpoint thread's own: RESTARTs that could not finish in a row, and the
        # PASSIVE checkpoints still to run before the next try.
        self._restarts_refused = 0
        self._passive_left = 0

    # On the checkpoint thread ---------------------------------------------------------
    def _checkpoint_now(self) -> None:
        if self._checkpoint_conn is None:
            self._checkpoint_conn = _connect(
                self._path, busy_timeout_ms=_CHECKPOINT_WAIT_MS, autocheckpoint=False
            )
        mode = "passive" if self._passive_left else "restart"
        (busy, _log, _copied) = self._checkpoint_conn.execute(
            f"PRAGMA wal_checkpoint({mode.upper()})"
        ).fetchone()
        _CHECKPOINTS[mode, bool(busy)].inc()
        if mode == "passive":
            self._passive_left -= 1
        elif busy:  # a reader held on: leave it be for a while
            self._restarts_refused += 1
            self._passive_left = min(2**self._restarts_refused - 1, _MOST_PASSIVE)
        else:
            self._restarts_refused = 0

    def _close_checkpoint_conn(self) -> None:
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None

    # On the loop ----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._loop_conn is None:
            self._loop_conn = _connect(self._path, busy_timeout_ms=0, autocheckpoint=False)
        return self._loop_conn

    def _ran(self, statements: int = 1) -> None:
        before = self._writes
        self._writes += statements
        if self._writes // CHECKPOINT_EVERY > before // CHECKPOINT_EVERY and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            self._checkpoint = self._checkpointer.submit(self._checkpoint_now)

    async def _when_free(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` on the loop's connection, tried again while another process holds the
        write lock: the loop serves other requests between tries, and the lock, held for
        a statement or two, is usually free at the first retry."""
        try:
            return work(self._conn())
        except sqlite3.OperationalError as error:
            if not _busy(error):
                raise
        started = time.perf_counter()
        try:
            return await self._retried(work, started + _BUSY_TIMEOUT_MS / 1000)
        finally:
            SQLITE_LOCK_WAITS.observe(time.perf_counter() - started)

    async def _retried(self, work: Callable[[sqlite3.Connection], T], deadline: float) -> T:
        delay = _FIRST_RETRY
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LONGEST_RETRY)
            try:
                return work(self._conn())
            except sqlite3.OperationalError as error:
                if not _busy(error) or time.perf_counter() >= deadline:
                    raise

    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            rows = await self._when_free(lambda conn: _rows(conn, statement, params))
        except sqlite3.IntegrityError as error:
            raise IntegrityViolation(str(error)) from error
        except sqlite3.Error as error:
            raise _unavailable(error) from error
        self._ran()
        return rows

    async def transaction(self, steps: Steps[T]) -> T:
        # Only taking the lock is tried again: once BEGIN IMMEDIATE holds it, the steps
        # run to the end without a pause, and nothing else on this loop runs between them.
        try:
            conn = await self._when_free(_begin)
        except sqlite3.Error as error:
            raise _unavailable(error) from error
        return self._finish(conn, steps)

    def transaction_now(self, steps: Steps[T]) -> T:
        """``steps`` in one transaction now, without waiting: :class:`LockHeld`, with
        ``steps`` not started, while another connection holds the write lock."""
        try:
            conn = _begin(self._conn())
        except sqlite3.OperationalError as error:
            if _busy(error):
                raise LockHeld() from error
            raise _unavailable(error) from error
        except sqlite3.Error as error:
            raise _unavailable(error) from error
        return self._finish(conn, steps)

    def _finish(self, conn: sqlite3.Connection, steps: Steps[T]) -> T:
        try:
            result, statements = _in_transaction(conn, steps)
        except sqlite3.IntegrityError as error:
            raise IntegrityViolation(str(error)) from error
        except sqlite3.Error as error:
            raise _unavailable(error) from error
        self._ran(statements)
        return result

    @contextlib.asynccontextmanager
    async def lock_held(self, key: int) -> AsyncIterator[bool]:
        yield True

    def connections_in_use(self) -> int:
        # Statements run on the loop without a pause: none is in use between two of them.
        return 0

    async def close(self) -> None:
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None
        await asyncio.get_running_loop().run_in_executor(
            self._checkpointer, self._close_checkpoint_conn
        )
        self._checkpointer.shutdown(wait=False)


def _unavailable(error: sqlite3.Error) -> ServiceUnavailable:
    log.error("database unavailable", extra={"error": type(error).__name__})
    return ServiceUnavailable()
