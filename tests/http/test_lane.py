"""The refresh answered by RefreshLane, ahead of FastAPI's router: same rules, same errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from sessile.client import AsyncSessionClient, SessionClientError
from sessile.context import AppContext
from tests.apps import AppClient

BASE = "https://auth.test"
REFRESH = {"route": "/v1/session/refresh", "method": "POST"}


def _requests(status: str) -> float:
    return (
        REGISTRY.get_sample_value("sessile_http_requests_total", {**REFRESH, "status": status})
        or 0.0
    )


async def _logged_in(http: httpx.AsyncClient, context: AppContext) -> AsyncSessionClient:
    """A client holding a fresh session of a new user."""
    user = await context.db.users.create(now=context.clock.now())
    client = AsyncSessionClient(BASE, http=http)
    await client.finalize(await context.challenges.issue(user_id=user.id, auth_method="otp"))
    return client


async def test_refresh_metrics_carry_the_route_template(make_client: AppClient) -> None:
    async with make_client() as (http, app):
        context = app.state.context
        client = await _logged_in(http, context)
        ok = _requests("200")
        await client.refresh()
        await client.refresh()
        assert _requests("200") == ok + 2
        refused = _requests("401")
        unproven = await http.post(BASE + REFRESH["route"])  # no DPoP proof
        assert unproven.status_code == 401
        assert "DPoP-Nonce" in unproven.headers
        assert _requests("401") == refused + 1


async def test_a_database_error_revoking_a_reused_token_answers_503_and_keeps_the_session(
    make_client: AppClient,
) -> None:
    # With no grace, the replaced token is reuse: its revocation is a transaction of its
    # own, after the rotation that found the reuse, and its error answers 503 too.
    async with make_client(refresh_grace=0) as (http, app):
        context = app.state.context
        client = await _logged_in(http, context)
        replaced = client.tokens
        await client.refresh()
        current = client.tokens
        async with context.db.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE revocations RENAME TO revocations_gone"))
        client.tokens = replaced
        with pytest.raises(SessionClientError) as caught:
            await client.refresh()
        assert (caught.value.status, caught.value.code) == (503, "service_unavailable")
        async with context.db.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE revocations_gone RENAME TO revocations"))
        client.tokens = current
        await client.refresh()  # the failed revocation ended nothing
        assert (await client.list_sessions())["total"] == 1


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b" " * size


async def test_an_oversized_refresh_body_is_refused_declared_or_streamed(
    make_client: AppClient,
) -> None:
    async with make_client(max_body_bytes=1024) as (http, app):
        context = app.state.context
        client = await _logged_in(http, context)
        url = BASE + REFRESH["route"]
        declared = await http.post(url, content=b" " * 2048)
        # A streamed body is read by the endpoint, after the proof: inside the DPoP wrapping.
        proof = client.key.proof("POST", url, nonce=client.nonce)
        streamed = await http.post(url, content=_chunks(4, 512), headers={"DPoP": proof})
    assert (declared.status_code, declared.json()["code"]) == (413, "payload_too_large")
    assert (streamed.status_code, streamed.json()["code"]) == (413, "payload_too_large")
    assert "DPoP-Nonce" in streamed.headers


async def test_a_cross_site_refresh_is_refused_before_the_endpoint(make_client: AppClient) -> None:
    async with make_client() as (http, _app):
        response = await http.post(
            BASE + REFRESH["route"], headers={"Origin": "https://evil.example"}
        )
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert "DPoP-Nonce" not in response.headers


async def test_the_lane_and_the_route_answer_alike(make_client: AppClient) -> None:
    # No body: the lane answers. A body: the route does. Both in header mode, then in
    # cookie mode, from an allowed origin.
    async with make_client(cors_origins=["https://app.test"]) as (http, app):
        context = app.state.context
        client = await _logged_in(http, context)
        url = BASE + REFRESH["route"]

        async def refresh(body: bytes, headers: dict[str, str]) -> httpx.Response:
            proof = client.key.proof("POST", url, nonce=client.nonce)
            answer = await http.post(url, content=body, headers={"DPoP": proof, **headers})
            assert answer.status_code == 200, answer.text
            return answer

        token = client.tokens.refresh_token or ""
        answers = []
        for body in (b"", b"{}"):
            answer = await refresh(body, {"X-Refresh-Token": token, "Origin": "https://app.test"})
            token = answer.headers["x-refresh-token"]
            answers.append(answer)
        lane, route = answers
        assert sorted(lane.json()) == sorted(route.json()) == ["access_token", "expires_at"]
        varying = {"date", "content-length", "dpop-nonce", "x-refresh-token"}
        varying.add("x-refresh-token-expires-at")
        assert {k: v for k, v in lane.headers.items() if k not in varying} == {
            k: v for k, v in route.headers.items() if k not in varying
        }
        assert lane.headers["access-control-allow-origin"] == "https://app.test"
        assert lane.headers["cache-control"] == "no-store"
        assert lane.headers["dpop-nonce"]

        # Cookie mode: the token in the cookie, the new one in Set-Cookie, both ways.
        cookie_name = context.settings.cookie_name
        attributes = []
        for body in (b"", b"{}"):
            answer = await refresh(body, {"Cookie": f"{cookie_name}={token}"})
            http.cookies.clear()
            assert "x-refresh-token" not in answer.headers
            set_cookie = answer.headers["set-cookie"]
            assert set_cookie.startswith(f"{cookie_name}=ses_")
            token = set_cookie.split(";")[0].split("=", 1)[1]
            attributes.append(set_cookie.split(";", 1)[1])
        assert attributes[0] == attributes[1]  # the same attributes and lifetime


@pytest.mark.parametrize("body", [b"", b"{}"], ids=["lane", "route"])
async def test_a_refused_refresh_uses_its_proof_up(make_client: AppClient, body: bytes) -> None:
    # Refused after the proof's checks (no refresh token): the proof is spent, so the
    # rotation, which reads only the key's sessions, must not take it afterwards.
    async with make_client() as (http, app):
        client = await _logged_in(http, app.state.context)
        url = BASE + REFRESH["route"]
        proof = client.key.proof("POST", url, nonce=client.nonce)
        first = await http.post(url, content=body, headers={"DPoP": proof})
        assert (first.status_code, first.json()["code"]) == (401, "unauthorized")
        again = await http.post(
            url,
            content=body,
            headers={"DPoP": proof, "X-Refresh-Token": client.tokens.refresh_token or ""},
        )
        assert (again.status_code, again.json()["code"]) == (401, "invalid_dpop_proof")
        assert "DPoP-Nonce" in again.headers
        await client.refresh()  # a new proof still works, on the same token


async def test_the_first_of_two_refresh_tokens_is_the_one_held_to_the_key(
    make_client: AppClient,
) -> None:
    # As Starlette reads headers: the first one counts, and it must be the proof key's.
    async with make_client() as (http, app):
        context = app.state.context
        alice = await _logged_in(http, context)
        mallory = await _logged_in(http, context)
        url = BASE + REFRESH["route"]
        answer = await http.post(
            url,
            headers=[
                ("DPoP", alice.key.proof("POST", url, nonce=alice.nonce)),
                ("X-Refresh-Token", mallory.tokens.refresh_token or ""),
                ("X-Refresh-Token", alice.tokens.refresh_token or ""),
            ],
        )
        assert (answer.status_code, answer.json()["code"]) == (401, "dpop_key_mismatch")
        await alice.refresh()
        await mallory.refresh()


async def test_a_proof_spent_before_the_login_never_rotates_the_new_session(
    make_client: AppClient,
) -> None:
    # A page asks for a refresh before anyone logs in with its key: refused, and its
    # proof spent while the key has no session to mark. The session that login opens
    # next must not take that proof either.
    async with make_client() as (http, app):
        context = app.state.context
        client = AsyncSessionClient(BASE, http=http)
        url = BASE + REFRESH["route"]
        first = await http.post(url, headers={"DPoP": client.key.proof("POST", url)})
        assert first.json()["code"] == "use_dpop_nonce"
        early = client.key.proof("POST", url, nonce=first.headers["DPoP-Nonce"])
        refused = await http.post(url, headers={"DPoP": early})
        assert (refused.status_code, refused.json()["code"]) == (401, "unauthorized")
        user = await context.db.users.create(now=context.clock.now())
        await client.finalize(await context.challenges.issue(user_id=user.id, auth_method="otp"))
        replayed = await http.post(
            url, headers={"DPoP": early, "X-Refresh-Token": client.tokens.refresh_token or ""}
        )
        assert (replayed.status_code, replayed.json()["code"]) == (401, "invalid_dpop_proof")
        await client.refresh()  # a new proof still rotates the session
