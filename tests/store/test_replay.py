"""One contract for every replay store (RFC 9449 §11.1): SQLite, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from redis.asyncio import Redis

from sessile.cleanup import purge_expired
from sessile.config import load_settings
from sessile.dpop import ReplayStore
from sessile.store.database import Database
from sessile.store.replay import RedisReplayStore, SqlReplayStore
from sessile.store.schema import dpop_replay

JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


class ReplayStoreContract:
    async def test_first_use_then_replay(self, store: ReplayStore) -> None:
        now = time.time()
        assert await store.remember(JKT, "a", expires_at=now + 60, now=now)
        assert not await store.remember(JKT, "a", expires_at=now + 60, now=now)
        assert not await store.remember(JKT, "a", expires_at=now + 90, now=now + 30)

    async def test_pairs_are_independent(self, store: ReplayStore) -> None:
        now = time.time()
        assert await store.remember(JKT, "a", expires_at=now + 60, now=now)
        assert await store.remember(JKT, "b", expires_at=now + 60, now=now)
        assert await store.remember("other-jkt", "a", expires_at=now + 60, now=now)

    async def test_awkward_jti(self, store: ReplayStore) -> None:
        now = time.time()
        for jti in ("x:y", "é" * 255, "'; DROP TABLE dpop_replay; --", " "):
            assert await store.remember(JKT, jti, expires_at=now + 60, now=now)
            assert not await store.remember(JKT, jti, expires_at=now + 60, now=now)

    async def test_forgets_after_expiry(self, store: ReplayStore) -> None:
        now = time.time()
        assert await store.remember(JKT, "a", expires_at=now + 0.05, now=now)
        await asyncio.sleep(0.2)
        later = time.time()
        assert await store.remember(JKT, "a", expires_at=later + 60, now=later)
        assert not await store.remember(JKT, "a", expires_at=later + 60, now=later)

    async def test_concurrent_uses_accept_exactly_one(self, store: ReplayStore) -> None:
        now = time.time()
        results = await asyncio.gather(
            *(store.remember(JKT, "race", expires_at=now + 60, now=now) for _ in range(10))
        )
        assert sorted(results) == [False] * 9 + [True]


class TestSqlReplayStore(ReplayStoreContract):
    @pytest.fixture
    def store(self, database: Database) -> SqlReplayStore:
        return SqlReplayStore(database.driver)

    async def test_the_clean_up_deletes_expired_rows_only(self, database: Database) -> None:
        store = SqlReplayStore(database.driver)
        now = time.time()
        await store.remember(JKT, "old", expires_at=now - 10, now=now - 20)
        await store.remember(JKT, "live", expires_at=now + 60, now=now)
        purged = await purge_expired(database.driver, load_settings(secret_key="s" * 48), now)
        assert purged["dpop_replay"] == 1
        async with database.engine.connect() as conn:
            rows = (await conn.execute(sa.select(dpop_replay.c.jti))).scalars().all()
        assert rows == ["live"]


class TestRedisReplayStore(ReplayStoreContract):
    @pytest.fixture
    async def store(self, redis_url: str) -> AsyncIterator[RedisReplayStore]:
        client = Redis.from_url(redis_url)
        prefix = f"sessile-test:{secrets.token_hex(8)}:"
        try:
            yield RedisReplayStore(client, prefix, margin=0)
        finally:
            keys = [key async for key in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    async def test_record_expires_with_its_proof(self, store: RedisReplayStore) -> None:
        now = time.time()
        await store.remember(JKT, "a", expires_at=now + 120, now=now)
        ttl_ms = await store._client.pttl(store.key(JKT, "a"))
        assert 119_000 < ttl_ms <= 120_000


async def test_the_redis_replay_store_survives_a_redis_restart() -> None:
    import shutil

    from deploy.local.services import Redis as RedisServer

    from sessile.config import load_settings
    from sessile.store.replay import create_replay_store
    from tests import services

    if shutil.which("redis-server") is None:
        services.missing("redis-server", "it is not installed")
    server = RedisServer()
    server.start()
    try:
        settings = load_settings(secret_key="s" * 48, redis_url=server.url, database_timeout=2)
        store = create_replay_store(settings, None)  # type: ignore[arg-type]
        now = time.time()
        assert await store.remember("k", "one", expires_at=now + 60, now=now)
        server.stop()
        server.start()
        assert await store.remember("k", "two", expires_at=now + 60, now=now)
        assert not await store.remember("k", "two", expires_at=now + 60, now=now)
    finally:
        server.stop()
