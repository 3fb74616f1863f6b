"""Rate limits for login (DESIGN §6), with the ``limits`` library: in memory for one
process, in Redis when ``SESSILE_REDIS_URL`` is set (shared by every worker and node)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from sessile.errors import RateLimited

__all__ = ["RateLimits"]


class RateLimits:
    def __init__(self, redis_url: str | None = None, *, prefix: str = "sessile") -> None:
        storage: Storage
        if redis_url:
            uri = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            storage = RedisStorage(uri, implementation="redispy", key_prefix=f"{prefix}:limits")
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
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
