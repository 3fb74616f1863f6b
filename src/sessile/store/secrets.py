"""Server secrets shared by every node through the database (encrypted at rest)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import server_secrets

__all__ = ["ServerSecretStore"]


class ServerSecretStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, name: str) -> str | None:
        async with self._engine.connect() as conn:
            value: str | None = await conn.scalar(
                sa.select(server_secrets.c.value_encrypted).where(server_secrets.c.name == name)
            )
        return value

    async def get_or_create(self, name: str, candidate: str, *, now: float) -> str:
        """Store ``candidate`` unless another node stored one first; return the winner."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    server_secrets.insert().values(
                        name=name, value_encrypted=candidate, created_at=now
                    )
                )
        except IntegrityError:
            pass
        stored = await self.get(name)
        if stored is None:  # pragma: no cover - the row was inserted or already there
            raise RuntimeError(f"server secret {name!r} vanished")
        return stored
