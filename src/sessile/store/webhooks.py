"""Webhook endpoints: URL, event filter, signature scheme, encrypted HMAC secret,
activation state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from sessile.store.schema import webhooks
from sessile.store.sql import Store, bound, names, numbered, prepared, shaped

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


_COLUMNS = [field.name for field in fields(Webhook)]
_SELECT = sa.select(*[webhooks.c[name] for name in _COLUMNS])
_THIS = webhooks.c.id == sa.bindparam("id")


def _webhook(record: Mapping[str, Any]) -> Webhook:
    return Webhook(**{**record, "events": tuple(record["events"])})


def _update(changed: tuple[str, ...]) -> sa.Update:
    return (
        webhooks.update()
        .where(_THIS)
        .values(bound("updated_at", *changed))
        .returning(*[webhooks.c[name] for name in _COLUMNS])
    )


class WebhookStore(Store):
    _insert = prepared(lambda: webhooks.insert().values(bound(*_COLUMNS)))
    _get = prepared(lambda: _SELECT.where(_THIS))
    _list = prepared(lambda: _SELECT.order_by(webhooks.c.created_at, webhooks.c.id))
    _answered = prepared(
        lambda: (
            webhooks.update()
            .where(_THIS)
            .values(last_http_code=sa.bindparam("status"), last_http_code_at=sa.bindparam("now"))
        )
    )
    _delete = prepared(lambda: webhooks.delete().where(_THIS).returning(webhooks.c.id))

    async def create(self, webhook: Webhook) -> None:
        await self._records(self._insert, **{**webhook.__dict__, "events": list(webhook.events)})

    async def get(self, webhook_id: str) -> Webhook | None:
        record = await self._record(self._get, id=webhook_id)
        return None if record is None else _webhook(record)

    async def list(self) -> list[Webhook]:
        return [_webhook(r) for r in await self._records(self._list)]

    async def many(self, webhook_ids: Sequence[str]) -> dict[str, Webhook]:
        if not webhook_ids:
            return {}
        count = len(webhook_ids)
        statement = shaped(
            self.dialect,
            ("webhooks.many", count),
            lambda: _SELECT.where(webhooks.c.id.in_(names("id", count))),
        )
        records = await self._records(statement, **numbered("id", webhook_ids))
        return {r["id"]: _webhook(r) for r in records}

    async def update(self, webhook_id: str, *, now: float, **values: Any) -> Webhook | None:
        if "events" in values:
            values["events"] = list(values["events"])
        changed = tuple(sorted(values))
        statement = shaped(self.dialect, ("webhooks.update", changed), lambda: _update(changed))
        record = await self._record(statement, **values, id=webhook_id, updated_at=now)
        return None if record is None else _webhook(record)

    async def answered(self, webhook_id: str, *, status: int, now: float) -> None:
        """Remember the last HTTP status the endpoint answered a delivery with."""
        await self._records(self._answered, id=webhook_id, status=status, now=now)

    async def delete(self, webhook_id: str) -> bool:
        return await self._changed(self._delete, id=webhook_id) == 1
