"""A real server on loopback plus direct access to its database, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from sessile.api_keys import ApiKeys
from sessile.audit_trail import AuditTrail
from sessile.clock import SystemClock
from sessile.sessions import ChallengeTokens
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User
from tests.server import SECRET_KEY, RunningServer, run_server

__all__ = ["LiveServer", "live_server", "live_server_for_param"]

T = TypeVar("T")


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` to completion on a loop of its own, in a thread, so that helpers also
    serve tests that are themselves running on an event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work()).result()


@dataclass
class LiveServer:
    server: RunningServer
    database_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        """Wait until the server's delivery worker has settled every queued message."""

        async def work() -> None:
            db = Database.from_url(self.database_url)
            try:
                deadline = time.monotonic() + timeout
                while await db.deliveries.pending():
                    assert time.monotonic() < deadline, "the delivery queue did not drain"
                    await asyncio.sleep(0.02)
            finally:
                await db.close()

        _run(work)

    def messages(self, to: str) -> list[dict[str, str]]:
        """What the development outbox holds for ``to`` once the queue is sent, oldest first."""
        self.wait_for_deliveries()
        outbox = Path(self.server.log).parent / "outbox.jsonl"
        if not outbox.exists():
            return []
        entries = [json.loads(line) for line in outbox.read_text().splitlines()]
        return [e for e in entries if e["to"] == to]

    def last_message(self, to: str) -> dict[str, str]:
        mine = self.messages(to)
        assert mine, f"no message to {to} in the outbox"
        return mine[-1]

    def user(self, identifier: Identifier) -> User | None:
        async def work() -> User | None:
            db = Database.from_url(self.database_url)
            try:
                return await db.users.find_by_identifier(identifier)
            finally:
                await db.close()

        return _run(work)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``sessile`` on this server's database and secret."""
        env = {
            **os.environ,
            "SESSILE_DATABASE_URL": self.database_url,
            "SESSILE_SECRET_KEY": SECRET_KEY,
            "SESSILE_DATA_DIR": str(Path(self.server.log).parent),
        }
        return subprocess.run(
            [sys.executable, "-m", "sessile", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def user_by_email(self, email: str) -> User:
        user = self.user(Identifier("email_address", email))
        assert user is not None, f"no user with {email}"
        return user

    def api_key(self) -> str:
        """A new management API key for this server's database."""

        async def work() -> str:
            db = Database.from_url(self.database_url)
            try:
                keys = ApiKeys(db.api_keys, AuditTrail(db.audit, SystemClock()), SystemClock())
                return (await keys.create("tests"))[1]
            finally:
                await db.close()

        return _run(work)

    def new_user(self, email: str | None = None) -> str:
        async def work() -> str:
            db = Database.from_url(self.database_url)
            try:
                idents = [Identifier("email_address", email)] if email else []
                return (await db.users.create(now=SystemClock().now(), identifiers_=idents)).id
            finally:
                await db.close()

        return _run(work)

    def challenge(self, user_id: str, auth_method: str = "password") -> str:
        """A challenge token, as the login endpoints hand out, for ``/login/finalize``."""

        async def work() -> str:
            db = Database.from_url(self.database_url)
            try:
                tokens = ChallengeTokens(db.challenges, SystemClock())
                return await tokens.issue(user_id=user_id, auth_method=auth_method)
            finally:
                await db.close()

        return _run(work)


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
