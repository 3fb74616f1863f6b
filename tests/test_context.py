"""``AppContext.maintain``: the scheduled clean-up purges ended sessions after the retention."""

from __future__ import annotations

from sessile.clock import FixedClock
from tests.apps import AppClient
from tests.http.session_client import InProcessClient

DAY = 86_400


async def test_maintain_purges_sessions_ended_past_the_retention(make_client: AppClient) -> None:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(clock, session_retention=7 * DAY) as (http, app):
        client = InProcessClient(http, app, clock)
        ended = await client.login(headers={"X-Refresh-Token-Mode": "header"})
        live = await client.login(headers={"X-Refresh-Token-Mode": "header"})
        ended_id = ended.headers["X-Refresh-Token"].split(".")[0]
        live_id = live.headers["X-Refresh-Token"].split(".")[0]
        logout = await client.dpop(
            "/revoke", headers={"X-Refresh-Token": ended.headers["X-Refresh-Token"]}
        )
        assert logout.status_code == 204
        sessions = client.context.db.sessions
        revoked = await sessions.get(ended_id)
        assert revoked is not None
        assert revoked.revoked_at is not None

        clock.advance(7 * DAY - 1)
        await client.context.maintain()
        assert await sessions.get(ended_id) is not None, "kept for the retention"

        clock.advance(2)
        await client.context.maintain()
        assert await sessions.get(ended_id) is None
        assert await sessions.get(live_id) is not None
