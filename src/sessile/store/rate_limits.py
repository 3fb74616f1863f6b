"""Rate-limit counters in the database: what every worker and node shares when there is
no Redis (DESIGN §6, §8). Fixed windows, one row per key, reset when its window has
passed; one statement counts a hit in every window of a limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sessile.store.schema import rate_limits
from sessile.store.sql import Store, names, numbered, shaped

__all__ = ["RateCounters", "Window"]


@dataclass(frozen=True)
class Window:
    """A window's count after a hit, and when the window ends."""

    key: str
    count: int
    ends_at: float


def _hit(dialect_name: str, windows: int) -> sa.ClauseElement:
    """Count one hit in ``windows`` windows (binds ``key0``…, ``ends0``… and ``now``): a
    window that has passed starts again at one."""
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    ends = names("ends", windows)
    statement = insert(rate_limits).values(
        [
            {"key": key, "count": 1, "expires_at": end}
            for key, end in zip(names("key", windows), ends, strict=True)
        ]
    )
    passed = rate_limits.c.expires_at <= sa.bindparam("now")
    return statement.on_conflict_do_update(
        index_elements=[rate_limits.c.key],
        set_={
            "count": sa.case((passed, 1), else_=rate_limits.c.count + 1),
            "expires_at": sa.case(
                (passed, statement.excluded.expires_at), else_=rate_limits.c.expires_at
            ),
        },
    ).returning(rate_limits.c.key, rate_limits.c.count, rate_limits.c.expires_at)


def _clear(keys: int) -> sa.ClauseElement:
    return rate_limits.delete().where(rate_limits.c.key.in_(names("key", keys)))


class RateCounters(Store):
    async def hit(self, windows: Sequence[tuple[str, int]], *, now: float) -> list[Window]:
        """Count a hit in each ``(key, seconds)`` window, in one statement; each window's
        count and end."""
        count = len(windows)
        statement = shaped(
            self.dialect, ("rate_limits.hit", count), lambda: _hit(self.dialect.name, count)
        )
        params: dict[str, object] = {"now": now}
        for i, (key, seconds) in enumerate(windows):
            params[f"key{i}"] = key
            params[f"ends{i}"] = now + seconds
        records = await self._records(statement, **params)
        return [Window(r["key"], int(r["count"]), float(r["expires_at"])) for r in records]

    async def clear(self, keys: Sequence[str]) -> None:
        statement = shaped(
            self.dialect, ("rate_limits.clear", len(keys)), lambda: _clear(len(keys))
        )
        await self._records(statement, **numbered("key", keys))
