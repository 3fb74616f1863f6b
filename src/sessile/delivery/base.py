"""The message and the Sender interface every provider implements."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Literal, Protocol

from sessile.config import Settings

__all__ = [
    "Channel",
    "Message",
    "Sender",
    "compose_link_message",
    "compose_message",
    "compose_notice",
]

Channel = Literal["email", "sms"]


@dataclass(frozen=True)
class Message:
    channel: Channel
    to: str
    #: The one-time code, or ``""`` for a notice that carries none.
    code: str
    text: str
    subject: str | None = None
    html: str | None = None


class Sender(Protocol):
    async def send(self, message: Message) -> None:
        """Deliver, or raise :class:`sessile.errors.DeliveryFailed`."""
        ...


def compose_message(settings: Settings, channel: Channel, to: str, code: str) -> Message:
    """Fill the configured templates for one code."""
    values = {"code": code, "app_name": settings.app_name, "minutes": settings.otp_ttl // 60}
    if channel == "sms":
        return Message(channel, to, code, settings.sms_text.format(**values))
    text = settings.email_text.format(**values)
    page = (
        "<!doctype html><html><body>"
        f"<p>{html.escape(text)}</p>"
        f'<p style="font-size:28px;letter-spacing:6px"><strong>{html.escape(code)}</strong></p>'
        "</body></html>"
    )
    return Message(channel, to, code, text, settings.email_subject.format(**values), page)


def compose_link_message(settings: Settings, to: str, code: str, provider: str) -> Message:
    """The code that links a ``provider`` account to the one holding ``to``: worded as a
    link, never as a login, so that its owner knows what a code given away would do."""
    values = {
        "code": code,
        "app_name": settings.app_name,
        "minutes": settings.otp_ttl // 60,
        "provider": provider,
    }
    text = settings.link_email_text.format(**values)
    page = (
        "<!doctype html><html><body>"
        f"<p>{html.escape(text)}</p>"
        f'<p style="font-size:28px;letter-spacing:6px"><strong>{html.escape(code)}</strong></p>'
        "</body></html>"
    )
    return Message("email", to, code, text, settings.link_email_subject.format(**values), page)


def compose_notice(settings: Settings, to: str) -> Message:
    """The e-mail an address's owner gets when someone tries to sign up with it."""
    values = {"app_name": settings.app_name}
    text = settings.signup_notice_text.format(**values)
    page = f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>"
    return Message("email", to, "", text, settings.signup_notice_subject.format(**values), page)
