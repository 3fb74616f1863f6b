"""Webhook endpoints: creation (with a fresh signing secret) and activation.

Activation follows Prelude's challenge: a GET to the endpoint with ``event=activate``,
``verification_token`` (the one given at creation), ``challenge`` (a random integer) and
``app_id``; the endpoint answers 200 with ``{"challenge": <the integer>}`` (or the bare
integer). Only then does it receive events.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence

import httpx

from sessile.context import AppContext
from sessile.errors import BadRequest, NotFound
from sessile.events.worker import secret_box
from sessile.ids import new_id
from sessile.store.webhooks import Webhook

__all__ = ["activate_webhook", "create_webhook", "existing_webhook", "webhook_secret"]


async def create_webhook(
    context: AppContext, *, url: str, events: Sequence[str], verification_token: str
) -> tuple[Webhook, str]:
    """A new, inactive endpoint and its secret (shown once; ``webhook_secret`` reads it)."""
    webhook_id = new_id("web")
    secret = "whsec_" + secrets.token_urlsafe(32)
    now = context.clock.now()
    webhook = Webhook(
        id=webhook_id,
        url=url,
        events=tuple(dict.fromkeys(events)),
        verification_token=verification_token,
        secret_encrypted=secret_box(context.server_secret).encrypt(
            secret.encode(), webhook_id.encode()
        ),
        active=False,
        created_at=now,
        updated_at=now,
        last_http_code=None,
        last_http_code_at=None,
    )
    await context.db.webhooks.create(webhook)
    return webhook, secret


async def existing_webhook(context: AppContext, webhook_id: str) -> Webhook:
    webhook = await context.db.webhooks.get(webhook_id)
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def webhook_secret(context: AppContext, webhook: Webhook) -> str:
    box = secret_box(context.server_secret)
    return box.decrypt(webhook.secret_encrypted, webhook.id.encode()).decode()


async def activate_webhook(context: AppContext, webhook_id: str) -> Webhook:
    """Send the activation challenge; activate when it is echoed, else ``bad_request``."""
    webhook = await existing_webhook(context, webhook_id)
    challenge = secrets.randbelow(2**53)
    params = {
        "event": "activate",
        "verification_token": webhook.verification_token,
        "challenge": str(challenge),
        "app_id": context.settings.app_id,
    }
    try:
        async with httpx.AsyncClient(timeout=context.settings.event_timeout) as client:
            response = await client.get(webhook.url, params=params)
    except httpx.HTTPError as exc:
        raise BadRequest("The endpoint could not be reached for its activation.") from exc
    if response.status_code != 200 or not _echoes(response.text, challenge):
        raise BadRequest("The endpoint did not answer the activation challenge.")
    updated = await context.db.webhooks.update(webhook_id, now=context.clock.now(), active=True)
    if updated is None:
        raise NotFound("No such webhook.")
    return updated


def _echoes(text: str, challenge: int) -> bool:
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    if isinstance(answer, dict):
        answer = answer.get("challenge")
    return type(answer) is int and answer == challenge
