"""``sessile apikeys create`` asks what the key may do: a key that can do everything must be
asked for by name, and keys made before that rule keep what they could do."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.live import LiveServer, live_server

USERS = "/v2/session/apps/default/users"
FEED = "/v2/session/apps/default/revocations"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("apikeys")) as live:
        yield live


def _calls(server: LiveServer, key: str) -> tuple[int, int]:
    """What the key gets from the revocation feed, and from creating a user."""
    auth = {"Authorization": f"Bearer {key}"}
    feed = httpx.get(server.url + FEED, headers=auth, timeout=10)
    body = {"identifiers": [{"type": "email_address", "value": f"{key[3:19]}@example.com"}]}
    made = httpx.post(server.url + USERS, headers=auth, json=body, timeout=10)
    return feed.status_code, made.status_code


def test_a_key_without_scopes_is_refused_and_none_is_made(server: LiveServer) -> None:
    before = server.cli("apikeys", "list").stdout
    made = server.cli("apikeys", "create", "--name", "backend")
    assert made.returncode == 2, made.stdout
    assert "--scope" in made.stderr
    assert "revocations:read" in made.stderr
    assert "--all-scopes" in made.stderr
    assert "Traceback" not in made.stderr
    assert made.stdout == ""
    assert server.cli("apikeys", "list").stdout == before
    both = server.cli("apikeys", "create", "--name", "x", "--scope", "audit", "--all-scopes")
    assert both.returncode == 2


def test_a_scoped_key_does_only_what_it_names(server: LiveServer) -> None:
    made = server.cli("apikeys", "create", "--name", "verifier", "--scope", "revocations:read")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert _calls(server, key) == (200, 403)
    listing = server.cli("apikeys", "list").stdout
    assert f"{key.split('_')[1]}  active   verifier  [revocations:read]" in listing


def test_all_scopes_is_asked_for_by_name(server: LiveServer) -> None:
    made = server.cli("apikeys", "create", "--name", "operator", "--all-scopes")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert _calls(server, key) == (200, 201)
    assert f"{key.split('_')[1]}  active   operator  [all]" in server.cli("apikeys", "list").stdout


def test_a_key_made_before_still_does_everything(server: LiveServer) -> None:
    # Stored without scopes, as every key made before scopes existed, or without --scope.
    assert _calls(server, server.api_key()) == (200, 201)
