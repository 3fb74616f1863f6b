"""Management API keys: ``sk_<id>_<secret>``, stored as a SHA-256 of the secret."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import api_keys

__all__ = ["ApiKey", "ApiKeyStore"]

_SHAPE = re.compile(r"^sk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


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


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self, name: str, *, now: float, scopes: Sequence[str] | None = None
    ) -> tuple[ApiKey, str]:
        """Make a key (with ``scopes``, or every scope when None); the full key string is
        returned once and never stored."""
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        kept = None if scopes is None else list(dict.fromkeys(scopes))
        async with self._engine.begin() as conn:
            await conn.execute(
                api_keys.insert().values(
                    id=key_id, name=name, secret_hash=_hash(secret), created_at=now, scopes=kept
                )
            )
        return ApiKey(key_id, name, now, None, None, _scopes(kept)), f"sk_{key_id}_{secret}"

    async def authenticate(self, presented: str, *, now: float) -> ApiKey | None:
        match = _SHAPE.match(presented)
        if match is None:
            return None
        key_id, secret = match.groups()
        async with self._engine.connect() as conn:
            row = (await conn.execute(api_keys.select().where(api_keys.c.id == key_id))).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_hash, _hash(secret)):
            return None
        if row.last_used_at is None or now - row.last_used_at > 60:
            async with self._engine.begin() as conn:
                await conn.execute(
                    api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now)
                )
        return ApiKey(row.id, row.name, row.created_at, now, None, _scopes(row.scopes))

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
