"""Webhook endpoints: URL, event filter, signature scheme, encrypted HMAC secret,
activation state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import webhooks

__all__ = ["Webhook", "WebhookStore"]


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    events: tuple[str, ...]
    verification_token: str
    secret_encrypted: str
    active: bool
    created_at: float
    updated_at: float
    last_http_code: int | None
    last_http_code_at: float | None
    #: ``rsassa-pss-sha256`` (Prelude's current scheme) or ``hmac-sha256`` (its former one).
    signature: str = "rsassa-pss-sha256"


def _webhook(row: Any) -> Webhook:
    values = row._asdict()
    values["events"] = tuple(values["events"])
    return Webhook(**values)


class WebhookStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, webhook: Webhook) -> None:
        values = {**webhook.__dict__, "events": list(webhook.events)}
        async with self._engine.begin() as conn:
            await conn.execute(webhooks.insert().values(**values))

    async def get(self, webhook_id: str) -> Webhook | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(webhooks.select().where(webhooks.c.id == webhook_id))).first()
        return None if row is None else _webhook(row)

    async def list(self) -> list[Webhook]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                webhooks.select().order_by(webhooks.c.created_at, webhooks.c.id)
            )
            return [_webhook(r) for r in rows]

    async def many(self, webhook_ids: Sequence[str]) -> dict[str, Webhook]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(webhooks.select().where(webhooks.c.id.in_(webhook_ids)))
            return {r.id: _webhook(r) for r in rows}

    async def update(self, webhook_id: str, *, now: float, **values: Any) -> Webhook | None:
        if "events" in values:
            values["events"] = list(values["events"])
        async with self._engine.begin() as conn:
            result = await conn.execute(
                webhooks.update()
                .where(webhooks.c.id == webhook_id)
                .values(updated_at=now, **values)
                .returning(*webhooks.c)
            )
            row = result.first()
        return None if row is None else _webhook(row)

    async def answered(self, webhook_id: str, *, status: int, now: float) -> None:
        """Remember the last HTTP status the endpoint answered a delivery with."""
        async with self._engine.begin() as conn:
            await conn.execute(
                webhooks.update()
                .where(webhooks.c.id == webhook_id)
                .values(last_http_code=status, last_http_code_at=now)
            )

    async def delete(self, webhook_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(webhooks.delete().where(webhooks.c.id == webhook_id))
        return result.rowcount == 1
