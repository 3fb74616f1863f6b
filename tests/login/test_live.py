"""Login against a real server on loopback, on SQLite and on PostgreSQL: codes read from the
outbox, passwords."""

from __future__ import annotations

import httpx
import pytest

from sessile.client import SessionClient, SessionClientError
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer


@pytest.fixture(scope="module")
def server(server_on_each_database: LiveServer) -> LiveServer:
    return server_on_each_database


def _last_code(server: LiveServer, to: str) -> dict[str, str]:
    return server.last_message(to)


@pytest.mark.parametrize(
    ("kind", "value", "normalised", "channel"),
    [
        ("email_address", "Grace.Hopper@Example.COM", "grace.hopper@example.com", "email"),
        ("phone_number", "+33 6 12 34 56 78", "+33612345678", "sms"),
    ],
)
def test_otp_login_end_to_end(
    server: LiveServer, kind: str, value: str, normalised: str, channel: str
) -> None:
    client = SessionClient(server.url)
    client.start_otp(kind, value)
    message = _last_code(server, normalised)
    assert message["channel"] == channel
    assert len(message["code"]) == 6
    assert message["code"] in message["text"]
    tokens = client.check_otp(message["code"])
    assert tokens.refresh_token is not None
    client.refresh()
    [session] = client.list_sessions()["sessions"]
    assert session["id"].startswith("ses_")
    # A second login by the same identifier reaches the same user.
    again = SessionClient(server.url)
    again.start_otp(kind, value)
    again.check_otp(_last_code(server, normalised)["code"])
    assert again.list_sessions()["total"] == 2
    client.logout()
    assert again.list_sessions()["total"] == 1


def test_otp_resend_sends_a_new_code(server: LiveServer) -> None:
    client = SessionClient(server.url)
    client.start_otp("email_address", "resend@example.com")
    assert _last_code(server, "resend@example.com")["code"]
    with pytest.raises(SessionClientError) as caught:
        client.retry_otp()  # within the cooldown
    assert caught.value.code == "rate_limited"
    assert caught.value.status == 429


def test_password_sign_up_proves_the_address_then_logs_in(server: LiveServer) -> None:
    base = server.url + "/v1/session"
    identifier = {"type": "email_address", "value": "Linus@example.com"}
    weak = httpx.post(
        base + "/login/email/sign-up", json={"identifier": identifier, "password": "short"}
    )
    assert weak.status_code == 400
    assert "at least 8 characters" in weak.json()["message"]

    client = SessionClient(server.url)
    assert client.sign_up("Linus@example.com", "a long passphrase") is None, "no session yet"
    assert server.user(Identifier("email_address", "linus@example.com")) is None
    tokens = client.check_otp(_last_code(server, "linus@example.com")["code"])
    assert tokens.refresh_token is not None
    assert client.list_sessions()["total"] == 1
    user = server.user(Identifier("email_address", "linus@example.com"))
    assert user is not None
    assert user.is_proven("email_address")

    other = SessionClient(server.url)
    other.login_with_password("linus@EXAMPLE.com", "a long passphrase")
    assert other.list_sessions()["total"] == 2
    with pytest.raises(SessionClientError) as caught:
        SessionClient(server.url).login_with_password("linus@example.com", "a wrong passphrase")
    assert caught.value.code == "unauthorized"
    assert httpx.get(base + "/password/compliancy").json()["min_length"] == 8
