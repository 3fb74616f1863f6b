"""Configuration set through the management API, shared by every node: one JSON document
per name, with a version that grows on every write. A write records its audit event in the
same transaction, so no change goes unrecorded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sessile.store.audit import audit_steps
from sessile.store.drivers import IntegrityViolation, Steps
from sessile.store.schema import app_config
from sessile.store.sql import Store, fetch, prepared

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


def _document(record: Mapping[str, Any]) -> ConfigDocument:
    return ConfigDocument(
        name=record["name"],
        value=record["value"],
        version=record["version"],
        created_at=(
            record["created_at"] if record["created_at"] is not None else record["updated_at"]
        ),
        updated_at=record["updated_at"],
    )


_COLUMNS = (
    app_config.c.name,
    app_config.c.value,
    app_config.c.version,
    app_config.c.created_at,
    app_config.c.updated_at,
)
_THIS = app_config.c.name == sa.bindparam("name")

_GET = prepared(lambda: sa.select(*_COLUMNS).where(_THIS))
_ALL = prepared(lambda: sa.select(*_COLUMNS))
_UPDATE = prepared(
    lambda: (
        app_config.update()
        .where(_THIS)
        .values(
            value=sa.bindparam("value"),
            updated_at=sa.bindparam("now"),
            version=app_config.c.version + 1,
        )
        .returning(*_COLUMNS)
    )
)
_INSERT = prepared(
    lambda: (
        app_config.insert()
        .values(
            name=sa.bindparam("name"),
            value=sa.bindparam("value"),
            version=1,
            created_at=sa.bindparam("now"),
            updated_at=sa.bindparam("now"),
        )
        .returning(*_COLUMNS)
    )
)
_DELETE = prepared(lambda: app_config.delete().where(_THIS).returning(app_config.c.name))


class AppConfigStore(Store):
    async def get(self, name: str) -> Any:
        """The value stored under ``name``, or None."""
        document = await self.document(name)
        return None if document is None else document.value

    async def document(self, name: str) -> ConfigDocument | None:
        record = await self._record(_GET.on(self.dialect), name=name)
        return None if record is None else _document(record)

    async def all(self) -> dict[str, ConfigDocument]:
        records = await self._records(_ALL.on(self.dialect))
        return {record["name"]: _document(record) for record in records}

    async def put(self, name: str, value: Any, *, now: float) -> ConfigDocument:
        """Store ``value`` under ``name`` (a new version), with its audit event."""
        try:
            return await self.transaction(self._put(name, value, now=now))
        except IntegrityViolation:
            # Two first writes raced: both found no row, the other inserted first. The
            # row is there now, so this write becomes its next version.
            return await self.transaction(self._put(name, value, now=now))

    def _put(self, name: str, value: Any, *, now: float) -> Steps[ConfigDocument]:
        params = {"name": name, "value": value, "now": now}
        records = yield from fetch(_UPDATE.on(self.dialect), **params)
        if not records:
            records = yield from fetch(_INSERT.on(self.dialect), **params)
        document = _document(records[0])
        yield from audit_steps(
            self.dialect,
            CONFIG_CHANGED,
            now=now,
            data={"name": name, "version": document.version},
        )
        return document

    async def delete(self, name: str, *, now: float) -> bool:
        def steps() -> Steps[bool]:
            deleted = yield from fetch(_DELETE.on(self.dialect), name=name)
            if deleted:
                yield from audit_steps(
                    self.dialect, CONFIG_CHANGED, now=now, data={"name": name, "version": None}
                )
            return bool(deleted)

        return await self.transaction(steps())
