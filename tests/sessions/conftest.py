from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import LiveServer, live_server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A real ``sessile serve`` on loopback, on SQLite or on PostgreSQL, shared by a module."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("new_postgres_database")()
    with live_server(tmp_path_factory.mktemp("data"), database_url) as live:
        yield live
