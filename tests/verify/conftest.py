from __future__ import annotations

from collections.abc import Iterator

import pytest

from sessile.client import SessionClient
from tests.live import LiveServer, live_server
from tests.verify.keys import LocalIssuer


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real ``sessile serve`` on loopback (SQLite), shared by this folder."""
    with live_server(tmp_path_factory.mktemp("data")) as live:
        yield live


@pytest.fixture(scope="package")
def access_token(server: LiveServer) -> str:
    """A real access token, from logging in over HTTP."""
    client = SessionClient(server.url)
    client.finalize(server.challenge(server.new_user("grace@example.com")))
    assert client.tokens is not None
    return client.tokens.access_token


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()
