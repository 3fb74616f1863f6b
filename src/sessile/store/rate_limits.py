"""Rate-limit counters in the database, as a storage for the ``limits`` library: what
every worker and node shares when there is no Redis (DESIGN §6, §8)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from limits.aio.storage import Storage
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import rate_limits

__all__ = ["SqlRateLimitStorage"]


class SqlRateLimitStorage(Storage):
    """Fixed-window counters: one row per key, reset when its window has passed."""

    STORAGE_SCHEME: list[str] | None = ["sessile+sql"]  # noqa: RUF012 (the base declares it so)

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self._engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        expired = rate_limits.c.expires_at <= now
        statement = self._insert(rate_limits).values(key=key, count=amount, expires_at=now + expiry)
        upsert = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": sa.case((expired, amount), else_=rate_limits.c.count + amount),
                "expires_at": sa.case((expired, now + expiry), else_=rate_limits.c.expires_at),
            },
        ).returning(rate_limits.c.count)
        async with self._engine.begin() as conn:
            return int((await conn.execute(upsert)).scalar_one())

    async def _row(self, key: str) -> tuple[int, float] | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(rate_limits.c.count, rate_limits.c.expires_at).where(
                        rate_limits.c.key == key, rate_limits.c.expires_at > time.time()
                    )
                )
            ).first()
        return None if row is None else (int(row[0]), float(row[1]))

    async def get(self, key: str) -> int:
        row = await self._row(key)
        return 0 if row is None else row[0]

    async def get_expiry(self, key: str) -> float:
        row = await self._row(key)
        return time.time() if row is None else row[1]

    async def check(self) -> bool:
        try:
            async with self._engine.connect() as conn:
                await conn.execute(sa.select(1))
        except SQLAlchemyError:
            return False
        return True

    async def reset(self) -> int | None:
        async with self._engine.begin() as conn:
            return (await conn.execute(rate_limits.delete())).rowcount

    async def clear(self, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(rate_limits.delete().where(rate_limits.c.key == key))
