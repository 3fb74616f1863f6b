"""The hot statements' drivers: sqlite3 beside the event loop, asyncpg from a pool."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from sessile.client import AsyncSessionClient, SessionClientError
from sessile.errors import ServiceUnavailable
from sessile.store.database import Database
from sessile.store.drivers.base import Statement, compile_statement
from sessile.store.drivers.postgres import PostgresDriver
from sessile.store.drivers.sqlite import CHECKPOINT_EVERY, WAL_SIZE_LIMIT, SqliteDriver
from sessile.store.migrate import upgrade
from sessile.store.schema import sessions
from sessile.store.session_statements import GET
from tests.apps import AppClient
from tests.proxy import TcpProxy


def test_a_statement_binds_only_named_parameters() -> None:
    literal = sessions.select().where(sessions.c.id == "ses_x")
    with pytest.raises(ValueError, match="name them"):
        compile_statement(literal, SqliteDriver.dialect)
    compiled = compile_statement(GET, SqliteDriver.dialect)
    assert compiled.names == ("id",)
    assert compiled.args({"id": "ses_x", "other": 1}) == ("ses_x",)


async def test_sqlite_waits_for_another_writer_off_the_loop(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await upgrade(database.engine)
    try:
        user = await database.users.create(now=1.0)
        # Another process's writer holds the write lock.
        other = sqlite3.connect(tmp_path / "x.db", isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        revoke = asyncio.create_task(database.sessions.revoke_user(user.id, reason="t", now=2.0))
        ticks = 0
        for _ in range(20):  # the loop keeps turning while the revoke waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not revoke.done()
        await asyncio.to_thread(other.execute, "COMMIT")
        assert await revoke == 0
        assert ticks == 20
        feed = await database.revocations.after(0, limit=10)
        assert [(row.user_id, row.session_id) for row in feed] == [(user.id, None)]
        other.close()
    finally:
        await database.close()


def _counter(path: Path) -> Statement:
    """A one-row table at ``path``, and the statement that sets its number."""
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
    setup.execute("INSERT INTO t VALUES (1, 0)")
    setup.close()
    table = sa.table("t", sa.column("id"), sa.column("n"))
    return compile_statement(
        table.update().where(table.c.id == sa.bindparam("id")).values(n=sa.bindparam("n")),
        SqliteDriver.dialect,
    )


async def _write(driver: SqliteDriver, bump: Statement, writes: int, log: Path) -> int:
    """Set the number ``writes`` times, as a busy server would; the largest log seen."""
    largest = 0
    for n in range(writes):
        await driver.rows(bump, {"id": 1, "n": n})
        # The rest of a request's work between two writes, on the loop as it would be.
        time.sleep(0.0001)  # noqa: ASYNC251
        if n % 100 == 0:
            largest = max(largest, log.stat().st_size)  # noqa: ASYNC240
    return largest


def _checkpoints() -> dict[tuple[str, str], float]:
    return {
        (mode, result): REGISTRY.get_sample_value(
            "sessile_sqlite_checkpoints_total", {"mode": mode, "result": result}
        )
        or 0.0
        for mode in ("restart", "passive")
        for result in ("done", "busy")
    }


def _lock_waits() -> tuple[float, float]:
    """How many statements waited for the write lock, and for how long in all."""
    return (
        REGISTRY.get_sample_value("sessile_sqlite_lock_wait_seconds_count") or 0.0,
        REGISTRY.get_sample_value("sessile_sqlite_lock_wait_seconds_sum") or 0.0,
    )


async def test_sqlite_counts_the_waits_for_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    bump = _counter(path)
    driver = SqliteDriver(str(path))
    try:
        before = _lock_waits()
        await driver.rows(bump, {"id": 1, "n": 1})
        assert _lock_waits() == before  # the lock was free: no wait
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process's writer
        write = asyncio.create_task(driver.rows(bump, {"id": 1, "n": 2}))
        await asyncio.sleep(0.2)
        assert not write.done()
        await asyncio.to_thread(other.execute, "COMMIT")
        await write
        other.close()
        count, seconds = (a - b for a, b in zip(_lock_waits(), before, strict=True))
        assert count == 1  # one statement waited, as long as the other held the lock
        assert 0.2 <= seconds < 5
    finally:
        await driver.close()


async def test_sqlite_wal_stays_bounded_under_steady_writes(tmp_path: Path) -> None:
    # A checkpoint that only copies what it can while writes keep coming never catches up:
    # the log would never start over, and would grow by a page per write for as long as
    # the load lasts.
    bump = _counter(tmp_path / "x.db")
    driver = SqliteDriver(str(tmp_path / "x.db"))
    writes = 16 * CHECKPOINT_EVERY
    try:
        largest = await _write(driver, bump, writes, tmp_path / "x.db-wal")
    finally:
        await driver.close()
    # Without a restart, a frame a write: 16 checkpoint intervals' worth. With one, the
    # log holds the writes between two checkpoints, and those made while one waits.
    frame = 4096 + 24
    assert largest < 8 * CHECKPOINT_EVERY * frame, f"{largest} bytes of log after {writes} writes"
    check = sqlite3.connect(tmp_path / "x.db")
    assert check.execute("SELECT n FROM t").fetchone() == (writes - 1,)
    check.close()


async def test_sqlite_checkpoints_leave_a_lasting_reader_be(tmp_path: Path) -> None:
    # A reader that stays (a backup, say) keeps the log from starting over whatever the
    # checkpoint does; a restart that waits for it at every turn would only hold the
    # writes back. After one that could not finish, the next ones copy what they can.
    bump = _counter(tmp_path / "x.db")
    reader = sqlite3.connect(tmp_path / "x.db", isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    assert reader.execute("SELECT n FROM t").fetchone() == (0,)
    driver = SqliteDriver(str(tmp_path / "x.db"))
    before = _checkpoints()
    try:
        grown = await _write(driver, bump, 10 * CHECKPOINT_EVERY, tmp_path / "x.db-wal")
        await driver.close()  # after the checkpoints under way
        held = {key: count - before[key] for key, count in _checkpoints().items()}
        assert held["restart", "done"] == 0
        assert held["restart", "busy"] >= 1
        assert held["passive", "done"] > held["restart", "busy"]
        assert reader.execute("SELECT n FROM t").fetchone() == (0,)  # its snapshot held
        reader.execute("COMMIT")
        before = _checkpoints()
        driver = SqliteDriver(str(tmp_path / "x.db"))
        await _write(driver, bump, 12 * CHECKPOINT_EVERY, tmp_path / "x.db-wal")
        size = (tmp_path / "x.db-wal").stat().st_size
    finally:
        await driver.close()
        reader.close()
    after = {key: count - before[key] for key, count in _checkpoints().items()}
    assert after["restart", "done"] >= 1  # the reader gone, the log starts over again
    # ... and the file the reader made it grow to shrinks back.
    assert grown > WAL_SIZE_LIMIT
    assert size <= WAL_SIZE_LIMIT


async def test_sqlite_errors_are_service_unavailable(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await upgrade(database.engine)
    async with database.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE sessions"))
    try:
        # The session list runs on the driver: its sqlite3 error is a 503, like the engine's.
        with pytest.raises(ServiceUnavailable):
            await database.sessions.list_active(
                "usr_x", now=1.0, idle_since=0.0, limit=10, offset=0
            )
    finally:
        await database.close()


async def test_postgres_cut_answers_503_on_the_hot_routes(
    make_client: AppClient, own_postgres_url: str
) -> None:
    target = urlsplit(own_postgres_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    proxied = own_postgres_url.replace(
        f"{target.hostname}:{target.port}", f"127.0.0.1:{proxy.port}"
    )
    migrating = Database.from_url(proxied)
    await upgrade(migrating.engine)
    await migrating.close()
    try:
        async with make_client(database_url=proxied) as (http, app):
            context = app.state.context
            user = await context.db.users.create(now=context.clock.now())
            challenge = await context.challenges.issue(user_id=user.id, auth_method="password")
            client = AsyncSessionClient("https://auth.test", http=http)
            await client.finalize(challenge)
            await client.refresh()
            assert (await client.list_sessions())["total"] == 1
            await proxy.stop()
            for call in (client.refresh, client.list_sessions):
                with pytest.raises(SessionClientError) as caught:
                    await call()
                assert caught.value.status == 503
                assert caught.value.code == "service_unavailable"
    finally:
        await proxy.stop()


async def test_postgres_statements_wait_for_a_free_connection(postgres_url: str) -> None:
    driver = PostgresDriver(postgres_url, max_size=2)
    statement = compile_statement(sa.select(sa.bindparam("n", type_=sa.Integer)), driver.dialect)
    try:
        results = await asyncio.gather(*(driver.rows(statement, {"n": n}) for n in range(20)))
        assert [rows[0][0] for rows in results] == list(range(20))
        assert driver.open_connections() == 2
    finally:
        await driver.close()
