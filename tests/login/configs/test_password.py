"""The password login config takes effect on the frontend routes: turned off, its rate
limits (a window in nanoseconds), and the policy that compliancy serves and every new
password meets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient
from tests.login.configs.harness import APP, BASE, management

SECOND = 1_000_000_000
EMAIL = "ada@example.com"
PASSWORD = "a long passphrase"


def _config(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hash_method": "argon2id",
        "enabled": True,
        "rate_limit_login_ip": {"ttl": 900 * SECOND, "limit": 100},
        "rate_limit_login_identifier": {"ttl": 900 * SECOND, "limit": 10},
        "password_compliancy": {"min_length": 8, "max_length": 128, "uppercase": 0,
                                "lowercase": 0, "numbers": 0, "symbols": 0},
    }  # fmt: skip
    return {**body, **changes}


@pytest.fixture
async def client(make_client: AppClient) -> AsyncIterator[InProcessClient]:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(clock, signup_verify_email=False) as (http, app):
        client = InProcessClient(http, app, clock)
        headers = await management(client)
        identifiers = [{"type": "email_address", "value": EMAIL}]
        body = {"identifiers": identifiers, "password": PASSWORD}
        made = await http.post(APP + "/users", headers=headers, json=body)
        assert made.status_code == 201, made.text
        yield client


async def _set(client: InProcessClient, body: dict[str, Any]) -> None:
    saved = await client.http.put(
        APP + "/config/login/password", json=body, headers=await management(client)
    )
    assert saved.status_code == 200, saved.text


async def _login(client: InProcessClient, email: str = EMAIL, password: str = PASSWORD) -> Any:
    return await client.http.post(
        BASE + "/login/email/password", json={"identifier": email, "password": password}
    )


async def _sign_up(client: InProcessClient, email: str, password: str = PASSWORD) -> Any:
    return await client.http.post(
        BASE + "/login/email/sign-up", json={"identifier": email, "password": password}
    )


async def test_turned_off_password_login_and_sign_up_are_forbidden(
    client: InProcessClient,
) -> None:
    assert (await _login(client)).status_code == 200
    await _set(client, _config(enabled=False))
    for refused in (await _login(client), await _sign_up(client, "new@example.com")):
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
    # Dropping the config gives the settings back.
    gone = await client.http.delete(
        APP + "/config/login/password", headers=await management(client)
    )
    assert gone.status_code == 204
    assert (await _login(client)).status_code == 200
    assert (await _sign_up(client, "new@example.com")).status_code == 200


async def test_the_identifier_rate_limit_counts_in_its_window(client: InProcessClient) -> None:
    await _set(client, _config(rate_limit_login_identifier={"ttl": 60 * SECOND, "limit": 2}))
    for _ in range(2):
        assert (await _login(client, password="a wrong passphrase")).json()["code"] == (
            "unauthorized"
        )
    limited = await _login(client)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another identifier has its own budget.
    assert (await _login(client, "other@example.com")).json()["code"] == "unauthorized"


async def test_the_ip_rate_limit_counts_across_identifiers(client: InProcessClient) -> None:
    await _set(client, _config(rate_limit_login_ip={"ttl": 3600 * SECOND, "limit": 3}))
    for n in range(3):
        assert (await _login(client, f"u{n}@example.com")).json()["code"] == "unauthorized"
    limited = await _login(client)
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
    assert (await _sign_up(client, "late@example.com")).status_code == 429


async def test_compliancy_is_served_and_every_new_password_meets_it(
    client: InProcessClient,
) -> None:
    rules = {"min_length": 12, "max_length": 0, "uppercase": 2, "lowercase": 1,
             "numbers": 1, "symbols": 0}  # fmt: skip
    await _set(client, _config(password_compliancy=rules))
    served = await client.http.get(BASE + "/password/compliancy")
    assert served.json() == rules
    weak = await _sign_up(client, "new@example.com", "a long passphrase 1")
    assert weak.status_code == 400
    assert "at least 2 uppercase letter(s)" in weak.json()["message"]
    assert (await _sign_up(client, "new@example.com", "A Long Passphrase 1")).status_code == 200
    # The management API's password route meets it too; max_length 0 is no maximum.
    headers = await management(client)
    query = {"identifier_type": "email_address", "identifier_value": EMAIL}
    found = await client.http.get(APP + "/users", headers=headers, params=query)
    user = found.json()["users"][0]
    refused = await client.http.put(
        APP + f"/users/{user['id']}/password", json={"password": "short Aa1"}, headers=headers
    )
    assert refused.status_code == 400
    long_one = "AB" + "c1" * 300
    accepted = await client.http.put(
        APP + f"/users/{user['id']}/password", json={"password": long_one}, headers=headers
    )
    assert accepted.status_code == 200, accepted.text
    assert (await _login(client, password=long_one)).status_code == 200


async def test_without_a_config_the_settings_rule(client: InProcessClient) -> None:
    served = (await client.http.get(BASE + "/password/compliancy")).json()
    assert served == {"min_length": 8, "max_length": 128, "uppercase": 0, "lowercase": 0,
                      "numbers": 0, "symbols": 0}  # fmt: skip
    shown = await client.http.get(APP + "/config/login/password", headers=await management(client))
    config = shown.json()["config"]
    assert config["enabled"] is True
    assert config["hash_method"] == "argon2id"
    assert config["rate_limit_login_identifier"] == {"ttl": 900 * SECOND, "limit": 10}
    assert config["rate_limit_login_ip"] == {"ttl": 900 * SECOND, "limit": 100}
    assert (config["created_at"], config["updated_at"]) == (None, None)
