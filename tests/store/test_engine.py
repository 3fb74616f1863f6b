"""The engine serves migrations and the command line, never a request; a queue poll that
finds nothing writes nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from sessile.clock import FixedClock
from sessile.store.database import Database
from sessile.store.deliveries import Delivery
from sessile.store.migrate import upgrade
from tests.http.conftest import AppClient
from tests.http.session_client import BASE, InProcessClient
from tests.login.configs.harness import management, otp_login

OTP_USER = {"type": "email_address", "value": "ada@example.com"}
PASSWORD_USER = {"type": "email_address", "value": "grace@example.com"}
PASSWORD = "correct horse battery staple"


async def test_an_idle_poll_leaves_sqlites_write_lock_to_the_refreshes(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    database = Database.from_url(f"sqlite+aiosqlite:///{path}")
    await upgrade(database.engine)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        # A refresh in another process holds the write lock. Polls of the empty queues
        # answer at once: before, each claim waited for that lock (30 s at most).
        other.execute("BEGIN IMMEDIATE")
        async with asyncio.timeout(5):
            assert await database.events.claim(now=10.0, lease=30.0, limit=10) == []
            assert await database.deliveries.claim(now=10.0, lease=30.0, limit=10) == []
        other.execute("ROLLBACK")

        # With work waiting, the poll claims it.
        await database.deliveries.enqueue(
            Delivery("dlv_1", "email", False, "sealed", created_at=1.0, expires_at=99.0, attempts=0)
        )
        [claimed] = await database.deliveries.claim(now=10.0, lease=30.0, limit=10)
        assert claimed.attempts == 1
    finally:
        other.close()
        await database.close()


@pytest.mark.parametrize("fresh_database_url", ["sqlite", "postgres"], indirect=True)
async def test_requests_and_workers_never_check_out_an_engine_connection(
    make_client: AppClient, fresh_database_url: str
) -> None:
    # The engine is for migrations and the command line: once the app serves, logins,
    # refreshes, the sessions page, the management API, the queues and the clean-up all
    # run on the driver.
    clock = FixedClock(1_800_000_000.0)
    settings = {"database_url": fresh_database_url, "event_allow_private_urls": True}
    async with make_client(clock, **settings) as (http, app):
        client = InProcessClient(http, app, clock)
        context = client.context
        checkouts: list[object] = []
        sa.event.listen(context.db.engine.sync_engine, "checkout", lambda *a: checkouts.append(a))
        headers = await management(client)
        api = "https://auth.test/v2/session/apps/default"
        hook = await http.post(
            api + "/webhooks",
            json={
                "url": "https://192.0.2.1/in",
                "events": ["user.created", "user.session.created", "user.session.revoked"],
                "verification_token": "t",
            },
            headers=headers,
        )
        assert hook.status_code in (200, 201), hook.text
        hook_id = hook.json()["webhook"]["id"]
        # As if the endpoint had answered its activation challenge.
        assert await context.db.webhooks.update(hook_id, now=clock.now(), active=True)
        created = await http.post(
            api + "/users",
            json={"identifiers": [PASSWORD_USER], "password": PASSWORD},
            headers=headers,
        )
        assert created.status_code in (200, 201), created.text

        checked = await otp_login(client, OTP_USER)
        assert checked.status_code == 200, checked.text
        cookie = checked.cookies.get("__Host-sessile_refresh")
        assert cookie
        refreshed = await client.dpop("/refresh", cookie=cookie)
        assert refreshed.status_code == 200, refreshed.text
        bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        assert (await http.get(BASE + "/me/list", headers=bearer)).status_code == 200

        password = await http.post(
            BASE + "/login/email/password",
            json={"identifier": PASSWORD_USER["value"], "password": PASSWORD},
        )
        assert password.status_code == 200, password.text
        finalized = await client.dpop(
            "/login/finalize", json={"challenge_token": password.json()["challenge_token"]}
        )
        assert finalized.status_code == 200, finalized.text
        wrong = await http.post(
            BASE + "/login/email/password",
            json={"identifier": PASSWORD_USER["value"], "password": "not the password"},
        )
        assert wrong.status_code in (400, 401), wrong.text

        user_id = created.json()["user"]["id"]
        query = f"identifier_type=email_address&identifier_value={PASSWORD_USER['value']}"
        for answer in (
            await http.get(api + f"/users?{query}", headers=headers),
            await http.post(
                api + "/users/batch_lookup",
                json={"emails": [PASSWORD_USER["value"], OTP_USER["value"]]},
                headers=headers,
            ),
            await http.get(api + f"/users/{user_id}", headers=headers),
            await http.get(api + f"/users/{user_id}/sessions", headers=headers),
            await http.post(api + f"/users/{user_id}/sessions/invalidate", headers=headers),
            await http.get(api + "/webhooks", headers=headers),
            await client.dpop("/revoke", cookie=refreshed.cookies.get("__Host-sessile_refresh")),
        ):
            assert answer.status_code < 300, (answer.request.url, answer.text)

        queued = await context.db.events.all_for(hook_id)
        assert {e.type for e in queued} >= {"user.created", "user.session.created"}
        await context.db.events.claim(now=clock.now(), lease=30.0, limit=10)
        await context.maintain()
        assert checkouts == []
