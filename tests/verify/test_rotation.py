"""A real key rotation: the verifier accepts the new key's tokens after one JWKS refetch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt as pyjwt

from sessile.client import SessionClient
from sessile.verify import Verifier
from tests.live import LiveServer, live_server
from tests.server import free_port
from tests.verify.jwks_server import jwks_server


def _token(server: LiveServer, user_id: str) -> str:
    client = SessionClient(server.url)
    client.finalize(server.challenge(user_id))
    assert client.tokens is not None
    return client.tokens.access_token


def _rotate_now(data_dir: Path) -> None:
    env = {
        **os.environ,
        "SESSILE_DATA_DIR": str(data_dir),
        "SESSILE_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'sessile.db'}",
        "SESSILE_SECRET_KEY": "test-secret-" + "x" * 40,
    }
    subprocess.run(
        [sys.executable, "-m", "sessile", "keys", "rotate", "--now"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_rotated_key_after_one_refetch(tmp_path: Path) -> None:
    # The server restarts on the same port (so the same issuer) to sign with the new key at
    # once; a JWKS server in between counts the verifier's fetches.
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    with jwks_server(upstream=issuer + "/.well-known/jwks.json") as jwks:
        verifier = Verifier(issuer, "default", jwks_url=jwks.url, min_refetch_interval=0.2)
        with live_server(tmp_path, port=port) as server:
            user = server.new_user("hopper@example.com")
            before = _token(server, user)
            assert verifier.verify(before).sub == user
            assert jwks.fetches == 1

        _rotate_now(tmp_path)

        with live_server(tmp_path, port=port) as server:
            after = _token(server, user)
            old_kid = pyjwt.get_unverified_header(before)["kid"]
            assert pyjwt.get_unverified_header(after)["kid"] != old_kid
            assert verifier.verify(after).sub == user
            assert jwks.fetches == 2
            # The old key stays published until its tokens expire; nothing more is fetched.
            assert verifier.verify(before).sub == user
            assert (
                verifier.verify(after).sid
                == pyjwt.decode(after, options={"verify_signature": False})["sid"]
            )
            assert jwks.fetches == 2
