"""The Python session client against a real server: OTP login, refresh, list, revoke, logout."""

from __future__ import annotations

from pathlib import Path

import pytest

import sessile.client
from sessile.client import AsyncSessionClient, DPoPKey, SessionClient, SessionClientError
from tests.live import LiveServer


def _code(server: LiveServer, to: str) -> str:
    return server.last_message(to)["code"]


def test_public_api() -> None:
    assert sorted(sessile.client.__all__) == [
        "AsyncSessionClient",
        "DPoPKey",
        "SessionClient",
        "SessionClientError",
        "Tokens",
    ]


def test_sync_client_end_to_end(server: LiveServer) -> None:
    with SessionClient(server.url) as client:
        client.start_otp("email_address", "sync@example.com")
        assert client.verification_token is not None
        first = client.check_otp(_code(server, "sync@example.com"))
        assert client.nonce is not None, "the client keeps the server's nonce"
        second = client.refresh()
        assert second.refresh_token != first.refresh_token
        assert second.refresh_expires_at is not None
        listing = client.list_sessions(limit=5)
        assert listing["total"] == 1
        assert listing["limit"] == 5
        with SessionClient(server.url) as other:
            other.start_otp("email_address", "sync@example.com")
            other.check_otp(_code(server, "sync@example.com"))
            assert client.revoke_sessions("others") == {"revoked": 1}
            with pytest.raises(SessionClientError) as caught:
                other.refresh()
            assert caught.value.code == "unauthorized"
        client.logout()
        assert client.tokens is None


async def test_async_client_end_to_end(server: LiveServer) -> None:
    async with AsyncSessionClient(server.url) as client:
        await client.start_otp("phone_number", "+447911123456")
        await client.check_otp(_code(server, "+447911123456"))
        await client.refresh()
        [session] = (await client.list_sessions())["sessions"]
        assert (await client.revoke_sessions("session", session["id"])) == {"revoked": 1}
        with pytest.raises(SessionClientError) as caught:
            await client.refresh()
        assert caught.value.status == 401


def test_key_in_a_pem_file_survives_a_restart(server: LiveServer, tmp_path: Path) -> None:
    pem = tmp_path / "dpop.pem"
    first = SessionClient(server.url)
    first.start_otp("email_address", "pem@example.com")
    first.check_otp(_code(server, "pem@example.com"))
    first.key.to_pem(pem)
    assert oct(pem.stat().st_mode & 0o777) == "0o600"
    # A new process: the same key from the file, the refresh token from wherever it was kept.
    second = SessionClient(server.url, key=DPoPKey.from_pem(pem))
    assert second.key.thumbprint == first.key.thumbprint
    second.tokens = first.tokens
    second.refresh()
    # A different key can't use the token.
    third = SessionClient(server.url)
    third.tokens = second.tokens
    with pytest.raises(SessionClientError) as caught:
        third.refresh()
    assert caught.value.code == "dpop_key_mismatch"


def test_errors_carry_the_wire_code(server: LiveServer) -> None:
    client = SessionClient(server.url)
    with pytest.raises(SessionClientError) as caught:
        client.start_otp("email_address", "not an email")
    assert caught.value.code == "invalid_identifier"
    assert caught.value.status == 400
    with pytest.raises(SessionClientError) as caught:
        client.refresh()
    assert caught.value.code == "unauthorized"
