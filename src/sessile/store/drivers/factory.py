"""The driver for a database URL."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from sessile.store.drivers.base import Driver
from sessile.store.drivers.postgres import PostgresDriver
from sessile.store.drivers.sqlite import SqliteDriver

__all__ = ["create_driver"]


def create_driver(url: str, *, timeout: float = 30.0) -> Driver:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("the hot statements need an SQLite file, not an in-memory database")
        return SqliteDriver(parsed.database)
    if backend == "postgresql":
        return PostgresDriver(url, timeout=timeout)
    raise ValueError(f"unsupported database {backend!r}")
