"""The rate limiter on its storages: the database (SQLite and PostgreSQL) and Redis, each
shared by every process that uses it."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sessile.cleanup import purge_expired
from sessile.config import load_settings
from sessile.errors import RateLimited
from sessile.login.ratelimit import RateLimits
from sessile.store.database import Database
from sessile.store.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_url")
    if request.param == "postgres":
        return "sql", request.getfixturevalue("postgres_url")
    return "sql", f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}"


@pytest.fixture
async def limits(storage_url: tuple[str, str]) -> AsyncIterator[RateLimits]:
    kind, url = storage_url
    if kind == "redis":
        yield RateLimits(None, url, prefix=f"test-{secrets.token_hex(4)}")
        return
    db = Database.from_url(url)
    await upgrade(db.engine)
    try:
        yield RateLimits(db.driver)
    finally:
        await db.close()


async def test_limit_then_refuse_with_retry_after(limits: RateLimits) -> None:
    key = secrets.token_hex(4)
    for _ in range(3):
        await limits.hit("3/minute", "otp-id", key)
    with pytest.raises(RateLimited) as caught:
        await limits.hit("3/minute", "otp-id", key)
    assert 1 <= caught.value.retry_after <= 60
    # Another key has its own budget.
    await limits.hit("3/minute", "otp-id", key + "-other")


async def test_clear_gives_the_budget_back(limits: RateLimits) -> None:
    key = secrets.token_hex(4)
    for _ in range(2):
        await limits.hit("2/minute", "pw-id", key)
    await limits.clear("2/minute", "pw-id", key)
    await limits.hit("2/minute", "pw-id", key)


async def test_several_windows_all_apply(limits: RateLimits) -> None:
    key = secrets.token_hex(4)
    await limits.hit("5/minute;1/hour", "otp-ip", key)
    with pytest.raises(RateLimited) as caught:
        await limits.hit("5/minute;1/hour", "otp-ip", key)
    assert caught.value.retry_after > 60, "the hour's window is the one that refused"


async def test_retry_after_waits_for_every_window_that_refused(limits: RateLimits) -> None:
    # Both windows refuse the third attempt: retrying when the minute's ends would still
    # be refused by the hour's.
    key = secrets.token_hex(4)
    for _ in range(2):
        await limits.hit("2/minute;2/hour", "otp-ip", key)
    with pytest.raises(RateLimited) as caught:
        await limits.hit("2/minute;2/hour", "otp-ip", key)
    assert caught.value.retry_after > 60


async def test_a_window_written_twice_counts_once(limits: RateLimits) -> None:
    key = secrets.token_hex(4)
    for _ in range(2):
        await limits.hit("2/minute;2/minute", "otp-ip", key)
    with pytest.raises(RateLimited):
        await limits.hit("2/minute;2/minute", "otp-ip", key)


async def test_two_limiters_on_one_database_share_counts(tmp_path: Path) -> None:
    """Two workers without Redis: one budget, not one each (a finding of the review)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    first, second = Database.from_url(url), Database.from_url(url)
    await upgrade(first.engine)
    try:
        one, two = RateLimits(first.driver), RateLimits(second.driver)
        await one.hit("2/minute", "otp-id", "shared")
        await two.hit("2/minute", "otp-id", "shared")
        with pytest.raises(RateLimited):
            await one.hit("2/minute", "otp-id", "shared")
        with pytest.raises(RateLimited):
            await two.hit("2/minute", "otp-id", "shared")
        purged = await purge_expired(
            first.driver, load_settings(secret_key="s" * 48), time.time() + 61
        )
        assert purged["rate_limits"] == 1
        await two.hit("2/minute", "otp-id", "shared")
    finally:
        await first.close()
        await second.close()


async def test_two_limiters_on_one_redis_share_counts(redis_url: str) -> None:
    prefix = f"test-{secrets.token_hex(4)}"
    one = RateLimits(None, redis_url, prefix=prefix)
    two = RateLimits(None, redis_url, prefix=prefix)
    await one.hit("2/minute", "otp-id", "shared")
    await two.hit("2/minute", "otp-id", "shared")
    with pytest.raises(RateLimited):
        await one.hit("2/minute", "otp-id", "shared")


async def test_redis_restarted_is_reconnected_not_failed_on(tmp_path: Path) -> None:
    """A Redis restart closes every pooled connection; the next call opens a new one."""
    import shutil

    from deploy.local.services import Redis as RedisServer

    from tests import services

    if shutil.which("redis-server") is None:
        services.missing("redis-server", "it is not installed")
    server = RedisServer()
    server.start()
    try:
        limits = RateLimits(None, server.url, prefix=secrets.token_hex(4), timeout=2)
        await limits.hit("5/minute", "before")
        server.stop()
        server.start()
        await limits.hit("5/minute", "after")  # no ConnectionError on a closed connection
    finally:
        server.stop()
