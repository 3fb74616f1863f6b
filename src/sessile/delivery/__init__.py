"""Delivery of one-time codes (DESIGN §6): one interface (``base``), three providers, and
the factory that picks the configured one. The providers import only ``base``."""

from sessile.config import Settings
from sessile.delivery.base import (
    Message,
    Sender,
    compose_link_message,
    compose_message,
    compose_notice,
)
from sessile.delivery.outbox import OutboxSender
from sessile.delivery.smtp import SmtpSender
from sessile.delivery.webhook import WebhookSender, webhook_signature

__all__ = [
    "Message",
    "OutboxSender",
    "Sender",
    "SmtpSender",
    "WebhookSender",
    "compose_link_message",
    "compose_message",
    "compose_notice",
    "create_sender",
    "webhook_signature",
]


def create_sender(settings: Settings) -> Sender:
    if settings.delivery == "smtp":
        return SmtpSender.from_settings(settings)
    if settings.delivery == "webhook":
        return WebhookSender.from_settings(settings)
    return OutboxSender(settings.outbox_file)
