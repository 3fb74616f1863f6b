"""The revocation feed: a revoked session's still-unexpired token is refused after one poll."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from sessile.client import SessionClient
from sessile.verify import AsyncVerifier, RevocationFeed, RevokedToken, Verifier
from tests.live import LiveServer
from tests.server import free_port


@pytest.fixture(scope="module")
def api_key(server: LiveServer) -> str:
    env = {
        **os.environ,
        "SESSILE_DATABASE_URL": server.database_url,
        "SESSILE_SECRET_KEY": "test-secret-" + "x" * 40,
    }
    made = subprocess.run(
        [sys.executable, "-m", "sessile", "apikeys", "create", "--name", "verifier",
         "--scope", "revocations:read"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return made.stdout.strip()


def _login(server: LiveServer) -> SessionClient:
    client = SessionClient(server.url)
    client.finalize(server.challenge(server.new_user()))
    return client


def test_revoked_session_is_refused_after_one_poll(server: LiveServer, api_key: str) -> None:
    feed = RevocationFeed(server.url, api_key)
    verifier = Verifier(server.url, "default", revocations=feed)
    assert feed.poll()
    alice, bob = _login(server), _login(server)
    assert alice.tokens is not None
    assert bob.tokens is not None
    alice_token, bob_token = alice.tokens.access_token, bob.tokens.access_token
    assert verifier.verify(alice_token).sub != verifier.verify(bob_token).sub

    alice.revoke_sessions("mine")
    # Without a poll the verifier cannot know: the token is still within its lifetime.
    assert verifier.verify(alice_token).sid
    assert feed.poll()
    with pytest.raises(RevokedToken) as caught:
        verifier.verify(alice_token)
    assert caught.value.code == "revoked_token"
    assert verifier.verify(bob_token).sid, "another session's token is still good"
    assert feed.healthy
    assert feed.stats.rows >= 1


def test_user_wide_revocation(server: LiveServer, api_key: str) -> None:
    feed = RevocationFeed(server.url, api_key)
    verifier = Verifier(server.url, "default", revocations=feed)
    user = server.new_user()
    clients = []
    for _ in range(2):
        client = SessionClient(server.url)
        client.finalize(server.challenge(user))
        clients.append(client)
    tokens = [c.tokens.access_token for c in clients if c.tokens]
    clients[0].revoke_sessions("all")
    feed.poll()
    for token in tokens:
        with pytest.raises(RevokedToken):
            verifier.verify(token)


async def test_async_verifier_with_a_polling_task(server: LiveServer, api_key: str) -> None:
    feed = RevocationFeed(server.url, api_key, interval=0.2)
    verifier = AsyncVerifier(server.url, "default", revocations=feed)
    client = await asyncio.to_thread(_login, server)
    assert client.tokens is not None
    token = client.tokens.access_token
    task = asyncio.create_task(feed.run())
    try:
        assert (await verifier.verify(token)).sid
        await asyncio.to_thread(client.revoke_sessions, "mine")
        for _ in range(50):
            await asyncio.sleep(0.1)
            try:
                await verifier.verify(token)
            except RevokedToken:
                break
        else:
            pytest.fail("the revocation never reached the verifier")
    finally:
        task.cancel()


def test_an_unreachable_feed_leaves_signature_checks_working(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    feed = RevocationFeed(server.url, "sk_x", url=f"http://127.0.0.1:{free_port()}/feed", timeout=1)
    verifier = Verifier(server.url, "default", revocations=feed)
    client = _login(server)
    assert client.tokens is not None
    assert not feed.poll()
    assert not feed.healthy
    assert feed.stats.failures == 1
    assert "revocation feed unreachable" in caplog.text
    assert verifier.verify(client.tokens.access_token).sid


def test_a_wrong_api_key_is_a_failed_poll(server: LiveServer) -> None:
    feed = RevocationFeed(server.url, "sk_0000000000000000_" + "A" * 43)
    assert not feed.poll()
    assert feed.stats.last_error is not None
    assert "401" in feed.stats.last_error


def test_background_thread(server: LiveServer, api_key: str) -> None:
    feed = RevocationFeed(server.url, api_key, interval=0.1)
    feed.start()
    try:
        for _ in range(50):
            if feed.stats.polls >= 2:
                break
            time.sleep(0.05)
        assert feed.stats.polls >= 2
    finally:
        feed.stop()
