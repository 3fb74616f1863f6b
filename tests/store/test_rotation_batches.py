"""Rotations that wait for a connection share a statement, each row checked as if alone.

On PostgreSQL only (SQLite has no batches). The driver has two connections, so one
rotation runs alone at a time and those that arrive meanwhile wait, then go together.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa

from sessile.errors import ServiceUnavailable
from sessile.store.database import Database
from sessile.store.drivers import Row, Statement
from sessile.store.drivers.postgres import PostgresDriver
from sessile.store.engine import create_engine
from sessile.store.rotation_batches import LARGEST
from sessile.store.session_rows import Rotation, SessionRow
from sessile.store.sessions import SessionStore
from tests import services
from tests.store.rotations import carried
from tests.store.rotations import rotate as _rotate
from tests.store.rotations import rotated_as_asked as _rotated_as_asked
from tests.store.rotations import sessions as _sessions
from tests.store.rotations import untouched as _untouched


class Watched(PostgresDriver):
    """The real driver, noting how many rows each rotation statement carried."""

    def __init__(self, url: str) -> None:
        super().__init__(url, max_size=2)
        self.carried: list[int] = []

    async def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        if statement.sql.lstrip().startswith("WITH key_rows"):
            self.carried.append(len(params["id_batch"]) if "id_batch" in params else 1)
        return await super().rows(statement, params)


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[Database]:
    db = await services.ready(Database(create_engine(postgres_url), Watched(postgres_url)))
    try:
        yield db
    finally:
        await db.close()


async def test_waiting_rotations_go_as_one_statement(database: Database) -> None:
    rows = await _sessions(database, 8)
    tasks = [_rotate(database.sessions, row) for row in rows]
    results = await asyncio.gather(*tasks)

    # The first ran alone; the seven that arrived meanwhile went together.
    assert carried(database) == [1, 7]
    await _rotated_as_asked(database, rows, results)


async def test_a_batch_carries_at_most_its_largest(database: Database) -> None:
    rows = await _sessions(database, LARGEST + 6)
    results = await asyncio.gather(*(_rotate(database.sessions, row) for row in rows))

    assert carried(database) == [1, LARGEST, 5]
    assert [r.id if r else None for r in results] == [row.id for row in rows]


async def test_each_row_of_a_batch_is_checked_as_if_alone(database: Database) -> None:
    rows = await _sessions(
        database, 9, ses_5={"revoked_at": 15.0, "revoked_reason": "logout"},
        ses_6={"last_proof_iat": 25.0, "last_proof_jti": "newer"},
    )  # fmt: skip
    store = database.sessions
    tasks = [
        _rotate(store, rows[0]),  # runs alone, first
        _rotate(store, rows[1]),  # the one valid rotation of the batch
        _rotate(store, rows[2], current_hash="forged"),
        _rotate(store, rows[3], generation=4),
        _rotate(store, rows[4], jkt="another key"),
        _rotate(store, rows[5]),  # revoked
        _rotate(store, rows[6]),  # its key took a newer proof already
        _rotate(store, rows[7], now=2000.0),  # past its end
        _rotate(store, rows[8], idle_since=15.0),  # idle since its last use
    ]
    results = await asyncio.gather(*tasks)

    assert [r is not None for r in results] == [True, True] + [False] * 7
    assert carried(database) == [1, 8]
    await _untouched(database, rows[2:])


async def test_a_proof_is_taken_once_by_the_sessions_of_its_key(database: Database) -> None:
    shared = {"jkt": "one-key"}
    rows = await _sessions(database, 4, ses_1=shared, ses_2=shared, ses_3=shared)
    store = database.sessions
    # ses_0 keeps the connection; the three sessions of one key wait, each with the same
    # proof (a replay on the key's other sessions), and one of them with its token twice.
    tasks = [_rotate(store, rows[0])]
    tasks += [_rotate(store, row, iat=30.0, jti="replayed") for row in rows[1:]]
    tasks += [_rotate(store, rows[1], iat=30.0, jti="replayed")]
    results = await asyncio.gather(*tasks)

    assert results[0] is not None
    assert sum(r is not None for r in results[1:]) == 1
    # A key's rotations never share a statement: each went alone, in turn.
    assert carried(database) == [1, 1, 1, 1, 1]
    took = [await database.sessions.get(row.id) for row in rows[1:]]
    assert sum(row is not None and row.last_proof_jti == "replayed" for row in took) == 1


async def test_a_row_the_database_refuses_fails_alone(database: Database) -> None:
    """A proof's jti that no database stores (the proof's checks refuse it before) fails
    the batch's statement: its rows then go alone, and only that caller sees the error."""
    rows = await _sessions(database, 4)
    store = database.sessions
    tasks = [_rotate(store, row, jti="nul\x00" if row.id == "ses_2" else None) for row in rows]
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[2], asyncpg.DataError), results[2]
    assert [isinstance(r, Rotation) for r in results] == [True, True, False, True]
    assert carried(database) == [1, 3, 1, 1, 1]
    untouched = await database.sessions.get("ses_2")
    assert untouched is not None
    assert untouched.generation == 0


async def test_a_cancelled_waiter_leaves_the_rest_to_rotate(database: Database) -> None:
    rows = await _sessions(database, 4)
    tasks = [_rotate(database.sessions, row) for row in rows]
    await asyncio.sleep(0)  # all four started; three wait
    tasks[2].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[2], asyncio.CancelledError)
    assert all(isinstance(r, Rotation) for i, r in enumerate(results) if i != 2)
    assert carried(database) == [1, 2]
    untouched = await database.sessions.get("ses_2")
    assert untouched is not None
    assert untouched.generation == 0


async def test_a_database_that_is_down_fails_each_waiter(postgres_url: str) -> None:
    down = sa.make_url(postgres_url).set(host="127.0.0.1", port=9).render_as_string(False)
    driver = PostgresDriver(down, max_size=2, timeout=2.0)
    store = SessionStore(driver)
    row = SessionRow(
        id="ses_x", user_id="u", jkt="k", auth_method="otp", refresh_hash="h", generation=0,
        previous_hash=None, rotated_at=None, created_at=0.0, last_seen_at=0.0,
        expires_at=1.0, revoked_at=None, revoked_reason=None, device_type="desktop",
        device_model=None, os_version=None, browser=None, country_code=None, ip=None,
        user_agent=None,
    )  # fmt: skip
    try:
        keys = [dataclasses.replace(row, id=f"ses_{n}", jkt=f"k{n}") for n in range(4)]
        results = await asyncio.gather(*(_rotate(store, r) for r in keys), return_exceptions=True)
    finally:
        await driver.close()
    assert all(isinstance(r, ServiceUnavailable) for r in results), results
