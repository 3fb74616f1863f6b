"""The engine's helpers: a queue poll that finds nothing writes nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sessile.store.database import Database
from sessile.store.deliveries import Delivery
from sessile.store.migrate import upgrade


async def test_an_idle_poll_leaves_sqlites_write_lock_to_the_refreshes(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    database = Database.from_url(f"sqlite+aiosqlite:///{path}")
    await upgrade(database.engine)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        # A refresh in another process holds the write lock. Polls of the empty queues
        # answer at once: before, each claim waited for that lock (30 s at most).
        other.execute("BEGIN IMMEDIATE")
        async with asyncio.timeout(5):
            assert await database.events.claim(now=10.0, lease=30.0, limit=10) == []
            assert await database.deliveries.claim(now=10.0, lease=30.0, limit=10) == []
        other.execute("ROLLBACK")

        # With work waiting, the poll claims it.
        await database.deliveries.enqueue(
            Delivery("dlv_1", "email", False, "sealed", created_at=1.0, expires_at=99.0, attempts=0)
        )
        [claimed] = await database.deliveries.claim(now=10.0, lease=30.0, limit=10)
        assert claimed.attempts == 1
    finally:
        other.close()
        await database.close()
