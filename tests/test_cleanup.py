"""The scheduled clean-up keeps every growing table flat over a long run of logins,
logouts and refreshes, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.cleanup import expired_rows
from sessile.clock import FixedClock
from sessile.config import load_settings
from tests.apps import AppClient
from tests.http.session_client import InProcessClient

DAY = 86_400
ROUNDS = 10
PER_ROUND = 4
TABLES = ("sessions", "revocations", "challenge_tokens", "dpop_replay", "audit_events")


@pytest.fixture(params=["sqlite", "postgres"])
def database_override(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    make: Callable[[], str] = request.getfixturevalue("new_postgres_database")
    return {"database_url": make()}


async def _sizes(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table: (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in TABLES
        }


def test_every_growing_table_has_a_purge() -> None:
    settings = load_settings(secret_key="s" * 48)
    purged = set(expired_rows(settings, 0.0)) | {"sessions"}
    assert {*TABLES, "otp_challenges", "deliveries", "webhook_events", "rate_limits"} <= purged


async def test_table_sizes_stay_flat(
    make_client: AppClient, database_override: dict[str, str]
) -> None:
    clock = FixedClock(1_800_000_000.0)
    retention = {"session_retention": DAY, "audit_retention": DAY, "session_purge_batch": 3}
    async with make_client(clock, **retention, **database_override) as (http, app):
        client = InProcessClient(http, app, clock)
        engine = app.state.context.db.engine
        sizes: list[dict[str, int]] = []
        for _ in range(ROUNDS):
            for _ in range(PER_ROUND):
                login = await client.login(headers={"X-Refresh-Token-Mode": "header"})
                token = login.headers["X-Refresh-Token"]
                refreshed = await client.dpop("/refresh", headers={"X-Refresh-Token": token})
                await client.dpop(
                    "/revoke", headers={"X-Refresh-Token": refreshed.headers["X-Refresh-Token"]}
                )
            clock.advance(DAY / 2)
            # What piled up since the last clean-up, then the clean-up.
            sizes.append(await _sizes(engine))
            await app.state.context.maintain()
    # Past the retention, each round purges as much as it adds: the sizes stop growing.
    for table in TABLES:
        trend = [s[table] for s in sizes]
        assert trend[0] > 0 or table == "challenge_tokens", (table, trend)  # used ones go at once
        assert max(trend[3:]) <= max(trend[:3]), (table, trend)
    # Sessions end each round and are kept for a day (two rounds) after they ended.
    assert max(s["sessions"] for s in sizes) <= 3 * PER_ROUND, sizes
