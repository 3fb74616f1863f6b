from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sessile.client import SessionClient, SessionClientError
from tests.live import live_server
from tests.server import run_server

SECRET = "test-secret-" + "x" * 40


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SESSILE_DATABASE_URL": database_url, "SESSILE_SECRET_KEY": SECRET}
    return subprocess.run(
        [sys.executable, "-m", "sessile", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_two_processes_on_one_postgres_see_rotation_and_revocation_at_once(
    tmp_path: Path, new_postgres_database: Callable[[], str]
) -> None:
    postgres_url = new_postgres_database()
    with (
        live_server(tmp_path / "a", postgres_url) as one,
        run_server(tmp_path / "b", {"SESSILE_DATABASE_URL": postgres_url}) as two,
    ):
        user = one.new_user()
        on_one = SessionClient(one.url)
        on_one.finalize(one.challenge(user))
        on_one.refresh()
        # The token rotated on one process refreshes on the other, with the same key.
        on_two = SessionClient(two.url, key=on_one.key)
        on_two.tokens = on_one.tokens
        rotated = on_two.refresh()
        # ...and the token it replaced is now the predecessor everywhere.
        on_one.tokens = rotated
        on_one.refresh()

        listing = _cli("sessions", "list", "--user", user, database_url=postgres_url)
        assert listing.returncode == 0, listing.stderr
        assert "1 live session(s)" in listing.stdout

        on_two.tokens = on_one.tokens
        on_one.revoke_sessions("mine")
        with pytest.raises(SessionClientError) as caught:
            on_two.refresh()
        assert caught.value.code == "unauthorized"


def test_sessions_cli_revokes(tmp_path: Path) -> None:
    with live_server(tmp_path / "data") as server:
        user = server.new_user()
        clients = []
        for _ in range(2):
            client = SessionClient(server.url)
            client.finalize(server.challenge(user))
            clients.append(client)
        sid = clients[0].list_sessions()["sessions"][0]["id"]

        one = _cli("sessions", "revoke", "--session", sid, database_url=server.database_url)
        assert one.stdout.strip() == "revoked 1 session(s)"
        assert (
            _cli(
                "sessions", "revoke", "--session", sid, database_url=server.database_url
            ).returncode
            == 1
        )
        everyone = _cli("sessions", "revoke", "--user", user, database_url=server.database_url)
        assert everyone.stdout.strip() == "revoked 1 session(s)"
        for client in clients:
            with pytest.raises(SessionClientError):
                client.refresh()
        usage = _cli("sessions", "revoke", database_url=server.database_url)
        assert usage.returncode == 2


def test_apikeys_cli(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'sessile.db'}"
    made = _cli(
        "apikeys", "create", "--name", "backend", "--scope", "users:read", database_url=database_url
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("sk_")
    key_id = secret.split("_")[1]
    listing = _cli("apikeys", "list", database_url=database_url)
    assert f"{key_id}  active" in listing.stdout
    assert secret not in listing.stdout
    assert _cli("apikeys", "revoke", key_id, database_url=database_url).returncode == 0
    assert "revoked" in _cli("apikeys", "list", database_url=database_url).stdout
    assert _cli("apikeys", "revoke", key_id, database_url=database_url).returncode == 1
