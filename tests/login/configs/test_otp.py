"""OTP login configs take effect on ``/v1/session/login/otp``: the channels that take codes,
``login_config_id``, and the scopes a login's session gets (for SESSILE_STEPUP_GRANT_TTL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient
from tests.jwts import claims_of
from tests.login.configs.harness import (
    APP,
    BASE,
    code_sent_to,
    management,
    otp_login,
    start_otp,
)

EMAIL = {"type": "email_address", "value": "ada@example.com"}
PHONE = {"type": "phone_number", "value": "+33612345678"}
GRANT_TTL = 120


@pytest.fixture
async def client(make_client: AppClient) -> AsyncIterator[InProcessClient]:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(
        clock, otp_rate_per_identifier="50/10 minutes", stepup_grant_ttl=GRANT_TTL
    ) as (http, app):
        yield InProcessClient(http, app, clock)


async def _config(client: InProcessClient, **members: Any) -> str:
    body = {"config_type": "otp", **members}
    created = await client.http.post(
        APP + "/config/login/otp", json=body, headers=await management(client)
    )
    assert created.status_code == 201, created.text
    config_id: str = created.json()["login_config"]["id"]
    return config_id


async def test_without_configs_both_channels_take_codes(client: InProcessClient) -> None:
    for identifier in (EMAIL, PHONE):
        assert (await otp_login(client, identifier)).status_code == 200


async def test_a_channel_takes_codes_only_when_a_config_sends_by_it(
    client: InProcessClient,
) -> None:
    sms = await _config(client, channel_type="sms")
    refused = await start_otp(client, EMAIL)
    assert refused.status_code == 400
    assert refused.json()["code"] == "bad_request"
    assert (await otp_login(client, PHONE)).status_code == 200
    await _config(client, channel_type="email")
    assert (await otp_login(client, EMAIL)).status_code == 200
    # Deleting a channel's last config closes it again.
    headers = await management(client)
    listed = (await client.http.get(APP + "/config/login/otp", headers=headers)).json()
    email_id = next(c["id"] for c in listed["login_configs"] if c["channel_type"] == "email")
    gone = await client.http.delete(APP + f"/config/login/otp/{email_id}", headers=headers)
    assert gone.status_code == 204
    assert (await start_otp(client, EMAIL)).status_code == 400
    assert (await start_otp(client, PHONE, sms)).status_code == 204


async def test_login_config_id_picks_a_config_and_an_unknown_one_is_refused(
    client: InProcessClient,
) -> None:
    email = await _config(client, channel_type="email")
    sms = await _config(client, channel_type="sms")
    for unknown in ("lcfg_01jqebhswje1ka1z7ahr9rfsgt", "nonsense"):
        refused = await start_otp(client, EMAIL, unknown)
        assert refused.status_code == 400, unknown
        assert refused.json()["code"] == "bad_request"
    mismatched = await start_otp(client, EMAIL, sms)
    assert (mismatched.status_code, mismatched.json()["code"]) == (400, "bad_request")
    assert (await otp_login(client, EMAIL, email)).status_code == 200


async def test_an_unknown_config_id_is_refused_with_no_configs_at_all(
    client: InProcessClient,
) -> None:
    refused = await start_otp(client, EMAIL, "lcfg_01jqebhswje1ka1z7ahr9rfsgt")
    assert (refused.status_code, refused.json()["code"]) == (400, "bad_request")


async def test_the_config_grants_its_scopes_to_the_session_for_a_while(
    client: InProcessClient,
) -> None:
    await _config(client, channel_type="email", is_default=True, grant_change_password=True)
    login = await otp_login(client, EMAIL)
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    assert claims_of(token)["scope"].split() == ["session", "prld:pwd:write"]
    # The grant is a real one: it lets the session set a new password.
    reset = await client.http.post(
        BASE + "/me/password/reset",
        json={"password": "a long new passphrase"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reset.status_code == 204, reset.text
    assert claims_of(token)["exp"] <= client.clock.now() + GRANT_TTL
    # After SESSILE_STEPUP_GRANT_TTL, refreshed tokens no longer carry it.
    client.clock.advance(GRANT_TTL + 1)
    refreshed = await client.dpop("/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert claims_of(refreshed.json()["access_token"])["scope"] == "session"


async def test_the_default_config_of_the_channel_applies_unless_one_is_named(
    client: InProcessClient,
) -> None:
    plain = await _config(client, channel_type="email")
    await _config(client, channel_type="email", is_default=True, granted_scopes=["orders:read"])
    by_default = await otp_login(client, EMAIL)
    assert claims_of(by_default.json()["access_token"])["scope"] == "session orders:read"
    named = await otp_login(client, EMAIL, plain)
    assert claims_of(named.json()["access_token"])["scope"] == "session"
    # A newer default takes the mark from the older one.
    headers = await management(client)
    body = {"config_type": "otp", "channel_type": "email", "is_default": True}
    await client.http.put(APP + f"/config/login/otp/{plain}", json=body, headers=headers)
    listed = (await client.http.get(APP + "/config/login/otp", headers=headers)).json()
    marked = [c["id"] for c in listed["login_configs"] if c["is_default"]]
    assert marked == [plain]
    assert claims_of((await otp_login(client, EMAIL)).json()["access_token"])["scope"] == "session"


async def test_a_grant_follows_the_config_as_it_is_at_the_code_check(
    client: InProcessClient,
) -> None:
    config_id = await _config(client, channel_type="sms")
    started = await start_otp(client, PHONE)
    body = {"config_type": "otp", "channel_type": "sms", "granted_scopes": ["calls:make"]}
    updated = await client.http.put(
        APP + f"/config/login/otp/{config_id}", json=body, headers=await management(client)
    )
    assert updated.status_code == 200
    code = await code_sent_to(client, PHONE["value"])
    checked = await client.dpop(
        "/login/otp/check",
        json={"code": code},
        headers={"X-Verification-Token": started.headers["X-Verification-Token"]},
    )
    assert claims_of(checked.json()["access_token"])["scope"] == "session calls:make"
