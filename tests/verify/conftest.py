from __future__ import annotations

import pytest

from sessile.client import SessionClient
from tests.live import LiveServer
from tests.verify.keys import LocalIssuer


@pytest.fixture(scope="module")
def access_token(server: LiveServer) -> str:
    """A real access token, from logging in over HTTP."""
    client = SessionClient(server.url)
    client.finalize(server.challenge(server.new_user("grace@example.com")))
    assert client.tokens is not None
    return client.tokens.access_token


@pytest.fixture
def issuer() -> LocalIssuer:
    return LocalIssuer()
