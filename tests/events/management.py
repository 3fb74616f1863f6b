"""A management API caller for the event tests, and the webhook set-up they share."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from sessile.api_keys import ApiKeys
from sessile.audit_trail import AuditTrail
from sessile.clock import SystemClock
from sessile.store.database import Database
from sessile.verify import WebhookKeys
from tests.events.receiver import VERIFICATION_TOKEN, Receiver
from tests.live import LiveServer

ALL_EVENTS = [
    "user.created",
    "user.deleted",
    "user.profile.updated",
    "user.identifier.created",
    "user.identifier.deleted",
    "user.session.created",
    "user.session.revoked",
]

#: Retries come fast in these tests (the defaults wait a minute, doubling up to 12 hours).
FAST_RETRIES = {"SESSILE_EVENT_BACKOFF_BASE": "0.2", "SESSILE_EVENT_BACKOFF_MAX": "0.5"}
#: The receivers listen on loopback, which endpoints may only point at when this is set.
LOOPBACK_ENDPOINTS = {"SESSILE_EVENT_ALLOW_PRIVATE_URLS": "true"}
SERVER_ENV = {**FAST_RETRIES, **LOOPBACK_ENDPOINTS}


def scoped_api_key(server: LiveServer, scopes: Sequence[str]) -> str:
    """A management API key of the server that holds only ``scopes``."""

    async def work() -> str:
        db = Database.from_url(server.database_url)
        try:
            keys = ApiKeys(db.api_keys, AuditTrail(db.audit, SystemClock()), SystemClock())
            return (await keys.create("scoped", scopes=scopes))[1]
        finally:
            await db.close()

    return asyncio.run(work())


class Management:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(
            base_url=base_url + "/v2/session/apps/default",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=30,
        )

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, (method, path, response.text)
        return response.json() if response.content else None

    def subscribe(
        self, receiver: Receiver, events: list[str] | None = None, signature: str | None = None
    ) -> str:
        """Create an endpoint for the receiver (signed as the server's default unless
        ``signature`` names a scheme), give it what checks the signatures, activate it;
        its id."""
        body = {
            "url": receiver.url,
            "events": events or ALL_EVENTS,
            "verification_token": VERIFICATION_TOKEN,
        }
        if signature is not None:
            body["signature"] = signature
        created = self.call("POST", "/webhooks", 201, json=body)
        assert created["webhook"]["active"] is False
        if created["webhook"]["signature"] == "hmac-sha256":
            receiver.secrets.append(created["secret"])
        else:
            assert "secret" not in created
            receiver.keys = WebhookKeys(self.base_url, min_refetch_interval=0.1)
        webhook_id: str = created["webhook"]["id"]
        activated = self.call("POST", f"/webhooks/{webhook_id}/activate")
        assert activated["webhook"]["active"] is True
        return webhook_id

    def create_user(self, email: str, **body: Any) -> dict[str, Any]:
        identifiers = [{"type": "email_address", "value": email}]
        user: dict[str, Any] = self.call(
            "POST", "/users", 201, json={"identifiers": identifiers, **body}
        )
        return user
