"""Reuse detection over HTTP against a real server with a one-second grace window."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sessile.client import SessionClient, SessionClientError
from tests.live import LiveServer, live_server_for_param


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def short_grace(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"SESSILE_REFRESH_GRACE": "1"}
    with live_server_for_param(request, tmp_path_factory, env, "grace") as live:
        yield live


def test_old_token_after_the_grace_revokes_the_session(short_grace: LiveServer) -> None:
    client = SessionClient(short_grace.url)
    client.finalize(short_grace.challenge(short_grace.new_user()))
    old = client.tokens
    new = client.refresh()
    # Within the grace the old token gets the same successor again.
    client.tokens = old
    assert client.refresh().refresh_token == new.refresh_token

    time.sleep(1.5)
    client.tokens = old
    with pytest.raises(SessionClientError) as caught:
        client.refresh()
    assert caught.value.code == "unauthorized"
    # The session is gone: even the newest token fails now.
    client.tokens = new
    with pytest.raises(SessionClientError):
        client.refresh()


def test_forged_token_after_the_grace_revokes_nothing(short_grace: LiveServer) -> None:
    client = SessionClient(short_grace.url)
    client.finalize(short_grace.challenge(short_grace.new_user()))
    client.refresh()
    current = client.tokens
    assert current is not None
    assert current.refresh_token is not None
    sid = current.refresh_token.split(".")[0]
    time.sleep(1.5)
    client.tokens = type(current)(current.access_token, 0, f"{sid}.0.{'C' * 43}", None)
    with pytest.raises(SessionClientError):
        client.refresh()
    client.tokens = current
    client.refresh()
    assert client.list_sessions()["total"] == 1
