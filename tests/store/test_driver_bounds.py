"""The asyncpg driver's bounds: multi-host URLs, statement and pool-wait timeouts."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
import sqlalchemy as sa

from sessile.errors import ServiceUnavailable
from sessile.store.drivers.base import compile_statement
from sessile.store.drivers.postgres import PostgresDriver, _dsn

SLEEP = compile_statement(
    sa.select(sa.func.pg_sleep(sa.bindparam("s", type_=sa.Float))), PostgresDriver.dialect
)


def test_multi_host_urls_keep_every_host() -> None:
    url = (
        "postgresql+asyncpg://u:p@/db?host=10.0.0.1:5432&host=10.0.0.2:5433"
        "&target_session_attrs=read-write"
    )
    assert _dsn(url) == (
        "postgresql://u:p@10.0.0.1:5432,10.0.0.2:5433/db?target_session_attrs=read-write"
    )
    assert _dsn("postgresql+asyncpg://u@h:5432/db") == "postgresql://u@h:5432/db"


async def test_a_slow_statement_gives_up_in_time(own_postgres_url: str) -> None:
    driver = PostgresDriver(own_postgres_url, max_size=1, timeout=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            await driver.rows(SLEEP, {"s": 5.0})
        assert time.monotonic() - started < 2.5
        # The cut connection was dropped and replaced: the pool serves again.
        assert await driver.rows(SLEEP, {"s": 0.0}) == [(None,)]
        assert driver.open_connections() == 1
    finally:
        await driver.close()


async def test_a_wait_for_a_pooled_connection_gives_up_in_time(own_postgres_url: str) -> None:
    driver = PostgresDriver(own_postgres_url, max_size=1, timeout=1.0)
    try:
        held = await driver._connections.acquire()  # every connection busy
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            # Without the bound it would wait for ever: the outer 5 s fails the test.
            await asyncio.wait_for(driver.rows(SLEEP, {"s": 0.0}), 5)
        assert 0.9 < time.monotonic() - started < 2.5
        driver._connections.release(held)
        assert await driver.rows(SLEEP, {"s": 0.0}) == [(None,)]
        assert driver.open_connections() == 1
    finally:
        await driver.close()


async def test_a_connection_the_server_closed_while_idle_is_not_used(
    own_postgres_url: str,
) -> None:
    pid = compile_statement(sa.select(sa.func.pg_backend_pid()), PostgresDriver.dialect)
    driver = PostgresDriver(own_postgres_url, max_size=2, timeout=5.0)
    admin = await asyncpg.connect(own_postgres_url.replace("+asyncpg", ""))
    try:
        [(first,)] = await driver.rows(pid, {})
        # The server ends the idle connection, as a restart or a failover does.
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        await asyncio.sleep(0.3)
        [(second,)] = await driver.rows(pid, {})  # no 503: a new connection serves it
        assert second != first
        assert driver.open_connections() == 1
    finally:
        await admin.close()
        await driver.close()
