"""On SQLite, the rotations of one turn of the event loop share one transaction, each
checked as if alone and in the order its request reached it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa

from sessile.errors import ServiceUnavailable
from sessile.store.database import Database
from sessile.store.drivers import Steps
from sessile.store.drivers.sqlite import SqliteDriver
from sessile.store.engine import create_engine
from sessile.store.session_rows import Rotation
from tests import services
from tests.store.rotations import carried, rotate, rotated_as_asked, sessions, untouched

T = TypeVar("T")


class Watched(SqliteDriver):
    """The real driver, noting how many statements each transaction ran."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.carried: list[int] = []

    def _finish(self, conn: sqlite3.Connection, steps: Steps[T]) -> T:
        before = self._writes
        try:
            return super()._finish(conn, steps)
        finally:
            self.carried.append(self._writes - before)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "turns.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    db = await services.ready(Database(engine, Watched(str(path))))
    try:
        yield db
    finally:
        await db.close()


async def test_the_rotations_of_a_turn_go_as_one_transaction(database: Database) -> None:
    rows = await sessions(database, 8)
    results = await asyncio.gather(*(rotate(database.sessions, row) for row in rows))

    assert carried(database) == [8]
    await rotated_as_asked(database, rows, results)
    # A rotation in a later turn goes in a transaction of its own.
    assert await rotate(database.sessions, rows[0], generation=1, current_hash="h1-ses_0",
                        iat=21.0, jti="later") is not None  # fmt: skip
    assert carried(database) == [8, 1]


async def test_each_rotation_of_a_turn_is_checked_as_if_alone(database: Database) -> None:
    rows = await sessions(
        database, 8, ses_4={"revoked_at": 15.0, "revoked_reason": "logout"},
        ses_5={"last_proof_iat": 25.0, "last_proof_jti": "newer"},
    )  # fmt: skip
    store = database.sessions
    results = await asyncio.gather(
        rotate(store, rows[0]),  # the one valid rotation
        rotate(store, rows[1], current_hash="forged"),
        rotate(store, rows[2], generation=4),
        rotate(store, rows[3], jkt="another key"),
        rotate(store, rows[4]),  # revoked
        rotate(store, rows[5]),  # its key took a newer proof already
        rotate(store, rows[6], now=2000.0),  # past its end
        rotate(store, rows[7], idle_since=15.0),  # idle since its last use
    )

    assert [r is not None for r in results] == [True] + [False] * 7
    assert carried(database) == [8]
    await untouched(database, rows[1:])


async def test_a_proof_is_taken_once_by_the_sessions_of_its_key(database: Database) -> None:
    shared = {"jkt": "one-key"}
    rows = await sessions(database, 3, ses_1=shared, ses_2=shared, ses_0=shared)
    store = database.sessions
    # One proof replayed on the key's three sessions, and on one of them twice, in one turn.
    tasks = [rotate(store, row, iat=30.0, jti="replayed") for row in [*rows, rows[1]]]
    results = await asyncio.gather(*tasks)

    assert carried(database) == [4]
    # The first in the turn took it; every later one saw it taken.
    assert [r is not None for r in results] == [True, False, False, False]
    took = [await database.sessions.get(row.id) for row in rows]
    assert [row is not None and row.generation for row in took] == [1, 0, 0]


async def test_a_cancelled_rotation_never_runs(database: Database) -> None:
    rows = await sessions(database, 4)
    tasks = [rotate(database.sessions, row) for row in rows]
    await asyncio.sleep(0)  # all four reached their rotation; the turn's batch waits
    tasks[2].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[2], asyncio.CancelledError)
    assert all(isinstance(r, Rotation) for i, r in enumerate(results) if i != 2)
    assert carried(database) == [3]
    untouched = await database.sessions.get("ses_2")
    assert untouched is not None
    assert untouched.generation == 0


async def test_a_batch_waits_for_another_process_s_write_lock(
    database: Database, tmp_path: Path
) -> None:
    rows = await sessions(database, 3)
    other = sqlite3.connect(tmp_path / "turns.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's writer
        tasks = [rotate(database.sessions, row) for row in rows]
        turns = 0
        for _ in range(10):  # the loop keeps turning while the batch waits
            await asyncio.sleep(0.01)
            turns += 1
        assert turns == 10
        assert not any(task.done() for task in tasks)
        other.execute("COMMIT")
        results = await asyncio.gather(*tasks)
    finally:
        other.close()

    assert all(isinstance(r, Rotation) for r in results)
    assert carried(database) == [3]


async def test_a_database_that_fails_fails_each_rotation_of_the_turn(
    database: Database,
) -> None:
    rows = await sessions(database, 3)
    async with database.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE sessions"))
    results = await asyncio.gather(
        *(rotate(database.sessions, row) for row in rows), return_exceptions=True
    )

    assert all(isinstance(r, ServiceUnavailable) for r in results), results
    # The next turn's rotation tries again, on its own.
    with pytest.raises(ServiceUnavailable):
        await rotate(database.sessions, rows[0])
