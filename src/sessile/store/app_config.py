"""Configuration set through the management API, shared by every node (a JSON per name)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import app_config

__all__ = ["AppConfigStore"]


class AppConfigStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, name: str) -> Any:
        async with self._engine.connect() as conn:
            return await conn.scalar(sa.select(app_config.c.value).where(app_config.c.name == name))

    async def put(self, name: str, value: Any, *, now: float) -> None:
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                app_config.update()
                .where(app_config.c.name == name)
                .values(value=value, updated_at=now)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    app_config.insert().values(name=name, value=value, updated_at=now)
                )
