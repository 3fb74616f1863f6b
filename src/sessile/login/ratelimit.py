"""Rate limits for login (DESIGN §6), with the ``limits`` library. The counters live where
every worker and node sees them: in Redis when ``SESSILE_REDIS_URL`` is set (moving
windows), else in the database (fixed windows). Never in one process's memory, where
each worker would keep a budget of its own."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.errors import RateLimited
from sessile.store.rate_limits import SqlRateLimitStorage

__all__ = ["RateLimits"]


class RateLimits:
    def __init__(
        self,
        engine: AsyncEngine,
        redis_url: str | None = None,
        *,
        prefix: str = "sessile",
        timeout: float = 10.0,
    ) -> None:
        storage: Storage
        self._limiter: RateLimiter
        self._sql: SqlRateLimitStorage | None = None
        if redis_url:
            uri = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            # Redis down: a limited call answers 503 (http/errors.py), never goes unlimited.
            storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=f"{prefix}:limits",
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                # A connection Redis closed (a restart) is reopened once, not failed on.
                retry_on_error=[RedisConnectionError],  # type: ignore[arg-type]
            )
            self._limiter = MovingWindowRateLimiter(storage)
        else:
            self._sql = SqlRateLimitStorage(engine)
            self._limiter = FixedWindowRateLimiter(self._sql)
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def _items(self, rate: str) -> list[RateLimitItem]:
        if rate not in self._parsed:
            self._parsed[rate] = parse_many(rate)
        return self._parsed[rate]

    async def hit(self, rate: str, *keys: str) -> None:
        """Count one event for ``keys``; raise RateLimited (with Retry-After) past ``rate``."""
        for item in self._items(rate):
            if not await self._limiter.hit(item, *keys):
                stats = await self._limiter.get_window_stats(item, *keys)
                raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))

    async def clear(self, rate: str, *keys: str) -> None:
        for item in self._items(rate):
            await self._limiter.clear(item, *keys)
