"""Delivery of one-time codes (DESIGN §6): one interface, three providers."""

from sessile.delivery.base import Message, Sender, compose_message, compose_notice, create_sender
from sessile.delivery.outbox import OutboxSender
from sessile.delivery.smtp import SmtpSender
from sessile.delivery.webhook import WebhookSender, webhook_signature

__all__ = [
    "Message",
    "OutboxSender",
    "Sender",
    "SmtpSender",
    "WebhookSender",
    "compose_message",
    "compose_notice",
    "create_sender",
    "webhook_signature",
]
