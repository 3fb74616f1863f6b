"""Real PostgreSQL and Redis for the tests, and the rule for when they are missing.

A test that needs a service skips with a clear reason when the service is not
running, unless ``SESSILE_TEST_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns the
skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from sessile.store.database import Database
from sessile.store.migrate import upgrade
from sessile.store.schema import metadata

POSTGRES_URL = os.environ.get(
    "SESSILE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("SESSILE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("SESSILE_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("SESSILE_TEST_REQUIRE_SERVICES", "") not in ("", "0", "false")


def missing(what: str, why: str) -> None:
    """Skip, or fail when services are required."""
    message = f"{what} is not available ({why})"
    if REQUIRED:
        pytest.fail(f"{message}; SESSILE_TEST_REQUIRE_SERVICES is set, so this is a failure")
    pytest.skip(message)


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    if not reachable(POSTGRES_URL, 5432):
        missing("PostgreSQL", f"nothing answers at {POSTGRES_URL}")


def require_redis() -> None:
    if not reachable(REDIS_URL, 6379):
        missing("Redis", f"nothing answers at {REDIS_URL}")


def require_chromium() -> None:
    if not os.path.exists(CHROMIUM) or shutil.which("node") is None:
        missing("Chromium", f"{CHROMIUM} or node is not installed")


def _admin_url() -> str:
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_admin_url(), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def create_postgres_database() -> str:
    """Create a database of this run's own and return its SQLAlchemy URL."""
    name = f"sessile_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def ready(db: Database) -> Database:
    """``db`` migrated and empty (a shared PostgreSQL database is emptied first)."""
    await upgrade(db.engine)
    if db.engine.dialect.name == "postgresql":
        async with db.engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            await conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))
    return db
