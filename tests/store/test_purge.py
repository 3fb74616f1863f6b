"""Bounded deletes, and the clean-up lock that lets one node at a time run them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sessile.store.database import Database
from sessile.store.purge import PurgeBounds, delete_in_batches, one_node_at_a_time
from sessile.store.schema import dpop_replay


async def _count(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int(
            (await conn.execute(sa.select(sa.func.count()).select_from(dpop_replay))).scalar_one()
        )


async def test_deletes_go_in_bounded_batches(database: Database) -> None:
    # A composite primary key (jkt, jti): the batches pick rows by the whole key.
    rows = [{"jkt": "k", "jti": f"old{i}", "expires_at": 10.0} for i in range(25)]
    rows += [{"jkt": "k", "jti": f"live{i}", "expires_at": 100.0} for i in range(5)]
    async with database.engine.begin() as conn:
        await conn.execute(dpop_replay.insert(), rows)
    expired = dpop_replay.c.expires_at < sa.bindparam("before")
    bounds = PurgeBounds(batch=10, max_batches=2)

    async def purge() -> int:
        return await delete_in_batches(
            database.driver, "test.dpop_replay", dpop_replay, expired, bounds, {"before": 50.0}
        )

    assert await purge() == 20
    assert await purge() == 5
    assert await purge() == 0
    assert await _count(database) == 5


async def test_one_node_at_a_time(database_url: str) -> None:
    one, other = Database.from_url(database_url), Database.from_url(database_url)
    try:
        async with one_node_at_a_time(one.driver) as first:
            assert first
            async with one_node_at_a_time(other.driver) as second:
                # PostgreSQL: another node is at it. SQLite: one machine, every caller runs.
                assert second is (one.driver.dialect.name == "sqlite")
        async with one_node_at_a_time(other.driver) as after:
            assert after, "the lock is released when the run ends"
    finally:
        await one.close()
        await other.close()


async def test_a_failed_run_releases_the_lock(database_url: str) -> None:
    one, other = Database.from_url(database_url), Database.from_url(database_url)
    try:

        async def failed_run() -> None:
            async with one_node_at_a_time(one.driver) as first:
                assert first
                raise RuntimeError("the run failed")

        with pytest.raises(RuntimeError):
            await failed_run()
        async with one_node_at_a_time(other.driver) as after:
            assert after
    finally:
        await one.close()
        await other.close()
