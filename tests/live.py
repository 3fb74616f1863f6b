"""A real server on loopback plus direct access to its database, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from sessile.clock import SystemClock
from sessile.sessions import ChallengeTokens
from sessile.store.database import Database
from sessile.store.users import Identifier
from tests.server import RunningServer, run_server

__all__ = ["LiveServer", "live_server", "live_server_for_param"]


@dataclass
class LiveServer:
    server: RunningServer
    database_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def new_user(self, email: str | None = None) -> str:
        async def work() -> str:
            db = Database.from_url(self.database_url)
            try:
                idents = [Identifier("email_address", email)] if email else []
                return (await db.users.create(now=SystemClock().now(), identifiers_=idents)).id
            finally:
                await db.close()

        return asyncio.run(work())

    def api_key(self) -> str:
        """A management API key, as ``sessile apikeys create`` makes one."""

        async def work() -> str:
            db = Database.from_url(self.database_url)
            try:
                _, secret = await db.api_keys.create("tests", now=SystemClock().now())
                return secret
            finally:
                await db.close()

        return asyncio.run(work())

    def challenge(self, user_id: str, auth_method: str = "password") -> str:
        """A challenge token, as the login endpoints hand out, for ``/login/finalize``."""

        async def work() -> str:
            db = Database.from_url(self.database_url)
            try:
                tokens = ChallengeTokens(db.challenges, SystemClock())
                return await tokens.issue(user_id=user_id, auth_method=auth_method)
            finally:
                await db.close()

        return asyncio.run(work())


def live_server_for_param(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    env: Mapping[str, str] | None = None,
    name: str = "server",
) -> contextlib.AbstractContextManager[LiveServer]:
    """A live server on the database a fixture's ``request.param`` names: "sqlite" or
    "postgres" (a PostgreSQL database of its own)."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("new_postgres_database")()
    return live_server(tmp_path_factory.mktemp(name), database_url, env)


@contextlib.contextmanager
def live_server(
    data_dir: Path,
    database_url: str | None = None,
    env: Mapping[str, str] | None = None,
    **kw: object,
) -> Iterator[LiveServer]:
    url = database_url or f"sqlite+aiosqlite:///{data_dir / 'sessile.db'}"
    with run_server(data_dir, {"SESSILE_DATABASE_URL": url, **(env or {})}, **kw) as server:  # type: ignore[arg-type]
        yield LiveServer(server, url)
