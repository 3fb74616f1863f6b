"""Each delivery provider against a real local receiver, through a real server on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sessile.client import SessionClient, SessionClientError
from sessile.config import load_settings
from sessile.delivery import Message, OutboxSender, WebhookSender, compose_message
from sessile.errors import DeliveryFailed
from sessile.store.database import Database
from sessile.store.schema import otp_challenges, users
from tests.delivery.receivers import smtp_inbox, webhook_inbox
from tests.live import live_server
from tests.server import free_port

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
            assert inbox.rejected == 0
            assert inbox.attempts == 2, "one 503, then a retry that was accepted"
            [message] = inbox.received
            assert message["channel"] == "sms"
            assert message["to"] == "+14155550123"
            client.check_otp(message["code"])
            assert client.list_sessions()["total"] == 1


def test_a_failed_delivery_gives_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    env = {
        "SESSILE_DELIVERY": "webhook",
        "SESSILE_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/nobody-listens",
        "SESSILE_WEBHOOK_SECRET": SECRET.decode(),
        "SESSILE_WEBHOOK_RETRIES": "1",
    }
    with live_server(tmp_path, env=env) as server:
        client = SessionClient(server.url)
        with pytest.raises(SessionClientError) as caught:
            client.start_otp("phone_number", "+14155550123")
        assert caught.value.status == 503
        assert caught.value.code == "delivery_failed"

        async def count() -> int:
            db = Database.from_url(server.database_url)
            try:
                async with db.engine.connect() as conn:
                    challenges = await conn.scalar(select(func.count()).select_from(otp_challenges))
                    made = await conn.scalar(select(func.count()).select_from(users))
                    return int(challenges or 0) + int(made or 0)
            finally:
                await db.close()

        assert asyncio.run(count()) == 0


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
