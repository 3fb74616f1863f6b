"""The DPoP replay cache's stores (``sessile.dpop.replay_cache.ReplayStore``), RFC 9449
§11.1: each ``(jkt, jti)`` is accepted once.

A pair is kept until ``expires_at``, the end of the window in which its proof
could still be accepted; after that the proof fails its freshness check anyway.
The cache must be shared by every worker and node: Redis when configured, else
the database (DESIGN §3.7).
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.dialects import postgresql, sqlite

from sessile.config import Settings
from sessile.dpop.replay_cache import ReplayStore
from sessile.store.drivers import Driver
from sessile.store.drivers.base import compile_statement
from sessile.store.schema import dpop_replay

__all__ = ["RedisReplayStore", "SqlReplayStore", "create_replay_store"]


class SqlReplayStore:
    """Insert-if-absent on the primary key of ``dpop_replay``, on the database driver
    itself (every DPoP request runs it). An expired row is taken over; the scheduled
    clean-up (:mod:`sessile.cleanup`) deletes the others in bounded batches, off the
    request path.
    """

    def __init__(self, driver: Driver) -> None:
        dialect = driver.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database dialect {dialect!r}")
        self._driver = driver
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(dpop_replay).values(
            jkt=sa.bindparam("jkt"), jti=sa.bindparam("jti"), expires_at=sa.bindparam("exp")
        )
        # An expired row is taken over; a live one makes the statement change nothing.
        self._statement = compile_statement(
            insert.on_conflict_do_update(
                index_elements=[dpop_replay.c.jkt, dpop_replay.c.jti],
                set_={"expires_at": insert.excluded.expires_at},
                where=dpop_replay.c.expires_at < sa.bindparam("now"),
            ).returning(dpop_replay.c.expires_at),
            driver.dialect,
        )

    async def remember(self, jkt: str, jti: str, *, expires_at: float, now: float) -> bool:
        values = {"jkt": jkt, "jti": jti, "exp": expires_at, "now": now}
        rows = await self._driver.rows(self._statement, values)
        return len(rows) == 1


class RedisReplayStore:
    """``SET key NX PX ttl``: Redis drops each record when its proof can no longer be valid."""

    def __init__(
        self, client: Redis, prefix: str = "sessile:dpop:jti:", *, margin: float = 1.0
    ) -> None:
        self._client = client
        self._prefix = prefix
        # Redis's clock and ours may differ a little: keep each record a bit longer.
        self._margin_ms = math.ceil(margin * 1000)

    def key(self, jkt: str, jti: str) -> str:
        # A jkt is base64url, so the first ":" after the prefix ends it.
        return f"{self._prefix}{jkt}:{jti}"

    async def remember(self, jkt: str, jti: str, *, expires_at: float, now: float) -> bool:
        ttl_ms = max(1, math.ceil((expires_at - now) * 1000)) + self._margin_ms
        created = await self._client.set(self.key(jkt, jti), b"1", nx=True, px=ttl_ms)
        return bool(created)


def create_replay_store(settings: Settings, driver: Driver) -> ReplayStore:
    """Redis when ``redis_url`` is configured, else the database (DESIGN §3.7)."""
    if settings.redis_url:
        bound = settings.database_timeout
        # A connection Redis closed (a restart) is reopened once, not failed on.
        client: Redis = Redis.from_url(
            settings.redis_url,
            socket_timeout=bound,
            socket_connect_timeout=bound,
            retry_on_error=[RedisConnectionError],
        )
        return RedisReplayStore(client, prefix=f"sessile:{settings.app_id}:dpop:jti:")
    return SqlReplayStore(driver)
