"""Minted tokens (``POST …/tokens``, Prelude's "mint token"), and the ``cc`` every token
carries, in process."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sessile.clock import FixedClock
from sessile.verify import AsyncVerifier, InvalidClaim
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient

APP = "https://auth.test/v2/session/apps/default"
NOW = 1_800_000_000.0


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


async def test_tokens_are_cc_empty_without_a_mapping(make_client: AppClient) -> None:
    clock = FixedClock(NOW)
    async with make_client(clock) as (http, app):
        client = InProcessClient(http, app, clock)
        login = await client.dpop(
            "/login/finalize", json={"challenge_token": await client.new_challenge()}
        )
        assert _payload(login.json()["access_token"])["cc"] == {}


async def test_minting_is_off_unless_enabled(make_client: AppClient) -> None:
    async with make_client(FixedClock(NOW)) as (http, app):
        _, key = await app.state.context.api_keys.create("b")
        refused = await http.post(APP + "/tokens", headers={"Authorization": f"Bearer {key}"},
                                  json={"claims": {"sub": "svc"}})  # fmt: skip
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"


async def test_minted_tokens_are_marked_capped_audited_and_refused_by_default(
    make_client: AppClient,
) -> None:
    clock = FixedClock(NOW)
    async with make_client(clock, mint_tokens=True) as (http, app):
        context = app.state.context
        _, key = await context.api_keys.create("b")
        auth = {"Authorization": f"Bearer {key}"}
        body = {"claims": {"sub": "svc-1", "role": "jobs"}, "ttl": 600}
        minted = await http.post(APP + "/tokens", headers=auth, json=body)
        assert minted.status_code == 201, minted.text
        claims = _payload(minted.json()["token"])
        assert (claims["sub"], claims["role"], claims["minted"]) == ("svc-1", "jobs", True)
        assert claims["exp"] == int(NOW) + 600
        assert minted.json()["expires_at"] == "2027-01-15T08:10:00Z"
        for body in [{"ttl": 86_401}, {"claims": {"exp": "soon"}}, {"claims": {"exp": True}},
                     {"claims": {"exp": int(NOW)}}, {"claims": {"exp": int(NOW) - 5}},
                     {"claims": "sub"}, {"user_id": "usr_nobody"}]:  # fmt: skip
            refused = await http.post(APP + "/tokens", headers=auth, json=body)
            assert refused.status_code in (400, 404), body
        for raw in (b'{"claims": {"exp": Infinity}}', b'{"claims": {"exp": NaN}}',
                    b'{"claims": {"x": -Infinity}}', b'{"claims": {"x": "\\ud800"}}',
                    b'{"claims": {"x": {"y": ["\\u0000"]}}}'):  # fmt: skip
            refused = await http.post(APP + "/tokens", headers=auth, content=raw)
            assert refused.status_code == 400, raw
        user = await http.post(APP + "/users", headers=auth, json={
            "identifiers": [{"type": "email_address", "value": "m@example.com"}]})  # fmt: skip
        uid = user.json()["id"]
        for_user = await http.post(APP + "/tokens", headers=auth, json={"user_id": uid})
        assert _payload(for_user.json()["token"])["sub"] == uid
        audited = await context.db.audit.list(event_type="token.minted")
        assert [a.data["sub"] for a in audited] == ["svc-1", uid]

        jwks = (await http.get("https://auth.test/.well-known/jwks.json")).json()
        strict = AsyncVerifier("https://auth.test", "default", jwks=jwks, clock=clock)
        with pytest.raises(InvalidClaim) as caught:
            await strict.verify(minted.json()["token"])
        assert caught.value.claim == "minted"
        relaxed = AsyncVerifier("https://auth.test", "default", jwks=jwks,
                                clock=clock, accept_minted=True)  # fmt: skip
        assert (await relaxed.verify(minted.json()["token"])).sub == "svc-1"


async def test_prelude_defaults_exp_caps_it_and_fills_iat_and_jti(make_client: AppClient) -> None:
    async with make_client(FixedClock(NOW), mint_tokens=True) as (http, app):
        _, key = await app.state.context.api_keys.create("b")
        auth = {"Authorization": f"Bearer {key}"}
        plain = await http.post(APP + "/tokens", headers=auth, json={"claims": {"sub": "svc"}})
        assert plain.status_code == 201, plain.text
        claims = _payload(plain.json()["token"])
        assert claims["exp"] == int(NOW) + 86_400
        assert plain.json()["expires_at"] == "2027-01-16T08:00:00Z"
        assert claims["iat"] == int(NOW)
        assert isinstance(claims["jti"], str)
        assert len(claims["jti"]) >= 16
        second = _payload(
            (await http.post(APP + "/tokens", headers=auth, json={"claims": {}})).json()["token"]
        )
        assert second["jti"] != claims["jti"]
        # A later exp is capped at 24 hours, not refused; given iat and jti are kept.
        given = {"exp": int(NOW) + 7 * 86_400, "iat": int(NOW) - 10, "jti": "mine", "tier": 1}
        capped = await http.post(APP + "/tokens", headers=auth, json={"claims": given})
        assert capped.status_code == 201, capped.text
        claims = _payload(capped.json()["token"])
        assert (claims["exp"], claims["iat"], claims["jti"]) == (
            int(NOW) + 86_400,
            int(NOW) - 10,
            "mine",
        )
        assert claims["tier"] == 1
        assert capped.json()["expires_at"] == "2027-01-16T08:00:00Z"
        fractional = await http.post(APP + "/tokens", headers=auth,
                                     json={"claims": {"exp": NOW + 60.5}})  # fmt: skip
        assert _payload(fractional.json()["token"])["exp"] == int(NOW) + 60


async def test_a_minted_token_stays_marked_whatever_the_claims_say(make_client: AppClient) -> None:
    async with make_client(FixedClock(NOW), mint_tokens=True) as (http, app):
        context = app.state.context
        _, key = await context.api_keys.create("b")
        auth = {"Authorization": f"Bearer {key}"}
        mapping = {"mapping": {"tier": {"$custom_claim": "tier"}}}
        assert (await http.put(APP + "/config/claims", headers=auth, json=mapping)).is_success
        user = await http.post(APP + "/users", headers=auth, json={
            "identifiers": [{"type": "email_address", "value": "m@example.com"}],
            "profile": {"tier": "gold", "minted": False}})  # fmt: skip
        uid = user.json()["id"]
        # The mark, the session and the scope are sessile's: asking for them is refused.
        for claims in ({"minted": False}, {"minted": None}, {"sid": "ses_x"},
                       {"scope": "session admin"}, {"cc": {"tier": "x"}}):  # fmt: skip
            refused = await http.post(APP + "/tokens", headers=auth,
                                      json={"claims": claims, "user_id": uid})  # fmt: skip
            assert refused.status_code == 400, claims
            assert next(iter(claims)) in refused.json()["message"]
        answer = await http.post(APP + "/tokens", headers=auth,
                                 json={"claims": {"tier": "platinum"}, "user_id": uid})  # fmt: skip
        assert answer.status_code == 201, answer.text
        payload = _payload(answer.json()["token"])
        assert payload["minted"] is True
        assert (payload["sub"], payload["tier"], payload["cc"]) == (uid, "platinum", {})
        assert (payload["sid"], payload["scope"]) == ("minted", "session")
        # And no route of sessile's takes it for the user's session.
        bearer = {"Authorization": f"Bearer {answer.json()['token']}"}
        me = await http.get("https://auth.test/v1/session/me", headers=bearer)
        assert (me.status_code, me.json()["code"]) == (401, "unauthorized")


async def test_minting_needs_the_tokens_scope(make_client: AppClient) -> None:
    async with make_client(FixedClock(NOW), mint_tokens=True) as (http, app):
        context = app.state.context
        _, narrow = await context.api_keys.create("n", scopes=["users:write", "config"])
        refused = await http.post(APP + "/tokens", headers={"Authorization": f"Bearer {narrow}"},
                                  json={"claims": {"sub": "svc"}})  # fmt: skip
        assert refused.status_code == 403
        assert "tokens" in refused.json()["message"]
        assert await context.db.audit.list(event_type="token.minted") == []
