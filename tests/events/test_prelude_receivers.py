"""Two receivers written from Prelude's docs (``tests/events/prelude_receiver.py``, which
knows nothing of sessile) get every event type from a live server: one checks each
delivery's RSASSA-PSS signature with the key of ``/.well-known/jwks.json`` (with
``cryptography`` alone), the other the HMAC option; both check each documented payload
field and its type."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jwt as pyjwt
import pytest

from sessile.client import SessionClient
from sessile.clock import SystemClock
from sessile.store.database import Database
from sessile.verify import Verifier
from tests.events.management import SERVER_ENV, Management
from tests.events.prelude_receiver import DOCUMENTED, PreludeReceiver, prelude_receiver
from tests.live import LiveServer, live_server

TOKEN = "prelude-docs-token"
EMITTED = set(DOCUMENTED)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("prelude"), env=SERVER_ENV) as live:
        yield live


def _register(api: Management, inbox: PreludeReceiver, **extra: str) -> str:
    created = api.call("POST", "/webhooks", 201, json={
        "url": inbox.url, "verification_token": TOKEN, "events": sorted(EMITTED), **extra,
    })  # fmt: skip
    webhook_id: str = created["webhook"]["id"]
    if extra.get("signature") == "hmac-sha256":
        inbox.secret = created["secret"]
    else:
        assert set(created) == {"webhook"}
    return webhook_id


def _record_step_up_failure(server: LiveServer, user_id: str) -> None:
    """What the step-up service records when its delegation hook fails."""

    async def work() -> None:
        db = Database.from_url(server.database_url)
        try:
            await db.events.record(
                "step_up.hook_failed",
                user_id=user_id,
                payload={"reason": "invalid_status_code", "scope_requested": "transfer:write"},
                now=SystemClock().now(),
            )
        finally:
            await db.close()

    asyncio.run(work())


def _every_event_of_one_user(server: LiveServer, api: Management) -> str:
    user = api.create_user("grace@example.com", profile={"first_name": "Grace"})
    uid: str = user["id"]
    api.call("PATCH", f"/users/{uid}/profile", 204, json={"last_name": "Hopper"})
    phone = {"type": "phone_number", "value": "+33612345678"}
    api.call("POST", f"/users/{uid}/identifiers", 201, json={"identifier": phone})
    api.call("DELETE", f"/users/{uid}/identifiers/phone_number/+33612345678", 204)
    client = SessionClient(server.url)
    client.finalize(server.challenge(uid))
    session_id = client.list_sessions()["sessions"][0]["id"]
    api.call("DELETE", f"/users/{uid}/sessions/{session_id}", 204)
    _record_step_up_failure(server, uid)
    api.call("DELETE", f"/users/{uid}", 204)
    return uid


@dataclass(frozen=True)
class Delivered:
    user_id: str
    pss: PreludeReceiver
    hmac: PreludeReceiver


@pytest.fixture(scope="module")
def delivered(server: LiveServer) -> Delivered:
    """Every event of one user, delivered to both receivers."""
    api = Management(server.url, server.api_key())
    jwks_url = server.url + "/.well-known/jwks.json"
    with (
        prelude_receiver(app_id="default", verification_token=TOKEN, jwks_url=jwks_url) as pss,
        prelude_receiver(
            app_id="default", verification_token=TOKEN, old_activation_answer=True
        ) as keyed,
    ):
        pss_id = _register(api, pss)
        hmac_id = _register(api, keyed, signature="hmac-sha256")
        assert api.call("POST", f"/webhooks/{pss_id}/activate")["webhook"]["active"] is True
        assert api.call("GET", f"/webhooks/{hmac_id}/activate")["webhook"]["active"] is True
        uid = _every_event_of_one_user(server, api)
        pss.wait_for(EMITTED)
        keyed.wait_for(EMITTED)
        time.sleep(0.5)  # room for a duplicate or a stray delivery to show up
    return Delivered(uid, pss, keyed)


def test_receivers_built_from_prelude_docs_accept_every_event(delivered: Delivered) -> None:
    pss, keyed, uid = delivered.pss, delivered.hmac, delivered.user_id
    for inbox in (pss, keyed):
        [challenge] = inbox.challenges
        assert set(challenge) == {"event", "verification_token", "challenge", "app_id"}
        assert challenge["challenge"].isdigit()

    for inbox in (pss, keyed):
        assert inbox.problems == []
        assert Counter(name for name, _ in inbox.events) == Counter(EMITTED)
        assert {payload["user_id"] for _, payload in inbox.events} == {uid}
        assert [name for name, _ in inbox.events] == [
            "user.created",
            "user.profile.updated",
            "user.identifier.created",
            "user.identifier.deleted",
            "user.session.created",
            "user.session.revoked",
            "step_up.hook_failed",
            "user.deleted",
        ], "a user's events arrive in order"
    headers = pss.deliveries[0][1]
    assert headers["x-webhook-signature"].startswith("rsassa-pss-sha256=")
    assert headers["x-webhook-signature-key-id"]
    assert keyed.deliveries[0][1]["x-webhook-signature"].startswith("sha256=")
    created = dict(pss.events)["user.created"]
    assert created["source"] == "api"
    assert created["profile"] == {"first_name": "Grace"}
    assert {"type": "email_address", "value": "grace@example.com"}.items() <= (
        created["identifiers"][0].items()
    )
    assert dict(pss.events)["user.profile.updated"]["profile"] == {
        "first_name": "Grace",
        "last_name": "Hopper",
    }


def test_the_jwks_still_serves_access_token_verifiers(
    server: LiveServer, delivered: Delivered
) -> None:
    """After deliveries, the JWKS holds an RSA key beside the token keys; a token's kid
    picks an ES256 key, never the RSA one."""
    jwks = httpx.get(server.url + "/.well-known/jwks.json", timeout=10).json()["keys"]
    by_alg = Counter(k["alg"] for k in jwks)
    assert by_alg["ES256"] >= 1
    assert by_alg["PS256"] >= 1
    rsa = [k for k in jwks if k["alg"] == "PS256"]
    assert all(k["kty"] == "RSA" and k["use"] == "sig" for k in rsa)
    assert all(not {"d", "p", "q", "dp", "dq", "qi"} & k.keys() for k in jwks)
    assert jwks[0]["alg"] == "ES256", "the token keys come first"

    client = SessionClient(server.url)
    client.finalize(server.challenge(server.new_user("ada.verifier@example.com")))
    assert client.tokens is not None
    token = client.tokens.access_token
    assert Verifier(server.url, "default").verify(token).sid
    keyset = pyjwt.PyJWKSet.from_dict({"keys": jwks})
    kid = pyjwt.get_unverified_header(token)["kid"]
    [key] = [k for k in keyset.keys if k.key_id == kid]
    claims = pyjwt.decode(token, key.key, algorithms=["ES256"], audience="default")
    assert claims["iss"] == server.url
