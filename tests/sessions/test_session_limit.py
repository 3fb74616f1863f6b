"""The per-user session cap over HTTP: logging in past it ends the oldest live session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sessile.client import SessionClient, SessionClientError
from tests.live import LiveServer, live_server_for_param

CAP = 3


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def capped(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"SESSILE_MAX_SESSIONS_PER_USER": str(CAP)}
    with live_server_for_param(request, tmp_path_factory, env, "capped") as live:
        yield live


def _login(server: LiveServer, user_id: str) -> SessionClient:
    client = SessionClient(server.url)
    client.finalize(server.challenge(user_id))
    return client


def test_logging_in_past_the_cap_ends_the_oldest_session(capped: LiveServer) -> None:
    user = capped.new_user()
    bystander = _login(capped, capped.new_user())
    clients = [_login(capped, user) for _ in range(CAP)]
    clients[0].refresh()  # every one of the first CAP still works
    assert clients[0].list_sessions()["total"] == CAP

    newest = _login(capped, user)
    with pytest.raises(SessionClientError) as caught:
        clients[0].refresh()
    assert caught.value.code == "unauthorized"
    for client in [*clients[1:], newest, bystander]:
        client.refresh()
    assert newest.list_sessions()["total"] == CAP
    assert "session limit reached" in capped.server.output()
