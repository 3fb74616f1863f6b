"""Run the Alembic migrations on an engine, from sync or async code."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["current_revision", "head_revision", "upgrade"]

# Serialises concurrent `sessile serve` starts on one PostgreSQL.
_PG_MIGRATION_LOCK = 0x5E551E


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "sessile.store:migrations")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )
