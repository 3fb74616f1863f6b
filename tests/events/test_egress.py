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
        ("::", False),
        ("fe80::1%eth0", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
    ],
)
def test_public_address(address: str, public: bool) -> None:
    assert egress.public_address(address) is public


#: Every way an IPv6 address carries an IPv4 one: each is judged by the IPv4 inside.
IPV4_INSIDE_IPV6 = [
    # IPv4-mapped (::ffff:0:0/96)
    ("::ffff:10.0.0.1", False),
    ("::ffff:127.0.0.1", False),
    ("::ffff:8.8.8.8", True),
    # SIIT's IPv4-translated (::ffff:0:0:0/96, RFC 6145)
    ("::ffff:0:7f00:1", False),
    ("::ffff:0:a9fe:a9fe", False),
    ("::ffff:0:808:808", True),
    # IPv4-compatible (::/96, RFC 4291, deprecated)
    ("::127.0.0.1", False),
    ("::10.0.0.1", False),
    ("::8.8.8.8", True),
    # NAT64's well-known prefix (64:ff9b::/96, RFC 6052): what DNS64 hands out
    ("64:ff9b::a00:1", False),
    ("64:ff9b::a9fe:a9fe", False),
    ("64:ff9b::7f00:1", False),
    ("64:ff9b::c0a8:1", False),
    ("64:ff9b::808:808", True),
    # NAT64's local-use prefix (64:ff9b:1::/48, RFC 8215), read in its /96 layout only
    ("64:ff9b:1::a00:1", False),
    ("64:ff9b:1::808:808", True),
    ("64:ff9b:1:0:a:0:108:808", False),  # 10.0.0.1 where a /64 translator reads it
    ("64:ff9b:1:a00::808:808", False),
]
#: Refused outright, whatever they carry.
DENIED = [
    ("fec0::1", False),  # site-local (deprecated)
    ("fefe::1", False),
    ("2002:808:808::1", False),  # 6to4
    ("2002:a00:1::1", False),
    ("192.88.99.1", False),  # the 6to4 relay anycast
    ("::ffff:192.88.99.1", False),
    ("64:ff9b::c058:6301", False),
    ("2001::1", False),  # Teredo
    ("64:ff9b::ffff:a00:1", False),  # beside NAT64's /96, outside global unicast
    ("64:ff9b:0:1::a00:1", False),
    ("100::1", False),  # discard-only
]


@pytest.mark.parametrize(("address", "public"), IPV4_INSIDE_IPV6 + DENIED)
def test_an_ipv4_inside_ipv6_is_judged_by_the_ipv4(address: str, public: bool) -> None:
    assert egress.public_address(address) is public


@pytest.mark.parametrize("address", [a for a, public in IPV4_INSIDE_IPV6 + DENIED if not public])
async def test_a_wrapped_private_ipv4_is_refused_before_any_connection(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    async with egress.client(timeout=2, allow_private=False) as client:
        with pytest.raises(egress.NonPublicAddress):
            await client.post(f"http://{host}:9/hook", content=b"{}")


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
