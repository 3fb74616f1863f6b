"""The event outbox on SQLite and PostgreSQL: written with the change or not at all, claimed
head-of-line per user, retried, dead-lettered, redelivered and purged."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from sessile.cleanup import purge_expired
from sessile.config import load_settings
from sessile.store.database import Database
from sessile.store.drivers import One, Steps
from sessile.store.drivers.postgres import PostgresDriver
from sessile.store.events import event_steps
from sessile.store.schema import users
from sessile.store.sql import prepared
from sessile.store.webhooks import Webhook

_NEW_USER = prepared(
    lambda: users.insert().values(
        id=sa.bindparam("id"), profile={}, created_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
)  # fmt: skip


async def _webhook(db: Database, webhook_id: str = "web_1", active: bool = True) -> None:
    await db.webhooks.create(
        Webhook(webhook_id, "http://127.0.0.1:9/h", ("user.created", "user.deleted"), "t", "x",
                active, 1.0, 1.0, None, None)
    )  # fmt: skip


async def _event(db: Database, user_id: str, event_type: str = "user.created") -> str | None:
    return await db.events.record(event_type, user_id=user_id, payload={}, now=10.0)


async def test_an_event_rolls_back_with_its_change(database: Database) -> None:
    await _webhook(database)

    class Boom(Exception):
        pass

    def change_then_fail() -> Steps[None]:
        dialect = database.driver.dialect
        yield One(_NEW_USER.on(dialect), {"id": "usr_x", "now": 1.0})
        queued = yield from event_steps(
            dialect, "user.created", user_id="usr_x", payload={}, now=1.0
        )
        assert queued
        raise Boom

    with pytest.raises(Boom):
        await database.driver.transaction(change_then_fail())
    assert await database.events.all_for("web_1") == []
    assert await database.users.get("usr_x") is None


async def test_only_active_subscribed_endpoints_get_rows(database: Database) -> None:
    await _webhook(database, "web_on")
    await _webhook(database, "web_off", active=False)
    assert await _event(database, "usr_a", "user.session.created") is None
    event_id = await _event(database, "usr_a")
    [row] = await database.events.all_for("web_on")
    assert row.event_id == event_id
    assert row.payload["type"] == "user.created"
    assert await database.events.all_for("web_off") == []


async def test_a_claim_takes_only_the_oldest_unsettled_event_of_each_user(
    database: Database,
) -> None:
    await _webhook(database)
    for user_id in ("usr_a", "usr_a", "usr_b", "usr_a"):
        await _event(database, user_id)
    first = await database.events.claim(now=20.0, lease=60.0, limit=10)
    assert [e.user_id for e in first] == ["usr_a", "usr_b"]
    # Leased, or retried later, a user's head still holds back the rest of their events.
    assert await database.events.claim(now=21.0, lease=60.0, limit=10) == []
    await database.events.retry_at(first[0].seq, at=30.0, error="HTTP 503")
    await database.events.delivered([first[1].seq], now=21.0)
    assert await database.events.claim(now=22.0, lease=60.0, limit=10) == []
    again = await database.events.claim(now=31.0, lease=60.0, limit=10)
    assert [(e.seq, e.attempts) for e in again] == [(first[0].seq, 2)]
    await database.events.delivered([again[0].seq], now=31.0)
    nxt = await database.events.claim(now=32.0, lease=60.0, limit=10)
    assert [e.seq for e in nxt] == [first[0].seq + 1]
    stats = await database.events.stats()
    assert (stats.pending, stats.dead) == (2, 0)


async def test_polls_and_claims_run_on_the_driver_and_leave_no_connection_held(
    database: Database,
) -> None:
    # Each worker polls its queues every second or so: an empty queue costs one read,
    # a due row one conditional write, both on the driver, none through the engine.
    checkouts: list[object] = []
    sa.event.listen(database.engine.sync_engine, "checkout", lambda *a: checkouts.append(a))
    await _webhook(database)
    await _event(database, "usr_a")
    checkouts.clear()
    assert await database.events.claim(now=5.0, lease=60.0, limit=10) == []  # not due yet
    assert await database.deliveries.claim(now=5.0, lease=60.0, limit=10) == []
    [claimed] = await database.events.claim(now=20.0, lease=60.0, limit=10)
    assert claimed.user_id == "usr_a"
    assert await database.events.claim(now=21.0, lease=60.0, limit=10) == []  # leased
    assert checkouts == []
    if isinstance(database.driver, PostgresDriver):  # every connection is back in the pool
        assert database.driver.idle_connections() == database.driver.open_connections()


async def test_dead_letters_are_redelivered_and_delivered_rows_purged(
    database: Database,
) -> None:
    await _webhook(database)
    await _event(database, "usr_a")
    await _event(database, "usr_b")
    a, b = await database.events.claim(now=20.0, lease=60.0, limit=10)
    await database.events.dead_letter(a.seq, now=21.0, error="HTTP 500")
    await database.events.delivered([b.seq], now=21.0)
    assert [d.event_id for d in await database.events.dead_letters("web_1")] == [a.event_id]
    settings = load_settings(secret_key="s" * 48)
    purged = await purge_expired(database.driver, settings, 22.0 + settings.event_retention)
    assert purged["webhook_events"] == 1
    assert await database.events.redeliver("web_1", now=30.0, event_ids=["evt_other"]) == 0
    assert await database.events.redeliver("web_1", now=30.0) == 1
    [again] = await database.events.claim(now=30.0, lease=60.0, limit=10)
    assert (again.event_id, again.attempts) == (a.event_id, 1)
    assert await database.events.dead_letters("web_1") == []
