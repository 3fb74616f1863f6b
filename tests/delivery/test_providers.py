"""Each delivery provider against a real local receiver, through a real server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sessile.client import SessionClient
from sessile.config import load_settings
from sessile.delivery import Message, OutboxSender, WebhookSender, compose_message
from sessile.errors import DeliveryFailed
from tests.delivery.receivers import smtp_inbox, webhook_inbox
from tests.live import live_server

SECRET = b"webhook-secret-for-tests"


def test_email_through_a_real_smtp_server(tmp_path: Path) -> None:
    with smtp_inbox() as inbox:
        env = {
            "SESSILE_DELIVERY": "smtp",
            "SESSILE_SMTP_HOST": "127.0.0.1",
            "SESSILE_SMTP_PORT": str(inbox.port),
            "SESSILE_SMTP_FROM": "Example <auth@example.com>",
            "SESSILE_APP_NAME": "Example",
        }
        with live_server(tmp_path, env=env) as server:
            client = SessionClient(server.url)
            client.start_otp("email_address", "ada@example.com")
            server.wait_for_deliveries()
            [mail] = inbox.messages
            assert mail["To"] == "ada@example.com"
            assert mail["From"] == "Example <auth@example.com>"
            leaves = [part for part in mail.walk() if not part.is_multipart()]
            parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in leaves}
            assert set(parts) == {"text/plain", "text/html"}
            code = mail["Subject"].rsplit(" ", 1)[1]
            assert code in parts["text/plain"]
            assert f"<strong>{code}</strong>" in parts["text/html"]
            client.check_otp(code)
            assert client.list_sessions()["total"] == 1


def test_sms_through_a_signed_webhook_with_a_retry(tmp_path: Path) -> None:
    with webhook_inbox(SECRET, failures=[503]) as inbox:
        env = {
            "SESSILE_DELIVERY": "webhook",
            "SESSILE_WEBHOOK_URL": inbox.url,
            "SESSILE_WEBHOOK_SECRET": SECRET.decode(),
        }
        with live_server(tmp_path, env=env) as server:
            client = SessionClient(server.url)
            client.start_otp("phone_number", "+14155550123")
            server.wait_for_deliveries()
            assert inbox.rejected == 0
            assert inbox.attempts == 2, "one 503, then a retry that was accepted"
            [message] = inbox.received
            assert message["channel"] == "sms"
            assert message["to"] == "+14155550123"
            client.check_otp(message["code"])
            assert client.list_sessions()["total"] == 1


async def test_webhook_does_not_retry_a_refusal() -> None:
    with webhook_inbox(b"another secret") as inbox:
        sender = WebhookSender(inbox.url, SECRET, retries=3, backoff=0)
        with pytest.raises(DeliveryFailed):
            await sender.send(Message("sms", "+14155550123", "123456", "code 123456"))
        assert inbox.rejected == 1
        assert inbox.attempts == 1


async def test_outbox_lines(tmp_path: Path) -> None:
    settings = load_settings(app_name="Acme", otp_ttl=300)
    sender = OutboxSender(tmp_path / "outbox.jsonl", echo=False)
    await sender.send(compose_message(settings, "email", "ada@example.com", "424242"))
    await sender.send(compose_message(settings, "sms", "+33612345678", "171717"))
    lines = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert [set(line) for line in lines] == [{"channel", "to", "code", "text", "created_at"}] * 2
    assert lines[0]["text"] == "Your Acme code is 424242. It expires in 5 minutes."
    assert lines[1]["channel"] == "sms"
    assert lines[1]["code"] == "171717"
