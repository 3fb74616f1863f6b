from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from sessile.store.database import Database
from tests import services
from tests.apps import make_client
from tests.live import LiveServer, live_server, live_server_for_param


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database for the store tests of this run, emptied before each test."""
    services.require_postgres()
    url = services.create_postgres_database()
    try:
        yield url
    finally:
        services.drop_postgres_database(url)


@pytest.fixture(scope="session")
def new_postgres_database() -> Iterator[Callable[[], str]]:
    """Make PostgreSQL databases of their own (servers keep secrets there); drop them after."""
    services.require_postgres()
    made: list[str] = []

    def make() -> str:
        made.append(services.create_postgres_database())
        return made[-1]

    try:
        yield make
    finally:
        for url in made:
            services.drop_postgres_database(url)


@pytest.fixture
def own_postgres_url(new_postgres_database: Callable[[], str]) -> str:
    """A PostgreSQL database of this test's own (made outside any event loop)."""
    return new_postgres_database()


@pytest.fixture
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody else has touched: a new file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    services.require_postgres()
    url = services.create_postgres_database()
    try:
        yield url
    finally:
        services.drop_postgres_database(url)


@pytest.fixture
def redis_url() -> str:
    services.require_redis()
    return services.REDIS_URL


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sessile.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database (the shared PostgreSQL one is emptied first)."""
    db = await services.ready(Database.from_url(database_url))
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real ``sessile serve`` on loopback (SQLite), shared by a module."""
    with live_server(tmp_path_factory.mktemp("server")) as live:
        yield live


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server_on_each_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real ``sessile serve`` on SQLite, then on PostgreSQL, shared by a module."""
    with live_server_for_param(request, tmp_path_factory) as live:
        yield live


__all__ = ["make_client"]
