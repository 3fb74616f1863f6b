"""The rate limiter on both storages: in memory (one process) and Redis (shared)."""

from __future__ import annotations

import secrets

import pytest

from sessile.errors import RateLimited
from sessile.login.ratelimit import RateLimits


@pytest.fixture(params=["memory", "redis"])
def limits(request: pytest.FixtureRequest) -> RateLimits:
    if request.param == "memory":
        return RateLimits()
    return RateLimits(request.getfixturevalue("redis_url"), prefix=f"test-{secrets.token_hex(4)}")


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


async def test_two_limiters_on_one_redis_share_counts(redis_url: str) -> None:
    prefix = f"test-{secrets.token_hex(4)}"
    one, two = RateLimits(redis_url, prefix=prefix), RateLimits(redis_url, prefix=prefix)
    await one.hit("2/minute", "otp-id", "shared")
    await two.hit("2/minute", "otp-id", "shared")
    with pytest.raises(RateLimited):
        await one.hit("2/minute", "otp-id", "shared")
