"""Management API key rows: the key's id, name and scopes, and the hash of its secret."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import api_keys

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


class ApiKeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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
        async with self._engine.begin() as conn:
            await conn.execute(
                api_keys.insert().values(
                    id=key_id, name=name, secret_hash=secret_hash, created_at=now, scopes=kept
                )
            )
        return ApiKey(key_id, name, now, None, None, _scopes(kept))

    async def active(self, key_id: str) -> tuple[ApiKey, str] | None:
        """A key that is not revoked, and the hash of its secret."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(api_keys.select().where(api_keys.c.id == key_id))).first()
        if row is None or row.revoked_at is not None:
            return None
        key = ApiKey(row.id, row.name, row.created_at, row.last_used_at, None, _scopes(row.scopes))
        return key, row.secret_hash

    async def mark_used(self, key_id: str, *, now: float) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now)
            )

    async def list(self) -> list[ApiKey]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(api_keys.select().order_by(api_keys.c.created_at))).all()
        return [
            ApiKey(r.id, r.name, r.created_at, r.last_used_at, r.revoked_at, _scopes(r.scopes))
            for r in rows
        ]

    async def revoke(self, key_id: str, *, now: float) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return result.rowcount == 1
