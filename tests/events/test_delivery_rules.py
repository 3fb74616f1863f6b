"""Prelude's delivery rules (PRELUDE-API §5.3) as sessile's defaults: 10 s to answer,
anything but a 2xx is a failure, retries after 1, 2, 4 … minutes at most 12 hours apart,
for 2 weeks; on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from sessile.clock import FixedClock
from sessile.config import load_settings
from sessile.events.worker import WebhookPolicy, WebhookWorker, secret_box
from sessile.keys import BodyKeyRing, BodySigner
from sessile.store.database import Database
from sessile.store.schema import webhook_events
from sessile.store.webhooks import Webhook

SECRET = b"s" * 48
DAY = 86_400


def _policy() -> WebhookPolicy:
    settings = load_settings(secret_key="k" * 48)
    return WebhookPolicy(
        app_id="default",
        batch_size=settings.event_batch_size,
        timeout=settings.event_timeout,
        backoff_base=settings.event_backoff_base,
        backoff_max=settings.event_backoff_max,
        retry_horizon=settings.event_retry_horizon,
    )


def test_the_defaults_are_prelude_s_delivery_rules() -> None:
    policy = _policy()
    assert policy.timeout == 10
    assert (policy.backoff_base, policy.backoff_max) == (60, 12 * 3600)
    assert policy.retry_horizon == 14 * DAY


def _worker(database: Database, clock: FixedClock, answer: int) -> WebhookWorker:
    ring = BodyKeyRing(database.keys, SECRET, clock, publish_delay=0, rotation_interval=30 * DAY)
    worker = WebhookWorker(
        database.events, database.webhooks, SECRET, BodySigner(ring), clock, _policy()
    )
    worker._client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(answer))
    )
    return worker


async def _queue_one(database: Database) -> None:
    await database.webhooks.create(
        Webhook("web_1", "https://hooks.example/h", ("user.created",), "t",
                secret_box(SECRET).encrypt(b"whsec_x", b"web_1"), True, 0.0, 0.0, None, None)
    )  # fmt: skip
    await database.events.record("user.created", user_id="usr_1", payload={}, now=0.0)


@pytest.mark.parametrize(("answer", "delivered"), [
    (200, True), (202, True), (204, True), (301, False), (400, False), (500, False),
])  # fmt: skip
async def test_anything_but_a_2xx_is_a_failure(
    database: Database, answer: int, delivered: bool
) -> None:
    await _queue_one(database)
    clock = FixedClock(0.0)
    assert await _worker(database, clock, answer).deliver_due() == 1
    [row] = await database.events.all_for("web_1")
    assert (row.sent_at is not None) is delivered
    assert (await database.webhooks.get("web_1")).last_http_code == answer  # type: ignore[union-attr]


async def _next_attempt_at(database: Database) -> float | None:
    async with database.engine.connect() as conn:
        due: float | None = await conn.scalar(sa.select(webhook_events.c.next_attempt_at))
    return due


async def test_retries_wait_one_minute_doubling_to_twelve_hours_for_two_weeks(
    database: Database,
) -> None:
    await _queue_one(database)
    clock = FixedClock(0.0)
    worker = _worker(database, clock, 503)
    waits: list[float] = []
    while True:
        assert await worker.deliver_due() == 1
        due = await _next_attempt_at(database)
        if due is None:
            break
        waits.append(due - clock.now())
        clock.advance(due - clock.now())
    assert waits[:6] == [60, 120, 240, 480, 960, 1920]
    assert set(waits[10:]) == {12 * 3600}, "at most 12 hours apart"
    [row] = await database.events.all_for("web_1")
    assert row.dead_at == clock.now(), "then dead-lettered"
    assert 14 * DAY - 12 * 3600 < clock.now() <= 14 * DAY, "after two weeks of tries"
