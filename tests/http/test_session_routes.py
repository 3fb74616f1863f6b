"""The session routes in process, on a fake clock: expiry, grace, cookies, CORS and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from http.cookies import SimpleCookie

import pytest

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import BASE, InProcessClient

DAY = 86_400


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000.0)


@pytest.fixture
async def client(make_client: AppClient, clock: FixedClock) -> AsyncIterator[InProcessClient]:
    async with make_client(
        clock,
        session_idle_timeout=2 * DAY,
        session_absolute_lifetime=5 * DAY,
        refresh_grace=30,
        cors_origins="https://app.test",
    ) as (http, app):
        yield InProcessClient(http, app, clock)


def _cookie(response: object, name: str = "__Host-sessile_refresh") -> str:
    for header in response.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        if header.startswith(name + "="):
            return str(header)
    raise AssertionError("no refresh cookie set")


def _cookie_value(header: str) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(header)
    return next(iter(cookie.values())).value


async def test_cookie_attributes_are_exact(client: InProcessClient) -> None:
    login = await client.login()
    assert login.status_code == 200, login.text
    header = _cookie(login)
    value = _cookie_value(header)
    expected = f"__Host-sessile_refresh={value}; Path=/; Max-Age={2 * DAY}; HttpOnly; Secure"
    assert header == expected + "; SameSite=Strict"
    assert "Domain" not in header
    assert "X-Refresh-Token" not in login.headers, "header mode only when asked for"
    body = login.json()
    assert set(body) == {"access_token", "expires_at"}
    assert body["expires_at"] == int(client.clock.now()) + 300


async def test_cookie_max_age_is_bounded_by_the_absolute_lifetime(client: InProcessClient) -> None:
    value = _cookie_value(_cookie(await client.login()))
    for _ in range(4):  # a refresh a day keeps the two-day idle window open
        client.clock.advance(DAY)
        refreshed = await client.dpop("/refresh", cookie=value)
        assert refreshed.status_code == 200, refreshed.text
        value = _cookie_value(_cookie(refreshed))
    # One day of the absolute lifetime is left, less than the two-day idle window.
    assert f"Max-Age={DAY};" in _cookie(refreshed)


async def test_idle_timeout(client: InProcessClient) -> None:
    value = _cookie_value(_cookie(await client.login()))
    client.clock.advance(2 * DAY + 1)
    expired = await client.dpop("/refresh", cookie=value)
    assert expired.status_code == 401
    assert expired.json()["code"] == "unauthorized"


async def test_absolute_lifetime(client: InProcessClient) -> None:
    value = _cookie_value(_cookie(await client.login()))
    for _ in range(5):
        client.clock.advance(DAY)
        response = await client.dpop("/refresh", cookie=value)
        if response.status_code != 200:
            break
        value = _cookie_value(_cookie(response))
    assert response.status_code == 401
    assert client.clock.now() >= 1_800_000_000.0 + 5 * DAY


async def test_grace_repeats_the_successor_then_reuse_revokes(client: InProcessClient) -> None:
    first = _cookie_value(_cookie(await client.login()))
    second = _cookie_value(_cookie(await client.dpop("/refresh", cookie=first)))
    client.clock.advance(29)
    again = await client.dpop("/refresh", cookie=first)
    assert again.status_code == 200
    assert _cookie_value(_cookie(again)) == second, "the exact successor, within the grace"

    client.clock.advance(2)
    reused = await client.dpop("/refresh", cookie=first)
    assert reused.status_code == 401
    # The whole session is revoked: the current token is dead too.
    current = await client.dpop("/refresh", cookie=second)
    assert current.status_code == 401
    [session] = [
        s for s in [await client.context.db.sessions.get(second.split(".")[0])] if s is not None
    ]
    assert session.revoked_reason == "refresh_token_reuse"


async def test_an_older_genuine_token_revokes_too(client: InProcessClient) -> None:
    tokens = [_cookie_value(_cookie(await client.login()))]
    for _ in range(3):
        response = await client.dpop("/refresh", cookie=tokens[-1])
        tokens.append(_cookie_value(_cookie(response)))
    reused = await client.dpop("/refresh", cookie=tokens[0])
    assert reused.status_code == 401
    session = await client.context.db.sessions.get(tokens[0].split(".")[0])
    assert session is not None
    assert session.revoked_reason == "refresh_token_reuse"


async def test_grace_needs_the_same_key(client: InProcessClient) -> None:
    from sessile.client import DPoPKey

    first = _cookie_value(_cookie(await client.login()))
    await client.dpop("/refresh", cookie=first)
    other = await client.dpop("/refresh", key=DPoPKey.generate(), cookie=first)
    assert other.status_code == 401
    assert other.json()["code"] == "dpop_key_mismatch"
    assert other.json()["error"] == "invalid_dpop_proof"


async def test_header_mode_when_asked(client: InProcessClient) -> None:
    login = await client.login(headers={"X-Refresh-Token-Mode": "header"})
    assert "set-cookie" not in login.headers
    token = login.headers["X-Refresh-Token"]
    ends = datetime.fromisoformat(login.headers["X-Refresh-Token-Expires-At"])
    assert ends.timestamp() == int(client.clock.now()) + 2 * DAY
    assert login.headers["X-Refresh-Token-Expires-At"].endswith("Z"), "RFC 3339, UTC"
    refreshed = await client.dpop("/refresh", headers={"X-Refresh-Token": token})
    assert refreshed.status_code == 200
    assert refreshed.headers["X-Refresh-Token"] != token


async def test_every_dpop_response_carries_a_nonce(client: InProcessClient) -> None:
    no_proof = await client.http.post(BASE + "/refresh")
    assert no_proof.status_code == 401
    assert no_proof.json()["code"] == "missing_dpop_proof"
    assert no_proof.headers["DPoP-Nonce"]
    assert no_proof.headers["WWW-Authenticate"].startswith("DPoP ")
    login = await client.login()
    assert login.headers["DPoP-Nonce"]
    bad_body = await client.dpop(
        "/login/finalize", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_body.status_code == 400
    assert bad_body.json()["code"] == "bad_request"
    assert bad_body.headers["DPoP-Nonce"]


async def test_empty_json_body_is_accepted_on_refresh(client: InProcessClient) -> None:
    value = _cookie_value(_cookie(await client.login()))
    response = await client.dpop(
        "/refresh",
        content=b"",
        headers={"Content-Type": "application/json"},
        cookie=value,
    )
    assert response.status_code == 200


async def test_finalize_errors_change_nothing(client: InProcessClient) -> None:
    challenge = await client.new_challenge()
    missing = await client.dpop("/login/finalize", json={})
    assert missing.json()["code"] == "bad_request"
    wrong = await client.dpop("/login/finalize", json={"challenge_token": "chl_nope"})
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_challenge_token")
    ok = await client.dpop("/login/finalize", json={"challenge_token": challenge})
    assert ok.status_code == 200
    again = await client.dpop("/login/finalize", json={"challenge_token": challenge})
    assert (again.status_code, again.json()["code"]) == (409, "token_reused"), "single use"


async def test_refresh_without_a_token(client: InProcessClient) -> None:
    response = await client.dpop("/refresh")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_list_has_no_token_or_hash_and_validates_pagination(client: InProcessClient) -> None:
    login = await client.login()
    access = login.json()["access_token"]
    refresh = _cookie_value(_cookie(login))
    bearer = {"Authorization": f"Bearer {access}"}
    listing = await client.http.get(BASE + "/me/list", headers=bearer)
    assert listing.status_code == 200
    text = listing.text
    row = await client.context.db.sessions.get(refresh.split(".")[0])
    assert row is not None
    for secret in (refresh, refresh.split(".")[2], row.refresh_hash, row.jkt, access):
        assert secret not in text
    for query, code in [
        ("limit=0", "invalid_pagination_limit"),
        ("limit=101", "invalid_pagination_limit"),
        ("limit=ten", "invalid_pagination_limit"),
        ("offset=-1", "invalid_pagination_offset"),
        ("offset=x", "invalid_pagination_offset"),
    ]:
        bad = await client.http.get(BASE + "/me/list?" + query, headers=bearer)
        assert bad.status_code == 400
        assert bad.json()["code"] == code
    page = await client.http.get(BASE + "/me/list?limit=100&offset=0", headers=bearer)
    assert page.json()["limit"] == 100


async def test_bearer_routes_need_a_valid_token(client: InProcessClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = await client.http.get(BASE + "/me/list", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    bad_target = await client.http.post(
        BASE + "/me/revoke?target=everyone",
        headers={"Authorization": f"Bearer {(await client.login()).json()['access_token']}"},
    )
    assert bad_target.json()["code"] == "bad_request"


async def test_cors_preflight(client: InProcessClient) -> None:
    allowed = await client.http.options(
        BASE + "/refresh",
        headers={
            "Origin": "https://app.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "dpop, content-type, x-sdk-user-agent",
        },
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.test"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    for name in (
        "dpop",
        "x-refresh-token",
        "x-sdk-user-agent",
        "x-verification-token",
        "authorization",
    ):
        assert name in allowed_headers

    refused = await client.http.options(
        BASE + "/refresh",
        headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers

    simple = await client.http.post(BASE + "/refresh", headers={"Origin": "https://app.test"})
    exposed = simple.headers["access-control-expose-headers"].lower()
    for name in (
        "dpop-nonce",
        "x-refresh-token",
        "x-refresh-token-expires-at",
        "date",
        "retry-after",
    ):
        assert name in exposed


async def test_sessions_list_device_and_country_from_the_request(
    make_client: AppClient, clock: FixedClock
) -> None:
    async with make_client(clock, trusted_proxies="127.0.0.1", country_header="CF-IPCountry") as (
        http,
        app,
    ):
        client = InProcessClient(http, app, clock)
        user_agent = (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
        )
        login = await client.login(headers={"User-Agent": user_agent, "CF-IPCountry": "NL"})
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        [session] = (await http.get(BASE + "/me/list", headers=bearer)).json()["sessions"]
    assert session["device_type"] == "desktop"
    assert session["os_version"] == "Windows 10"
    assert session["country_code"] == "NL"
    assert session["created_at"].endswith("Z")
