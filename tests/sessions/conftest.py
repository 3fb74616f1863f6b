from __future__ import annotations

import pytest

from tests.live import LiveServer


@pytest.fixture(scope="module")
def server(server_on_each_database: LiveServer) -> LiveServer:
    """Every session test runs against a real server on SQLite and on PostgreSQL."""
    return server_on_each_database
