from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sessile.store.database import Database
from sessile.store.migrate import current_revision, head_revision, upgrade
from sessile.store.schema import metadata


@pytest.mark.parametrize("fresh_database_url", ["sqlite", "postgres"], indirect=True)
async def test_upgrade_from_empty_creates_every_table(fresh_database_url: str) -> None:
    db = Database.from_url(fresh_database_url)
    try:
        async with db.engine.connect() as conn:
            before = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert not {t.name for t in metadata.sorted_tables} & before

        await upgrade(db.engine)

        async with db.engine.connect() as conn:
            after = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert {t.name for t in metadata.sorted_tables} <= after
        assert await current_revision(db.engine) == head_revision()
        # A second upgrade is a no-op, as at every `sessile serve` start.
        await upgrade(db.engine)
        assert await current_revision(db.engine) == head_revision()
    finally:
        await db.close()


async def test_schema_matches_the_models(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    async with database.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata)
        )
    assert diff == []


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'sessile.db'}")
    try:
        async with db.engine.connect() as conn:
            mode = await conn.scalar(sa.text("PRAGMA journal_mode"))
            foreign_keys = await conn.scalar(sa.text("PRAGMA foreign_keys"))
        assert mode == "wal"
        assert foreign_keys == 1
        assert (tmp_path / "nested" / "sessile.db").exists(), "the folder is made on first start"
    finally:
        await db.close()
