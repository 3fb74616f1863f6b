"""The delivery queue: a login start never waits on a provider or fails with it, known and
unknown identifiers look alike, failures are retried then dead-lettered, and several
workers send each message once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from sessile.clock import FixedClock
from sessile.delivery import Message
from sessile.delivery.queue import DeliveryQueue
from sessile.errors import DeliveryFailed
from sessile.store.database import Database
from sessile.store.deliveries import DeliveryStore
from sessile.store.user_identifiers import Identifier
from tests.delivery.receivers import webhook_inbox
from tests.live import LiveServer, live_server
from tests.server import free_port

SECRET = b"webhook-secret-for-tests"
SERVER_SECRET = b"s" * 32
KNOWN = "+14155550101"
UNKNOWN = "+14155550102"


def _webhook_env(url: str) -> dict[str, str]:
    return {
        "SESSILE_DELIVERY": "webhook",
        "SESSILE_WEBHOOK_URL": url,
        "SESSILE_WEBHOOK_SECRET": SECRET.decode(),
        "SESSILE_WEBHOOK_RETRIES": "0",
        # Unknown identifiers get no code: the case where a leak would show.
        "SESSILE_OTP_SIGNUP": "false",
    }


def _start(server: LiveServer, phone: str) -> httpx.Response:
    return httpx.post(
        server.url + "/v1/session/login/otp",
        json={"identifier": {"type": "phone_number", "value": phone}},
        timeout=10,
    )


def _known(server: LiveServer) -> None:
    asyncio.run(_add_user(server.database_url, KNOWN))


async def _add_user(url: str, phone: str) -> None:
    db = Database.from_url(url)
    try:
        await db.users.create(now=0.0, identifiers_=[Identifier("phone_number", phone)])
    finally:
        await db.close()


def _alike(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == second.status_code == 204
    assert first.content == second.content == b""
    varying = {"date", "content-length", "set-cookie", "x-verification-token"}
    assert set(first.headers) - varying == set(second.headers) - varying


def test_a_start_answers_while_the_provider_is_still_busy(tmp_path: Path) -> None:
    """Finding: a slow provider made known identifiers answer slower than unknown ones."""
    with (
        webhook_inbox(SECRET, held=True) as inbox,
        live_server(tmp_path, env=_webhook_env(inbox.url)) as server,
    ):
        _known(server)
        known = _start(server, KNOWN)
        assert inbox.arrived.wait(10), "the worker sends the code"
        # The provider still holds that message, yet both answers are already here.
        assert not inbox.received
        unknown = _start(server, UNKNOWN)
        _alike(known, unknown)
        inbox.gate.set()
        server.wait_for_deliveries()
        assert [m["to"] for m in inbox.received] == [KNOWN]


def test_a_provider_that_is_down_changes_no_answer_and_is_retried(tmp_path: Path) -> None:
    """Finding: with the receiver down, known identifiers got 503 and unknown ones 200."""
    port = free_port()
    with live_server(tmp_path, env=_webhook_env(f"http://127.0.0.1:{port}/send")) as server:
        _known(server)
        known = _start(server, KNOWN)
        unknown = _start(server, UNKNOWN)
        _alike(known, unknown)

        async def one_waiting() -> None:
            db = Database.from_url(server.database_url)
            try:
                # The suppressed row settles; the known one waits for its retry.
                for _ in range(200):
                    if await db.deliveries.pending() == 1:
                        break
                    await asyncio.sleep(0.05)
                assert await db.deliveries.pending() == 1
                assert await db.deliveries.dead_letters() == []
            finally:
                await db.close()

        asyncio.run(asyncio.wait_for(one_waiting(), 10))
        # The receiver comes up: the waiting code arrives, exactly once.
        with webhook_inbox(SECRET, port=port) as inbox:
            server.wait_for_deliveries(timeout=20)
            assert [m["to"] for m in inbox.received] == [KNOWN]


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_failures_back_off_then_dead_letter(database: Database) -> None:
    clock = FixedClock(1_000.0)
    failures = 0

    class Down:
        async def send(self, message: Message) -> None:
            nonlocal failures
            failures += 1
            raise DeliveryFailed("provider down")

    queue = DeliveryQueue(database.deliveries, Down(), SERVER_SECRET, clock, max_attempts=3)
    await queue.send(Message("sms", "+14155550123", "123456", "code 123456"))
    assert await queue.deliver_due() == 1
    assert await queue.deliver_due() == 0, "not due again before its backoff"
    clock.advance(2)
    assert await queue.deliver_due() == 1
    clock.advance(4)
    assert await queue.deliver_due() == 1
    assert failures == 3
    [dead] = await database.deliveries.dead_letters()
    assert dead.attempts == 3
    assert dead.payload == "", "a dead letter keeps no code"
    assert "provider down" in (dead.last_error or "")
    assert await database.deliveries.pending() == 0
    clock.advance(3600)
    assert await queue.deliver_due() == 0


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_payloads_are_encrypted_and_emptied_once_sent(database: Database) -> None:
    clock = FixedClock(1_000.0)
    sent: list[Message] = []

    class Up:
        async def send(self, message: Message) -> None:
            sent.append(message)

    queue = DeliveryQueue(database.deliveries, Up(), SERVER_SECRET, clock, max_attempts=3)
    await queue.send(Message("email", "ada@example.com", "424242", "code 424242"))
    async with database.engine.connect() as conn:
        raw = (await conn.exec_driver_sql("SELECT payload FROM deliveries")).scalar_one()
    assert "424242" not in raw
    assert "ada@example.com" not in raw
    assert await queue.deliver_due() == 1
    assert sent == [Message("email", "ada@example.com", "424242", "code 424242")]
    async with database.engine.connect() as conn:
        raw = (await conn.exec_driver_sql("SELECT payload FROM deliveries")).scalar_one()
    assert raw == ""


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_concurrent_workers_send_each_message_once(database: Database) -> None:
    clock = FixedClock(1_000.0)
    sent: list[str] = []

    class Slow:
        async def send(self, message: Message) -> None:
            await asyncio.sleep(0.01)
            sent.append(message.to)

    queues = [
        DeliveryQueue(
            DeliveryStore(database.driver),
            Slow(),
            SERVER_SECRET,
            clock,
            max_attempts=3,
        )
        for _ in range(4)
    ]
    for n in range(60):
        await queues[0].send(Message("sms", f"+1415555{n:04d}", "1", "1"))

    async def drain(queue: DeliveryQueue) -> None:
        while await queue.deliver_due():
            pass

    await asyncio.gather(*(drain(q) for q in queues))
    assert sorted(sent) == sorted(f"+1415555{n:04d}" for n in range(60))
    assert await database.deliveries.pending() == 0


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_a_batch_settles_what_it_sent_and_puts_back_what_failed(database: Database) -> None:
    """The messages of a batch sent are settled together; one that failed in it is not
    settled with them but retried, and nothing is sent twice."""
    clock = FixedClock(1_000.0)
    sent: list[str] = []
    down = {"+14155550002"}

    class Partly:
        async def send(self, message: Message) -> None:
            if message.to in down:
                raise DeliveryFailed("this one is down")
            sent.append(message.to)

    queue = DeliveryQueue(database.deliveries, Partly(), SERVER_SECRET, clock, max_attempts=3)
    for n in range(1, 4):
        await queue.send(Message("sms", f"+1415555000{n}", "1", "1"))
    assert await queue.deliver_due() == 3
    assert sorted(sent) == ["+14155550001", "+14155550003"]
    assert await database.deliveries.pending() == 1
    down.clear()
    clock.advance(2)
    assert await queue.deliver_due() == 1
    assert sorted(sent) == ["+14155550001", "+14155550002", "+14155550003"]
    assert await database.deliveries.pending() == 0
    clock.advance(3600)
    assert await queue.deliver_due() == 0
