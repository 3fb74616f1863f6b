"""OTP and password rules in process, on a fake clock."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import sessile.login.passwords as passwords_module
from sessile.clock import FixedClock
from sessile.store.user_identifiers import Identifier
from tests.http.conftest import AppClient
from tests.http.session_client import BASE, InProcessClient

EMAIL = {"type": "email_address", "value": "ada@example.com"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000.0)


@pytest.fixture
async def client(make_client: AppClient, clock: FixedClock) -> AsyncIterator[InProcessClient]:
    async with make_client(clock, otp_rate_per_identifier="20/10 minutes") as (http, app):
        yield InProcessClient(http, app, clock)


async def _outbox(client: InProcessClient) -> list[dict[str, Any]]:
    """The outbox once the delivery queue has sent what is due: by the worker's own step,
    or by the app's worker, which may have claimed a message first."""
    while await client.context.sender.deliver_due():
        pass
    deadline = time.monotonic() + 10
    while await client.context.db.deliveries.pending():
        assert time.monotonic() < deadline, "the delivery queue did not drain"
        await asyncio.sleep(0.01)
    return _read_outbox(client.context.settings.outbox_file)


def _read_outbox(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def _start(client: InProcessClient, identifier: dict[str, str] = EMAIL) -> tuple[str, str]:
    response = await client.http.post(BASE + "/login/otp", json={"identifier": identifier})
    assert response.status_code == 204, response.text
    return response.headers["X-Verification-Token"], (await _outbox(client))[-1]["code"]


async def _check(client: InProcessClient, token: str | None, code: str) -> Any:
    headers = {"X-Verification-Token": token} if token else {}
    return await client.dpop("/login/otp/check", json={"code": code}, headers=headers)


async def test_the_sixth_check_fails_even_with_the_right_code(client: InProcessClient) -> None:
    token, code = await _start(client)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = await _check(client, token, wrong)
        assert response.status_code == 400
        assert response.json()["code"] == "bad_check_code"
    sixth = await _check(client, token, code)
    assert sixth.status_code == 400
    assert sixth.json()["code"] == "bad_check_code"
    assert "set-cookie" not in {k.lower() for k in sixth.headers if "refresh" in sixth.headers[k]}


async def test_right_code_logs_in_and_sets_cookies(client: InProcessClient) -> None:
    token, code = await _start(client)
    response = await _check(client, token, code)
    assert response.status_code == 200
    assert set(response.json()) == {"access_token", "expires_at"}
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("__Host-sessile_refresh=") and "HttpOnly" in c for c in cookies)
    assert any(c.startswith("__Host-sessile_otp=;") and "Max-Age=0" in c for c in cookies)
    again = await _check(client, token, code)
    assert again.json()["code"] == "bad_check_code", "a code works once"


async def test_the_browser_flow_rides_on_the_cookie(client: InProcessClient) -> None:
    started = await client.http.post(BASE + "/login/otp", json={"identifier": EMAIL})
    cookie = next(
        c for c in started.headers.get_list("set-cookie") if c.startswith("__Host-sessile_otp=")
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "Max-Age=600" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    code = (await _outbox(client))[-1]["code"]
    response = await client.dpop(
        "/login/otp/check", json={"code": code}, headers={"Cookie": f"__Host-sessile_otp={value}"}
    )
    assert response.status_code == 200


async def test_expired_code(client: InProcessClient) -> None:
    token, code = await _start(client)
    client.clock.advance(601)
    response = await _check(client, token, code)
    assert response.json()["code"] == "bad_check_code"


async def test_code_from_another_challenge_and_missing_token(client: InProcessClient) -> None:
    token_a, _ = await _start(client)
    client.http.cookies.clear()
    _, code_b = await _start(client, {"type": "email_address", "value": "bob@example.com"})
    assert (await _check(client, token_a, code_b)).json()["code"] == "bad_check_code"
    client.http.cookies.clear()  # neither the cookie nor the header
    missing = await _check(client, None, code_b)
    assert missing.status_code == 400
    assert missing.json()["code"] == "bad_check_code"
    forged = await _check(client, token_a.split(".")[0] + ".forged", code_b)
    assert forged.json()["code"] == "bad_check_code"


async def test_resend_after_the_cooldown_replaces_the_code(client: InProcessClient) -> None:
    token, first = await _start(client)
    headers = {"X-Verification-Token": token}
    early = await client.http.post(BASE + "/login/otp/retry", headers=headers)
    assert early.status_code == 429
    assert int(early.headers["Retry-After"]) >= 1
    client.clock.advance(31)
    resent = await client.http.post(BASE + "/login/otp/retry", headers=headers)
    assert resent.status_code == 204
    second = (await _outbox(client))[-1]["code"]
    if second != first:
        assert (await _check(client, token, first)).json()["code"] == "bad_check_code"
    assert (await _check(client, token, second)).status_code == 200


async def test_known_and_unknown_identifiers_get_identical_answers(client: InProcessClient) -> None:
    known_id = {"type": "email_address", "value": "known@example.com"}
    await client.context.db.users.create(
        now=client.clock.now(), identifiers_=[Identifier("email_address", "known@example.com")]
    )
    known = await client.http.post(BASE + "/login/otp", json={"identifier": known_id})
    unknown = await client.http.post(
        BASE + "/login/otp",
        json={"identifier": {"type": "email_address", "value": "nobody@example.com"}},
    )
    assert known.status_code == unknown.status_code == 204
    assert known.content == unknown.content
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())


async def test_unknown_identifier_without_sign_up(
    make_client: AppClient, clock: FixedClock
) -> None:
    async with make_client(clock, otp_signup=False) as (http, app):
        client = InProcessClient(http, app, clock)
        response = await http.post(BASE + "/login/otp", json={"identifier": EMAIL})
        assert response.status_code == 204
        assert await _outbox(client) == [], "nothing is sent for an unknown identifier"
        token = response.headers["X-Verification-Token"]
        for guess in ("123456", "000000"):
            assert (await _check(client, token, guess)).json()["code"] == "bad_check_code"
        found = await client.context.db.users.find_by_identifier(
            Identifier("email_address", "ada@example.com")
        )
        assert found is None, "no user was made"


async def test_rate_limit_per_identifier_and_per_ip(
    make_client: AppClient, clock: FixedClock
) -> None:
    async with make_client(
        clock, otp_rate_per_identifier="2/10 minutes", otp_rate_per_ip="3/10 minutes"
    ) as (
        http,
        _app,
    ):
        for _ in range(2):
            assert (
                await http.post(BASE + "/login/otp", json={"identifier": EMAIL})
            ).status_code == 204
        limited = await http.post(BASE + "/login/otp", json={"identifier": EMAIL})
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 600
        other = {"type": "email_address", "value": "other@example.com"}
        by_ip = await http.post(BASE + "/login/otp", json={"identifier": other})
        assert by_ip.status_code == 429, "the third start from one address hits the per-IP limit"
        assert "Retry-After" in by_ip.headers


async def test_password_rate_limits(make_client: AppClient, clock: FixedClock) -> None:
    async with make_client(clock, password_rate_per_identifier="3/15 minutes") as (http, _app):
        body = {"identifier": EMAIL, "password": "wrong password"}
        for _ in range(3):
            assert (await http.post(BASE + "/login/email/password", json=body)).json()[
                "code"
            ] == "unauthorized"
        limited = await http.post(BASE + "/login/email/password", json=body)
        assert limited.status_code == 429
        assert "Retry-After" in limited.headers


async def test_unknown_user_password_path_runs_argon2(
    client: InProcessClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = passwords_module._verify

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(passwords_module, "_verify", counting)
    response = await client.http.post(
        BASE + "/login/email/password",
        json={
            "identifier": {"type": "email_address", "value": "ghost@example.com"},
            "password": "whatever1",
        },
    )
    assert response.json()["code"] == "unauthorized"
    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_sign_up_closed(make_client: AppClient, clock: FixedClock) -> None:
    async with make_client(clock, password_signup=False) as (http, _app):
        response = await http.post(
            BASE + "/login/email/sign-up", json={"identifier": EMAIL, "password": "long enough pw"}
        )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/login/otp", b"{nope", "bad_request"),
        ("/login/otp", b"[]", "bad_request"),
        ("/login/otp", b"{}", "bad_request"),
        (
            "/login/otp",
            b'{"identifier": {"type": "email_address", "value": "not-an-email"}}',
            "invalid_identifier",
        ),
        (
            "/login/otp",
            b'{"identifier": {"type": "phone_number", "value": "12"}}',
            "invalid_identifier",
        ),
        ("/login/otp", b'{"identifier": {"type": "fax", "value": "1"}}', "invalid_identifier"),
        ("/login/email/password", b'{"identifier": {"value": "a@b.co"}}', "bad_request"),
        ("/login/email/sign-up", b"\xff\xfe", "bad_request"),
    ],
)
async def test_malformed_bodies_get_json_errors(
    client: InProcessClient, path: str, body: bytes, code: str
) -> None:
    response = await client.http.post(
        BASE + path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == code


async def test_oversized_body(client: InProcessClient) -> None:
    response = await client.http.post(BASE + "/login/otp", content=b"{" + b" " * 70_000 + b"}")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
