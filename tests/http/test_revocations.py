from __future__ import annotations

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import BASE, InProcessClient

FEED = "https://auth.test/v2/session/apps/default/revocations"


async def test_feed_lists_revocations_behind_an_api_key(make_client: AppClient) -> None:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(clock) as (http, app):
        client = InProcessClient(http, app, clock)
        _, api_key = await client.context.api_keys.create("backend")
        auth = {"Authorization": f"Bearer {api_key}"}

        assert (await http.get(FEED)).status_code == 401
        wrong = await http.get(
            FEED, headers={"Authorization": "Bearer sk_0000000000000000_" + "A" * 43}
        )
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "unauthorized"
        other_app = await http.get(FEED.replace("/default/", "/other/"), headers=auth)
        assert other_app.status_code == 404

        empty = (await http.get(FEED, headers=auth)).json()
        assert empty["revocations"] == []
        assert empty["cursor"] == 0

        first = (await client.login()).json()["access_token"]
        await client.login()
        bearer = {"Authorization": f"Bearer {first}"}
        sid = (await http.get(BASE + "/me/list", headers=bearer)).json()["sessions"][0]["id"]
        revoked = await http.post(BASE + "/me/revoke?target=mine", headers=bearer)
        assert revoked.json() == {"revoked": 1}

        fresh = (await http.get(FEED, headers=auth)).json()
        [row] = fresh["revocations"]
        assert row["session_id"] == sid
        assert fresh["cursor"] == 0, "too young to move the cursor past"
        clock.advance(3)
        settled = (await http.get(FEED, headers=auth)).json()
        assert settled["cursor"] == row["seq"]
        after = (await http.get(FEED, params={"after": settled["cursor"]}, headers=auth)).json()
        assert after["revocations"] == []

        bad = await http.get(FEED, params={"after": -1}, headers=auth)
        assert bad.status_code == 400
        assert bad.json()["code"] == "bad_request"
