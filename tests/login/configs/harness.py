"""What the login-config tests share: the management API with a key, codes from the outbox,
logins through the frontend routes, and a token's claims."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from tests.http.session_client import BASE, InProcessClient

__all__ = ["APP", "BASE", "code_sent_to", "management", "otp_login", "start_otp"]

APP = "https://auth.test/v2/session/apps/default"


async def management(client: InProcessClient, scopes: list[str] | None = None) -> dict[str, str]:
    """The headers of a management call with a new key (every scope unless ``scopes``)."""
    _, key = await client.context.api_keys.create("backend", scopes=scopes)
    return {"Authorization": f"Bearer {key}"}


async def code_sent_to(client: InProcessClient, to: str) -> str:
    """The latest code sent to ``to``, once the delivery queue has sent what is due."""
    while await client.context.sender.deliver_due():
        pass
    deadline = time.monotonic() + 10
    while await client.context.db.deliveries.pending():
        assert time.monotonic() < deadline, "the delivery queue did not drain"
        await asyncio.sleep(0.01)
    path = client.context.settings.outbox_file
    sent = [json.loads(line) for line in path.read_text().splitlines()]
    code: str = [m for m in sent if m["to"] == to][-1]["code"]
    return code


async def start_otp(
    client: InProcessClient, identifier: dict[str, str], login_config_id: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"identifier": identifier}
    if login_config_id is not None:
        body["login_config_id"] = login_config_id
    return await client.http.post(BASE + "/login/otp", json=body)


async def otp_login(
    client: InProcessClient, identifier: dict[str, str], login_config_id: str | None = None
) -> httpx.Response:
    """Start a code login, read the code, check it: the check's answer."""
    started = await start_otp(client, identifier, login_config_id)
    assert started.status_code == 204, started.text
    code = await code_sent_to(client, identifier["value"])
    headers = {"X-Verification-Token": started.headers["X-Verification-Token"]}
    return await client.dpop("/login/otp/check", json={"code": code}, headers=headers)
