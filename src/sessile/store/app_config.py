"""Configuration set through the management API, shared by every node: one JSON document
per name, with a version that grows on every write. A write records its audit event in the
same transaction, so no change goes unrecorded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.audit import record_audit
from sessile.store.schema import app_config

__all__ = ["AppConfigStore", "ConfigDocument"]

#: The audit event of every configuration change.
CONFIG_CHANGED = "config.changed"


@dataclass(frozen=True)
class ConfigDocument:
    name: str
    value: Any
    #: 1 for the first write, one more for each later one.
    version: int
    created_at: float
    updated_at: float


def _document(row: Any) -> ConfigDocument:
    return ConfigDocument(
        name=row.name,
        value=row.value,
        version=row.version,
        created_at=row.created_at if row.created_at is not None else row.updated_at,
        updated_at=row.updated_at,
    )


class AppConfigStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, name: str) -> Any:
        """The value stored under ``name``, or None."""
        document = await self.document(name)
        return None if document is None else document.value

    async def document(self, name: str) -> ConfigDocument | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(app_config.select().where(app_config.c.name == name))).first()
        return None if row is None else _document(row)

    async def all(self) -> dict[str, ConfigDocument]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(app_config.select())).all()
        return {row.name: _document(row) for row in rows}

    async def put(self, name: str, value: Any, *, now: float) -> ConfigDocument:
        """Store ``value`` under ``name`` (a new version), with its audit event."""
        try:
            return await self._put(name, value, now=now)
        except IntegrityError:
            # Two first writes raced: both found no row, the other inserted first. The
            # row is there now, so this write becomes its next version.
            return await self._put(name, value, now=now)

    async def _put(self, name: str, value: Any, *, now: float) -> ConfigDocument:
        async with self._engine.begin() as conn:
            updated = await conn.execute(
                app_config.update()
                .where(app_config.c.name == name)
                .values(value=value, updated_at=now, version=app_config.c.version + 1)
            )
            if updated.rowcount == 0:
                await conn.execute(
                    app_config.insert().values(
                        name=name, value=value, version=1, created_at=now, updated_at=now
                    )
                )
            row = (await conn.execute(app_config.select().where(app_config.c.name == name))).one()
            document = _document(row)
            await record_audit(
                conn, CONFIG_CHANGED, now=now, data={"name": name, "version": document.version}
            )
        return document

    async def delete(self, name: str, *, now: float) -> bool:
        async with self._engine.begin() as conn:
            deleted = await conn.execute(app_config.delete().where(app_config.c.name == name))
            if deleted.rowcount:
                await record_audit(
                    conn, CONFIG_CHANGED, now=now, data={"name": name, "version": None}
                )
        return bool(deleted.rowcount)
