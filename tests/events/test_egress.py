"""Webhook calls reach public addresses only, checked when they connect, not only when the
URL was registered: a name may resolve inward later (DNS rebinding)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from sessile.events import egress
from sessile.store.schema import webhook_events
from sessile.store.user_identifiers import Identifier
from tests.events.receiver import VERIFICATION_TOKEN, receiver
from tests.http.conftest import AppClient


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),
    ],
)
def test_public_address(address: str, public: bool) -> None:
    assert egress.public_address(address) is public


class Listener:
    """A loopback socket that answers 200 to anything and counts who connected."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    listening = Listener()
    server = await asyncio.start_server(listening._handle, "127.0.0.1", 0)
    listening.port = server.sockets[0].getsockname()[1]
    try:
        yield listening
    finally:
        server.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_loopback_target_is_refused_before_any_connection(
    listener: Listener, host: str
) -> None:
    async with egress.client(timeout=2, allow_private=False) as client:
        with pytest.raises(egress.NonPublicAddress):
            await client.post(f"http://{host}:{listener.port}/hook", content=b"{}")
    assert listener.connections == 0


async def test_the_setting_lets_a_lab_reach_loopback_by_name(listener: Listener) -> None:
    async with egress.client(timeout=2, allow_private=True) as client:
        response = await client.get(f"http://localhost:{listener.port}/hook")
    assert (response.status_code, response.text) == (200, "ok")
    assert listener.connections == 1


async def test_an_endpoint_whose_name_now_resolves_inward_gets_no_event(
    make_client: AppClient,
) -> None:
    with receiver() as inbox:
        url = f"http://localhost:{inbox.port}/hooks"
        # Registered and activated while private targets were allowed (the name's address
        # was acceptable then), the endpoint is active and subscribed.
        async with make_client(event_allow_private_urls=True) as (_, app):
            endpoints = app.state.context.endpoints
            webhook, secret = await endpoints.create(
                url=url,
                events=["user.created"],
                verification_token=VERIFICATION_TOKEN,
                signature="hmac-sha256",
            )
            assert secret is not None
            inbox.secrets.append(secret)
            await endpoints.activate(webhook.id)
        # The same database, served without that allowance: the event is queued, and the
        # worker refuses to connect where the name leads now.
        async with make_client() as (_, app):
            context = app.state.context
            await context.users.create([Identifier("email_address", "a@example.com")])
            query = sa.select(webhook_events.c.sent_at, webhook_events.c.last_error).where(
                webhook_events.c.webhook_id == webhook.id
            )
            for _ in range(200):  # the app's own worker makes the first attempt
                async with context.db.engine.connect() as conn:
                    row = (await conn.execute(query)).one()
                if row.last_error or row.sent_at:
                    break
                await asyncio.sleep(0.05)
        assert row.sent_at is None
        assert "NonPublicAddress" in (row.last_error or "")
        assert inbox.batches == 0
