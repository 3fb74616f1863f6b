"""E-mail by SMTP (aiosmtplib), with a text and an HTML part."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from sessile.config import Settings
from sessile.delivery.base import Message
from sessile.errors import DeliveryFailed

__all__ = ["SmtpSender"]


class SmtpSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        tls: str = "none",
        timeout: float = 10.0,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._tls = tls
        self._timeout = timeout

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSender:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            tls=settings.smtp_tls,
        )

    async def send(self, message: Message) -> None:
        if message.channel != "email":
            raise DeliveryFailed("SMTP delivers e-mail only; configure a webhook for SMS.")
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.to
        mail["Subject"] = message.subject or ""
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        try:
            await aiosmtplib.send(
                mail,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._tls == "tls",
                start_tls=self._tls == "starttls",
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed() from exc
