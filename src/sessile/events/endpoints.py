"""Webhook endpoints: registration (with a fresh signing secret), activation, changes, and
their dead letters, for the management API and ``sessile webhooks`` alike.

Each endpoint signs its deliveries by the scheme chosen at creation
(:mod:`.signing`): RSASSA-PSS by a key of the app's JWKS unless it asks for HMAC. Its HMAC
secret is made either way and shown once, only to an HMAC endpoint.

Activation follows Prelude's challenge (PRELUDE-API §5.2): a GET to the endpoint with
``event=activate``, ``verification_token`` (the one given at creation), ``challenge`` (a
random integer) and ``app_id``; the endpoint answers 200 with ``{"challenge": <the
integer>}`` (Prelude's current answer; the bare integer too) or ``{"verification_token":
"<the token>"}`` (its former one). Only then does it receive events.

An endpoint's URL may not point into the server's own networks (loopback, private,
link-local and other non-public addresses) unless the operator allows it
(``SESSILE_EVENT_ALLOW_PRIVATE_URLS``): a key holder must not make the server probe them.
It is checked here when the URL is set, and again on every call (:mod:`.egress`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from sessile.clock import Clock
from sessile.errors import BadRequest, NotFound
from sessile.events import egress
from sessile.events.signing import HMAC_SHA256, RSASSA_PSS_SHA256
from sessile.events.worker import secret_box
from sessile.ids import new_id
from sessile.store.events import EventStore, OutboxStats, QueuedEvent
from sessile.store.webhooks import Webhook, WebhookStore

__all__ = ["EndpointPolicy", "Webhooks"]


@dataclass(frozen=True)
class EndpointPolicy:
    app_id: str
    #: Seconds the activation challenge may take.
    timeout: float
    #: Whether an endpoint may point at a loopback or private address (tests, labs).
    allow_private_urls: bool = False


class Webhooks:
    def __init__(
        self,
        store: WebhookStore,
        events: EventStore,
        server_secret: bytes,
        clock: Clock,
        policy: EndpointPolicy,
    ) -> None:
        self._store = store
        self._events = events
        self._box = secret_box(server_secret)
        self._clock = clock
        self._policy = policy

    async def create(
        self,
        *,
        url: str,
        events: Sequence[str],
        verification_token: str,
        signature: str = RSASSA_PSS_SHA256,
    ) -> tuple[Webhook, str | None]:
        """A new, inactive endpoint, and its HMAC secret when it signs with it (shown once)."""
        await self._check_url(url)
        webhook_id = new_id("web")
        secret = "whsec_" + secrets.token_urlsafe(32)
        now = self._clock.now()
        webhook = Webhook(
            id=webhook_id,
            url=url,
            events=tuple(dict.fromkeys(events)),
            verification_token=verification_token,
            secret_encrypted=self._box.encrypt(secret.encode(), webhook_id.encode()),
            active=False,
            created_at=now,
            updated_at=now,
            last_http_code=None,
            last_http_code_at=None,
            signature=signature,
        )
        await self._store.create(webhook)
        return webhook, secret if signature == HMAC_SHA256 else None

    async def existing(self, webhook_id: str) -> Webhook:
        webhook = await self._store.get(webhook_id)
        if webhook is None:
            raise NotFound("No such webhook.")
        return webhook

    async def all(self) -> list[Webhook]:
        return await self._store.list()

    async def update(
        self, webhook_id: str, *, url: str | None = None, events: Sequence[str] | None = None
    ) -> Webhook:
        """Change the event filter, or the URL (the endpoint must be activated again)."""
        current = await self.existing(webhook_id)
        values: dict[str, object] = {}
        if events is not None:
            values["events"] = list(dict.fromkeys(events))
        if url is not None and url != current.url:
            await self._check_url(url)
            values.update(url=url, active=False)
        updated = await self._store.update(webhook_id, now=self._clock.now(), **values)
        if updated is None:
            raise NotFound("No such webhook.")
        return updated

    async def add_event(self, webhook_id: str, event_type: str) -> Webhook:
        """Subscribe the endpoint to one more event (a no-op when it already is)."""
        current = await self.existing(webhook_id)
        if event_type in current.events:
            return current
        return await self.update(webhook_id, events=[*current.events, event_type])

    async def delete(self, webhook_id: str) -> bool:
        return await self._store.delete(webhook_id)

    async def activate(self, webhook_id: str) -> Webhook:
        """Send the activation challenge; activate when it is echoed, else ``bad_request``."""
        webhook = await self.existing(webhook_id)
        challenge = secrets.randbelow(2**53)
        params = {
            "event": "activate",
            "verification_token": webhook.verification_token,
            "challenge": str(challenge),
            "app_id": self._policy.app_id,
        }
        try:
            async with egress.client(
                timeout=self._policy.timeout, allow_private=self._policy.allow_private_urls
            ) as client:
                response = await client.get(webhook.url, params=params)
        except httpx.HTTPError as exc:
            raise BadRequest("The endpoint could not be reached for its activation.") from exc
        if response.status_code != 200 or not _echoes(
            response.text, challenge, webhook.verification_token
        ):
            raise BadRequest("The endpoint did not answer the activation challenge.")
        updated = await self._store.update(webhook_id, now=self._clock.now(), active=True)
        if updated is None:
            raise NotFound("No such webhook.")
        return updated

    async def dead_letters(self, webhook_id: str, *, limit: int = 100) -> list[QueuedEvent]:
        """Events given up on after the retry horizon, oldest first."""
        await self.existing(webhook_id)
        return await self._events.dead_letters(webhook_id, limit=limit)

    async def redeliver(self, webhook_id: str, event_ids: Sequence[str] | None = None) -> int:
        """Queue dead letters again (all, or those named), with a fresh retry horizon."""
        await self.existing(webhook_id)
        return await self._events.redeliver(webhook_id, now=self._clock.now(), event_ids=event_ids)

    async def outbox(self) -> OutboxStats:
        """How many events wait for delivery, and how old the oldest is (for /metrics)."""
        return await self._events.stats()

    async def _check_url(self, url: str) -> None:
        """Refuse a non-public endpoint when it is registered; delivery checks again."""
        if self._policy.allow_private_urls:
            return
        host = urlsplit(url).hostname or ""
        try:
            await egress.resolve_public(host)
        except OSError as exc:
            raise BadRequest(f"The webhook host {host!r} does not resolve.") from exc
        except egress.NonPublicAddress as exc:
            raise BadRequest(
                "The webhook URL points at a loopback, private or otherwise non-public "
                "address (SESSILE_EVENT_ALLOW_PRIVATE_URLS allows it)."
            ) from exc


def _echoes(text: str, challenge: int, verification_token: str) -> bool:
    """Whether the answer is one Prelude documents: the challenge back (as an integer, or
    the body being that integer), or the verification token back."""
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    if isinstance(answer, dict):
        token = answer.get("verification_token")
        if "challenge" not in answer and isinstance(token, str):
            return secrets.compare_digest(token.encode(), verification_token.encode())
        answer = answer.get("challenge")
    return type(answer) is int and answer == challenge
