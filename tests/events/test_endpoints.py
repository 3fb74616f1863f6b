"""Webhook endpoints may not point into the server's own networks unless allowed."""

from __future__ import annotations

import pytest

from tests.http.conftest import AppClient

APP = "https://auth.test/v2/session/apps/default"
PRIVATE = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.5/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    # An IPv4 carried inside an IPv6 address is judged as that IPv4.
    "http://[64:ff9b::a00:1]/hook",
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
    "http://[64:ff9b:1::a00:1]/hook",
    "http://[::127.0.0.1]/hook",
    "http://[::ffff:0:7f00:1]/hook",
    "http://[fec0::1]/hook",
    "http://[2002:a00:1::1]/hook",
    "http://192.88.99.1/hook",
]


async def _register(make_client: AppClient, url: str, **settings: object) -> tuple[int, str]:
    async with make_client(**settings) as (http, app):
        _, key = await app.state.context.api_keys.create("backend")
        response = await http.post(
            APP + "/webhooks",
            headers={"Authorization": f"Bearer {key}"},
            json={"url": url, "events": ["user.created"], "verification_token": "t"},
        )
        return response.status_code, response.json().get("code", "")


@pytest.mark.parametrize("url", PRIVATE)
async def test_a_private_or_loopback_url_is_refused(make_client: AppClient, url: str) -> None:
    assert await _register(make_client, url) == (400, "bad_request")


async def test_a_public_address_is_accepted(make_client: AppClient) -> None:
    assert (await _register(make_client, "https://8.8.8.8/hook"))[0] == 201


async def test_the_setting_allows_loopback(make_client: AppClient) -> None:
    status, _ = await _register(
        make_client, "http://127.0.0.1:8080/hook", event_allow_private_urls=True
    )
    assert status == 201


async def test_a_changed_url_is_checked_too(make_client: AppClient) -> None:
    async with make_client() as (http, app):
        _, key = await app.state.context.api_keys.create("backend")
        auth = {"Authorization": f"Bearer {key}"}
        created = await http.post(
            APP + "/webhooks",
            headers=auth,
            json={"url": "https://8.8.8.8/hook", "events": ["user.created"],
                  "verification_token": "t"},
        )  # fmt: skip
        webhook_id = created.json()["webhook"]["id"]
        moved = await http.patch(
            APP + f"/webhooks/{webhook_id}", headers=auth, json={"url": "http://10.0.0.7/x"}
        )
        assert (moved.status_code, moved.json()["code"]) == (400, "bad_request")
        kept = await http.get(APP + f"/webhooks/{webhook_id}", headers=auth)
        assert kept.json()["webhook"]["url"] == "https://8.8.8.8/hook"
