"""Hot statements on a small pool of ``asyncpg`` connections.

asyncpg prepares each statement once per connection and keeps it in its cache,
so a hot statement costs one round trip with binary parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import Dialect, make_url

from sessile.errors import ServiceUnavailable
from sessile.store.drivers.base import IntegrityViolation, Many, Row, Statement, Steps

__all__ = ["PostgresDriver"]

log = logging.getLogger("sessile.store")

T = TypeVar("T")

#: What the driver raises when the database can't answer: each becomes a 503.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    # The connection's protocol state is lost (a statement cut short by a timeout or a
    # server shutdown, then a rollback on it), or no host of a multi-host URL is writable
    # yet (a failover under way): the connection is dropped and the request answers 503.
    asyncpg.InternalClientError,
    OSError,
    asyncio.TimeoutError,
)


def _dsn(url: str) -> str:
    """The libpq URL asyncpg takes, from SQLAlchemy's ``postgresql+asyncpg://`` one.

    SQLAlchemy writes several hosts as ``?host=a:1&host=b:2``; asyncpg reads only the
    last of those, so they go back into the libpq form ``a:1,b:2``.
    """
    parsed = make_url(url).set(drivername="postgresql")
    hosts = parsed.query.get("host")
    if not isinstance(hosts, tuple):
        return parsed.render_as_string(hide_password=False)
    rendered = parsed.difference_update_query(["host"]).render_as_string(hide_password=False)
    scheme, _, rest = rendered.partition("://")
    credentials, _, path = rest.rpartition("@") if "@" in rest else ("", "", rest)
    prefix = f"{credentials}@" if credentials else ""
    return f"{scheme}://{prefix}{','.join(hosts)}{path}"


class _Connections:
    """A small pool: idle connections on a list, waiters served in order.

    ``asyncpg.Pool`` costs about as much CPU per checkout as the statement itself
    (its holders, timeouts and the reset query on release). These connections only
    run the statements compiled here, which leave no session state behind (no SET,
    LISTEN or advisory lock; a transaction ends with its context), so a checkout is
    a list pop and a release a list append.
    """

    def __init__(self, dsn: str, size: int, timeout: float) -> None:
        self._dsn = dsn
        self._size = size
        self._timeout = timeout
        self._open = 0
        self._idle: list[asyncpg.Connection] = []
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()

    async def acquire(self) -> asyncpg.Connection:
        while self._idle:
            conn = self._idle.pop()
            if not conn.is_closed():
                return conn
            # Closed while idle (the server restarted or failed over): drop it, so that no
            # request fails on it once the database is back.
            conn.terminate()
            self._open -= 1
        if self._open >= self._size:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            # Bounded: when the database is slow, requests fail (503) rather than queue up.
            async with asyncio.timeout(self._timeout):
                try:
                    conn = await waiter
                except asyncio.CancelledError:
                    # Handed a connection (or its place) just as the caller gave up: pass it on.
                    if waiter.done() and not waiter.cancelled():
                        handed = waiter.result()
                        if handed is not None:
                            self.release(handed)
                        else:
                            self._hand_over(None)
                    raise
            if conn is not None:
                return conn
        # Below the size, or a broken connection's place was handed over: open one.
        self._open += 1
        try:
            # timeout: a stopped server fails fast, not after the OS gives up.
            conn = await asyncpg.connect(
                self._dsn, timeout=min(5.0, self._timeout), command_timeout=self._timeout
            )
            await _json_as_text(conn)
            return conn
        except BaseException:
            self._open -= 1
            self._hand_over(None)
            raise

    def release(self, conn: asyncpg.Connection, *, broken: bool = False) -> None:
        if broken or conn.is_closed():
            conn.terminate()
            self._open -= 1
            self._hand_over(None)
        elif not self._hand_over(conn):
            self._idle.append(conn)

    @property
    def open(self) -> int:
        return self._open

    @property
    def idle(self) -> int:
        return len(self._idle)

    def _hand_over(self, conn: asyncpg.Connection | None) -> bool:
        """Give a waiter ``conn`` (None: room to open one); False if none waits."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                if conn is None and self._open >= self._size:
                    self._waiters.appendleft(waiter)
                    return False
                waiter.set_result(conn)
                return True
        return False

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            self._open -= 1
            await conn.close(timeout=5)


class PostgresDriver:
    dialect: Dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]

    def __init__(self, url: str, *, max_size: int = 20, timeout: float = 30.0) -> None:
        self._connections = _Connections(_dsn(url), max_size, timeout)

    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            conn = await self._connections.acquire()
            try:
                records = await conn.fetch(statement.sql, *statement.args(params))
            except BaseException as error:
                self._connections.release(conn, broken=isinstance(error, _UNAVAILABLE))
                raise
            self._connections.release(conn)
            return [tuple(record) for record in records]
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityViolation(error.constraint_name or str(error)) from error
        except _UNAVAILABLE as error:
            raise _unavailable(error) from error

    async def transaction(self, steps: Steps[T]) -> T:
        try:
            conn = await self._connections.acquire()
            try:
                async with conn.transaction():
                    result = await _run(conn, steps)
            except BaseException as error:
                self._connections.release(conn, broken=isinstance(error, _UNAVAILABLE))
                raise
            self._connections.release(conn)
            return result
        except asyncpg.IntegrityConstraintViolationError as error:
            raise IntegrityViolation(error.constraint_name or str(error)) from error
        except _UNAVAILABLE as error:
            raise _unavailable(error) from error

    @contextlib.asynccontextmanager
    async def lock_held(self, key: int) -> AsyncIterator[bool]:
        try:
            conn = await self._connections.acquire()
        except _UNAVAILABLE as error:
            raise _unavailable(error) from error
        broken = True
        try:
            got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
            try:
                yield got
            finally:
                if got:
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)
            broken = False
        except _UNAVAILABLE as error:
            raise _unavailable(error) from error
        finally:
            # A connection that may still hold the lock never goes back to the pool.
            self._connections.release(conn, broken=broken)

    def open_connections(self) -> int:
        return self._connections.open

    def idle_connections(self) -> int:
        return self._connections.idle

    def connections_in_use(self) -> int:
        return self._connections.open - self._connections.idle

    async def close(self) -> None:
        await self._connections.close()


async def _run(conn: asyncpg.Connection, steps: Steps[T]) -> T:
    try:
        step = next(steps)
        while True:
            if isinstance(step, Many):
                await conn.executemany(
                    step.statement.sql, [step.statement.args(p) for p in step.params]
                )
                step = steps.send(None)
            else:
                records = await conn.fetch(step.statement.sql, *step.statement.args(step.params))
                step = steps.send([tuple(record) for record in records])
    except StopIteration as done:
        result: T = done.value
        return result


async def _json_as_text(conn: asyncpg.Connection) -> None:
    """JSON goes in as the text a typed statement made of it, and comes out parsed, as
    SQLAlchemy's own asyncpg dialect sets up its connections."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=_as_is, decoder=json.loads, schema="pg_catalog", format="text"
        )


def _as_is(value: str) -> str:
    return value


def _unavailable(error: BaseException) -> ServiceUnavailable:
    log.error("database unavailable", extra={"error": type(error).__name__})
    return ServiceUnavailable()
