"""Rate limits for login (DESIGN §6), written as the ``limits`` library parses them
(``5/minute;20/hour``). The counters live where every worker and node sees them: in
Redis when ``SESSILE_REDIS_URL`` is set (the library's moving windows), else in the
database (fixed windows, every window of a limit counted by one statement on the
driver: :mod:`sessile.store.rate_limits`). Never in one process's memory, where each
worker would keep a budget of its own.

Every window of a limit is asked about each attempt (in the database every one counts
it, the refused ones too; Redis's moving windows count only what they let through), and
a refusal's Retry-After is when the last window that refused it lets the next one in."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import ConnectionError as RedisConnectionError

from sessile.errors import RateLimited
from sessile.store.drivers import Driver
from sessile.store.rate_limits import RateCounters

__all__ = ["RateLimits"]


class RateLimits:
    def __init__(
        self,
        driver: Driver | None,
        redis_url: str | None = None,
        *,
        prefix: str = "sessile",
        timeout: float = 10.0,
    ) -> None:
        """Counters in Redis at ``redis_url``, else in the database of ``driver``."""
        self._limiter: MovingWindowRateLimiter | None = None
        self._counters: RateCounters | None = None
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
        elif driver is not None:
            self._counters = RateCounters(driver)
        else:
            raise ValueError("rate limits need a database or Redis")
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def _items(self, rate: str) -> list[RateLimitItem]:
        if rate not in self._parsed:
            # The same window twice would be one counter counted twice by one statement.
            self._parsed[rate] = list(dict.fromkeys(parse_many(rate)))
        return self._parsed[rate]

    async def hit(self, rate: str, *keys: str) -> None:
        """Count one event for ``keys``; raise RateLimited (with Retry-After) past ``rate``."""
        await self.hit_all([(rate, keys)])

    async def hit_all(self, limits: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Count one event under each ``(rate, keys)`` limit (in the database by one
        statement, every limit counting it); raise RateLimited past any of them, with the
        Retry-After of the last window that refused. Redis asks the limits in turn and
        stops at the first that refuses."""
        if self._counters is not None:
            now = time.time()
            amounts: dict[str, int] = {}
            windows: dict[str, int] = {}
            for rate, keys in limits:
                for item in self._items(rate):
                    key = item.key_for(*keys)
                    amounts[key] = min(item.amount, amounts.get(key, item.amount))
                    windows[key] = item.get_expiry()
            counted = await self._counters.hit(list(windows.items()), now=now)
            refused = [w.ends_at for w in counted if w.count > amounts[w.key]]
            if refused:
                raise RateLimited(max(1, math.ceil(max(refused) - now)))
            return
        assert self._limiter is not None
        for rate, keys in limits:
            resets = []
            for item in self._items(rate):
                if not await self._limiter.hit(item, *keys):
                    resets.append((await self._limiter.get_window_stats(item, *keys)).reset_time)
            if resets:
                raise RateLimited(max(1, math.ceil(max(resets) - time.time())))

    async def clear(self, rate: str, *keys: str) -> None:
        items = self._items(rate)
        if self._counters is not None:
            await self._counters.clear([item.key_for(*keys) for item in items])
            return
        assert self._limiter is not None
        for item in items:
            await self._limiter.clear(item, *keys)
