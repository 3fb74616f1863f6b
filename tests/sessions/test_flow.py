"""Finalize, refresh, list and revoke over HTTP against a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt as pyjwt
import pytest

from sessile.client import DPoPKey, SessionClient, SessionClientError
from tests.live import LiveServer


def _login(server: LiveServer, user_id: str) -> SessionClient:
    client = SessionClient(server.url)
    client.finalize(server.challenge(user_id))
    return client


def test_finalize_refresh_list_and_every_revoke_target(server: LiveServer) -> None:
    user = server.new_user("ada@example.com")
    main = _login(server, user)
    assert main.tokens is not None
    jwks = pyjwt.PyJWKClient(server.url + "/.well-known/jwks.json")
    first_access = main.tokens.access_token
    claims = pyjwt.decode(
        first_access,
        jwks.get_signing_key_from_jwt(first_access).key,
        algorithms=["ES256"],
        audience="default",
        issuer=server.url,
    )
    assert claims["sub"] == user
    assert claims["sid"].startswith("ses_")

    seen = {main.tokens.refresh_token}
    for _ in range(10):
        tokens = main.refresh()
        assert tokens.refresh_token not in seen
        seen.add(tokens.refresh_token)
    assert (
        pyjwt.decode(tokens.access_token, options={"verify_signature": False})["sid"]
        == claims["sid"]
    )

    others = [_login(server, user) for _ in range(4)]
    listing = main.list_sessions()
    assert listing["total"] == 5
    assert listing["limit"] == 10
    assert listing["offset"] == 0
    ids = [s["id"] for s in listing["sessions"]]
    assert ids[-1] == claims["sid"], "newest first: the first session is last"
    assert set(listing["sessions"][0]) == {
        "id",
        "device_type",
        "device_model",
        "os_version",
        "country_code",
        "created_at",
        "last_seen_at",
        "expires_at",
    }

    # session: revoke one other by id; it can no longer refresh.
    victim = others.pop()
    victim_sid = pyjwt.decode(victim.tokens.access_token, options={"verify_signature": False})[
        "sid"
    ]  # type: ignore[union-attr]
    assert main.revoke_sessions("session", victim_sid) == {"revoked": 1}
    with pytest.raises(SessionClientError) as caught:
        victim.refresh()
    assert caught.value.code == "unauthorized"

    # others: everyone but the caller.
    assert main.revoke_sessions("others") == {"revoked": 3}
    for other in others:
        with pytest.raises(SessionClientError):
            other.refresh()
    main.refresh()
    assert main.list_sessions()["total"] == 1

    # mine: the caller's own session.
    second = _login(server, user)
    assert second.revoke_sessions("mine") == {"revoked": 1}
    with pytest.raises(SessionClientError):
        second.refresh()
    main.refresh()

    # all: every session, the caller's included.
    third = _login(server, user)
    assert main.revoke_sessions("all") == {"revoked": 2}
    for client in (main, third):
        with pytest.raises(SessionClientError):
            client.refresh()
    # The revoked session's access token no longer lists sessions.
    with pytest.raises(SessionClientError) as caught:
        main.list_sessions()
    assert caught.value.status == 401


def test_revoking_another_users_session_is_not_found(server: LiveServer) -> None:
    alice = _login(server, server.new_user())
    bob = _login(server, server.new_user())
    bob_sid = bob.list_sessions()["sessions"][0]["id"]
    with pytest.raises(SessionClientError) as caught:
        alice.revoke_sessions("session", bob_sid)
    assert caught.value.code == "not_found"
    assert caught.value.status == 404
    bob.refresh()  # untouched


def test_twenty_concurrent_refreshes_share_one_successor(server: LiveServer) -> None:
    client = _login(server, server.new_user())
    assert client.tokens is not None
    token = client.tokens.refresh_token
    assert token is not None
    client.refresh()  # pick up a nonce
    token = client.tokens.refresh_token
    url = server.url + "/v1/session/refresh"

    def one(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as http:
            proof = client.key.proof("POST", url, nonce=client.nonce)
            return http.post(url, headers={"DPoP": proof, "X-Refresh-Token": token})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(one, range(20)))
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    successors = {r.headers["X-Refresh-Token"] for r in responses}
    assert len(successors) == 1
    # The session is alive and the successor works.
    client.tokens = client.tokens.__class__(
        client.tokens.access_token, client.tokens.expires_at, successors.pop(), None
    )
    client.refresh()
    assert client.list_sessions()["total"] == 1


def test_a_proof_from_another_key_is_a_key_mismatch(server: LiveServer) -> None:
    client = _login(server, server.new_user())
    thief = SessionClient(server.url, key=DPoPKey.generate())
    thief.tokens = client.tokens
    with pytest.raises(SessionClientError) as caught:
        thief.refresh()
    assert caught.value.code == "dpop_key_mismatch"
    assert caught.value.status == 401
    client.refresh()  # the owner is not affected


def test_forged_token_is_rejected_and_revokes_nothing(server: LiveServer) -> None:
    client = _login(server, server.new_user())
    assert client.tokens is not None
    assert client.tokens.refresh_token is not None
    sid, generation, _ = client.tokens.refresh_token.split(".")
    forged = client.tokens.__class__(
        client.tokens.access_token, 0, f"{sid}.{generation}.{'A' * 43}", None
    )
    genuine = client.tokens
    client.tokens = forged
    with pytest.raises(SessionClientError) as caught:
        client.refresh()
    assert caught.value.code == "unauthorized"
    older = client.tokens.__class__(client.tokens.access_token, 0, f"{sid}.0.{'B' * 43}", None)
    client.tokens = older
    with pytest.raises(SessionClientError):
        client.refresh()
    client.tokens = genuine
    client.refresh()  # still alive


def test_logout_revokes_and_clears(server: LiveServer) -> None:
    client = _login(server, server.new_user())
    assert client.tokens is not None
    saved = client.tokens
    client.logout()
    client.tokens = saved
    with pytest.raises(SessionClientError) as caught:
        client.refresh()
    assert caught.value.code == "unauthorized"
