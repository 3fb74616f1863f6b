"""Management API key rows: the key's id, name and scopes, and the hash of its secret."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sessile.store.schema import api_keys
from sessile.store.sql import Store, bound, prepared

__all__ = ["ApiKey", "ApiKeyStore"]


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None
    #: None: every scope (a key made without scopes).
    scopes: tuple[str, ...] | None = None

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


def _scopes(value: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _key(record: Mapping[str, Any]) -> ApiKey:
    return ApiKey(
        record["id"],
        record["name"],
        record["created_at"],
        record["last_used_at"],
        record["revoked_at"],
        _scopes(record["scopes"]),
    )


_THIS = api_keys.c.id == sa.bindparam("id")


class ApiKeyStore(Store):
    _insert = prepared(
        lambda: api_keys.insert().values(bound("id", "name", "secret_hash", "created_at", "scopes"))
    )
    _get = prepared(lambda: api_keys.select().where(_THIS))
    _mark_used = prepared(
        lambda: api_keys.update().where(_THIS).values(last_used_at=sa.bindparam("now"))
    )
    _list = prepared(lambda: api_keys.select().order_by(api_keys.c.created_at))
    _revoke = prepared(
        lambda: (
            api_keys.update()
            .where(_THIS, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=sa.bindparam("now"))
            .returning(api_keys.c.id)
        )
    )

    async def create(
        self,
        key_id: str,
        *,
        name: str,
        secret_hash: str,
        now: float,
        scopes: Sequence[str] | None = None,
    ) -> ApiKey:
        """Store a key (with ``scopes``, or every scope when None)."""
        kept = None if scopes is None else list(dict.fromkeys(scopes))
        await self._records(
            self._insert, id=key_id, name=name, secret_hash=secret_hash, created_at=now, scopes=kept
        )
        return ApiKey(key_id, name, now, None, None, _scopes(kept))

    async def active(self, key_id: str) -> tuple[ApiKey, str] | None:
        """A key that is not revoked, and the hash of its secret."""
        record = await self._record(self._get, id=key_id)
        if record is None or record["revoked_at"] is not None:
            return None
        return _key(record), record["secret_hash"]

    async def mark_used(self, key_id: str, *, now: float) -> None:
        await self._records(self._mark_used, id=key_id, now=now)

    async def list(self) -> list[ApiKey]:
        return [_key(r) for r in await self._records(self._list)]

    async def revoke(self, key_id: str, *, now: float) -> bool:
        return await self._changed(self._revoke, id=key_id, now=now) == 1
