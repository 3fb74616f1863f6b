"""Minted tokens never pass for a session's on a real server: a key with the ``tokens``
scope can mint for any user, but cannot choose ``sid``, ``scope`` or ``cc``, and no route of
sessile's takes what it mints; backends that opt in still verify it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sessile.api_keys import ApiKeys
from sessile.audit_trail import AuditTrail
from sessile.client import SessionClient, SessionClientError
from sessile.clock import SystemClock
from sessile.store.database import Database
from sessile.verify import InvalidClaim, Verifier
from tests.live import LiveServer, live_server
from tests.stepup.conftest import MANY
from tests.stepup.flow import StepUpClient, claims_of, log_in


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "SESSILE_MINT_TOKENS": "true",
        "SESSILE_STEPUP_SCOPES": json.dumps({"prld:pwd:write": ["verify_email"]}),
        **MANY,
    }
    with live_server(tmp_path_factory.mktemp("minted"), env=env) as live:
        yield live


def _minting_key(server: LiveServer) -> str:
    """A management key with the ``tokens`` scope alone."""

    async def work() -> str:
        db = Database.from_url(server.database_url)
        try:
            keys = ApiKeys(db.api_keys, AuditTrail(db.audit, SystemClock()), SystemClock())
            return (await keys.create("minting", scopes=["tokens"]))[1]
        finally:
            await db.close()

    return asyncio.run(work())


def _mint(server: LiveServer, key: str, **body: Any) -> httpx.Response:
    return httpx.post(
        server.url + "/v2/session/apps/default/tokens",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
    )


def _session_calls(victim: StepUpClient, token: str) -> dict[str, httpx.Response]:
    """Every Bearer route of ``/v1/session``, called with ``token``."""
    auth = {"Authorization": f"Bearer {token}"}
    base = victim.base
    http = victim.http
    return {
        "GET /me": http.get(base + "/me", headers=auth),
        "GET /me/list": http.get(base + "/me/list", headers=auth),
        "GET /me/identifiers": http.get(base + "/me/identifiers", headers=auth),
        "POST /me/password/reset": http.post(
            base + "/me/password/reset", json={"password": "a takeover passphrase"}, headers=auth
        ),
        "POST /me/identifiers/remove": http.post(
            base + "/me/identifiers/remove",
            json={"identifier": {"type": "email_address", "value": victim.email}},
            headers=auth,
        ),
        "POST /stepup/request": http.post(
            base + "/stepup/request", json={"scope": "prld:pwd:write"}, headers=auth
        ),
        "POST /stepup/continue": http.post(
            base + "/stepup/continue", json={"challenge_token": "x"}, headers=auth
        ),
        "POST /me/revoke": http.post(base + "/me/revoke?target=all", headers=auth),
    }


def test_a_minting_key_cannot_act_as_a_session(server: LiveServer) -> None:
    victim = log_in(server)
    # The victim holds a live prld:pwd:write grant, as during a password change.
    assert victim.session.tokens is not None
    granted = victim.session.refresh(victim.step_up("prld:pwd:write"))
    victim_claims = claims_of(granted.access_token)
    assert "prld:pwd:write" in victim_claims["scope"].split()
    key = _minting_key(server)

    # The token the attack needs: the victim's sub, live sid and the granted scope.
    forged = {
        "sub": victim_claims["sub"],
        "sid": victim_claims["sid"],
        "scope": "session prld:pwd:write",
    }
    refused = _mint(server, key, claims=forged)
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == "bad_request"
    assert "scope" in refused.json()["message"]
    assert "sid" in refused.json()["message"]
    for reserved in ({"cc": {"tier": "gold"}}, {"minted": False}, {"aud": "other"}):
        answer = _mint(server, key, claims={"sub": victim_claims["sub"], **reserved})
        assert answer.status_code == 400, reserved
        assert next(iter(reserved)) in answer.json()["message"]

    # What may be minted for the victim passes no Bearer route of sessile's.
    minted = _mint(server, key, claims={"sub": victim_claims["sub"]})
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    assert (claims_of(token)["sid"], claims_of(token)["minted"]) == ("minted", True)
    for_user = _mint(server, key, user_id=victim_claims["sub"])
    assert for_user.status_code == 201, for_user.text
    for minted_token in (token, for_user.json()["token"]):
        for call, answer in _session_calls(victim, minted_token).items():
            assert answer.status_code == 401, (call, answer.text)
            assert answer.json()["code"] == "unauthorized", call

    # Nothing happened to the victim: the session lives, the grant is unspent.
    assert victim.session.tokens is not None
    assert victim.session.list_sessions()["sessions"]
    changed = victim.post_me("/password/reset", {"password": "the owner's passphrase"})
    assert changed.status_code == 204, changed.text

    # A backend that opts in still verifies minted tokens; the default still refuses them.
    jwks = httpx.get(server.url + "/.well-known/jwks.json").json()
    issuer, audience = victim_claims["iss"], victim_claims["aud"]
    relaxed = Verifier(issuer, audience, jwks=jwks, accept_minted=True)
    assert relaxed.verify(token).sub == victim_claims["sub"]
    with pytest.raises(InvalidClaim):
        Verifier(issuer, audience, jwks=jwks).verify(token)


def test_a_minted_token_opens_no_other_door(server: LiveServer) -> None:
    """The same attack by other spellings and other routes: an escaped or repeated claim
    name, and the minted token offered as a step-up token or a login's challenge token."""
    victim = log_in(server)
    assert victim.session.tokens is not None
    sub = claims_of(victim.session.tokens.access_token)["sub"]
    sid = claims_of(victim.session.tokens.access_token)["sid"]
    key = _minting_key(server)
    url = server.url + "/v2/session/apps/default/tokens"
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    claims = f'"sub": "{sub}"'
    for raw in (
        f'{{"claims": {{{claims}, "s\\u0069d": "{sid}"}}}}',
        f'{{"claims": {{{claims}, "scope": "x", "scope": "session"}}}}',
        f'{{"claims": {{{claims}}}, "claims": {{{claims}, "sid": "{sid}"}}}}',
    ):
        answer = httpx.post(url, content=raw.encode(), headers=auth)
        assert answer.status_code == 400, raw
    token = _mint(server, key, user_id=sub).json()["token"]
    with pytest.raises(SessionClientError) as as_step_up:
        victim.session.refresh(token)
    assert as_step_up.value.code == "invalid_challenge_token"
    with pytest.raises(SessionClientError) as as_login:
        SessionClient(server.url).finalize(token)
    assert as_login.value.code == "invalid_challenge_token"
