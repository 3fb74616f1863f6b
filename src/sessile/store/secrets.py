"""Server secrets shared by every node through the database (encrypted at rest)."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from sessile.store.drivers import IntegrityViolation
from sessile.store.schema import server_secrets
from sessile.store.sql import Store, prepared

__all__ = ["ServerSecretStore"]


class ServerSecretStore(Store):
    _get = prepared(
        lambda: sa.select(server_secrets.c.value_encrypted).where(
            server_secrets.c.name == sa.bindparam("name")
        )
    )
    _insert = prepared(
        lambda: server_secrets.insert().values(
            name=sa.bindparam("name"),
            value_encrypted=sa.bindparam("value_encrypted"),
            created_at=sa.bindparam("created_at"),
        )
    )

    async def get(self, name: str) -> str | None:
        record = await self._record(self._get, name=name)
        return None if record is None else str(record["value_encrypted"])

    async def get_or_create(self, name: str, candidate: str, *, now: float) -> str:
        """Store ``candidate`` unless another node stored one first; return the winner."""
        with contextlib.suppress(IntegrityViolation):  # another node's is there
            await self._records(self._insert, name=name, value_encrypted=candidate, created_at=now)
        stored = await self.get(name)
        if stored is None:  # pragma: no cover - the row was inserted or already there
            raise RuntimeError(f"server secret {name!r} vanished")
        return stored
