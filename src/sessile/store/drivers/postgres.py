"""Hot statements on a pool of ``asyncpg`` connections.

asyncpg prepares each statement once per connection and keeps it in its cache,
so a hot statement costs one round trip with binary parameters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import Dialect, make_url

from sessile.errors import ServiceUnavailable
from sessile.store.drivers.base import Many, Row, Statement, Steps

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
    OSError,
    asyncio.TimeoutError,
)


def _dsn(url: str) -> str:
    """The libpq URL asyncpg takes, from SQLAlchemy's ``postgresql+asyncpg://`` one."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresDriver:
    dialect: Dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]

    def __init__(self, url: str, *, max_size: int = 10) -> None:
        self._dsn = _dsn(url)
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    # timeout: a stopped server fails fast, not after the OS gives up.
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=1,
                        max_size=self._max_size,
                        timeout=5,
                        command_timeout=30,
                    )
        return self._pool

    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            pool = self._pool or await self._get_pool()
            records = await pool.fetch(statement.sql, *statement.args(params))
            return [tuple(record) for record in records]
        except _UNAVAILABLE as error:
            raise _unavailable(error) from error

    async def transaction(self, steps: Steps[T]) -> T:
        try:
            pool = self._pool or await self._get_pool()
            async with pool.acquire() as conn, conn.transaction():
                try:
                    step = next(steps)
                    while True:
                        if isinstance(step, Many):
                            args = [step.statement.args(p) for p in step.params]
                            await conn.executemany(step.statement.sql, args)
                            step = steps.send(None)
                        else:
                            rows = await conn.fetch(
                                step.statement.sql, *step.statement.args(step.params)
                            )
                            step = steps.send([tuple(record) for record in rows])
                except StopIteration as done:
                    result: T = done.value
                    return result
        except _UNAVAILABLE as error:
            raise _unavailable(error) from error

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def _unavailable(error: BaseException) -> ServiceUnavailable:
    log.error("database unavailable", extra={"error": type(error).__name__})
    return ServiceUnavailable()
