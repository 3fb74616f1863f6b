"""A login config changed through one node is in force on another node of the same
database within ``SESSILE_LIVE_CONFIG_MAX_AGE`` (short here), without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient
from tests.login.configs.harness import APP, BASE, management, start_otp
from tests.oauth.browser import APP_CALLBACK, pkce_pair

MAX_AGE = 0.2
SECOND = 1_000_000_000
EMAIL = {"type": "email_address", "value": "ada@example.com"}


@pytest.fixture
async def nodes(make_client: AppClient) -> AsyncIterator[tuple[InProcessClient, InProcessClient]]:
    """Two apps on one SQLite file, each with its own copy of the documents."""
    clock = FixedClock(1_800_000_000.0)
    async with (
        make_client(clock, live_config_max_age=MAX_AGE) as (http_a, app_a),
        make_client(clock, live_config_max_age=MAX_AGE) as (http_b, app_b),
    ):
        assert app_a.state.context is not app_b.state.context
        yield InProcessClient(http_a, app_a, clock), InProcessClient(http_b, app_b, clock)


async def _password_login(node: InProcessClient) -> str:
    body = {"identifier": "nobody@example.com", "password": "a long passphrase"}
    answer = await node.http.post(BASE + "/login/email/password", json=body)
    code: str = answer.json()["code"]
    return code


async def _authorize(node: InProcessClient) -> str:
    body = {"redirect_uri": APP_CALLBACK, "code_challenge": pkce_pair()[1]}
    answer = await node.http.post(BASE + "/login/oauth/github/authorize", json=body)
    return "authorized" if answer.status_code == 200 else str(answer.json()["code"])


async def test_a_change_on_one_node_reaches_the_other_within_max_age(
    nodes: tuple[InProcessClient, InProcessClient],
) -> None:
    a, b = nodes
    # Node b reads the documents now: none yet, so the settings rule there.
    assert await _password_login(b) == "unauthorized"
    assert (await start_otp(b, EMAIL)).status_code == 204
    assert await _authorize(b) == "oauth_provider_not_configured"

    headers = await management(a)
    password = {
        "hash_method": "argon2id",
        "enabled": False,
        "rate_limit_login_ip": {"ttl": 60 * SECOND, "limit": 100},
        "rate_limit_login_identifier": {"ttl": 60 * SECOND, "limit": 10},
        "password_compliancy": {"min_length": 10, "max_length": 0, "uppercase": 0,
                                "lowercase": 0, "numbers": 0, "symbols": 0},
    }  # fmt: skip
    writes = [
        a.http.put(APP + "/config/login/password", json=password, headers=headers),
        a.http.post(APP + "/config/login/otp", headers=headers,
                    json={"config_type": "otp", "channel_type": "sms"}),
        a.http.post(APP + "/config/login/oauth/github", headers=headers,
                    json={"client_id": "gh", "client_secret": "gh-secret",
                          "redirect_uris": [APP_CALLBACK]}),
    ]  # fmt: skip
    for write in writes:
        assert (await write).is_success
    # The writer uses them at once.
    assert await _password_login(a) == "forbidden"
    # The other node reads again once its copy is MAX_AGE old.
    await asyncio.sleep(MAX_AGE + 0.05)
    assert await _password_login(b) == "forbidden"
    assert (await start_otp(b, EMAIL)).json()["code"] == "bad_request"
    assert await _authorize(b) == "authorized"
    compliancy = (await b.http.get(BASE + "/password/compliancy")).json()
    assert compliancy["min_length"] == 10
