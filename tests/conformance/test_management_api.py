"""Prelude's management API as its docs describe it (PRELUDE-API.md §1.4, §4.1 to 4.4, §4.6):
for each documented route, the documented request is accepted and the answer has the
documented status, fields and types. Written from the reference, not from sessile's code;
sessile may add fields, so these check that the documented ones are there and typed.

Where the reference marks a route unconfirmed (user delete, identifier body and delete),
the test pins the choice sessile made and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient
from tests.jwts import claims_of

BASE = "https://auth.test/v2/session/apps/default"
NOW = 1_800_000_000.0
#: The create-user example of Prelude's reference.
CREATE_EXAMPLE = {
    "identifiers": [{"type": "phone_number", "value": "+306912345678"}],
    "profile": {},
    "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
}
#: The update-profile example.
PROFILE_EXAMPLE = {"first_name": "Jane", "last_name": "Smith", "locales": ["en-US"]}
#: The custom-claims guide's mapping.
GUIDE_MAPPING = {
    "api_version": 2,
    "user_id": {"$input": "user_id", "$type": "uuid"},
    "loyalty_tier": {"$custom_claim": "loyalty_tier"},
    "context": {
        "ip": {"$input": "ip", "$type": "string"},
        "country": {"$input": "country_code", "$type": "string"},
    },
}


def _rfc3339(value: Any) -> datetime:
    assert isinstance(value, str), value
    assert "T" in value, value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _is_user(user: Any) -> None:
    """The user object: id, status, identifiers[{type, value}], profile, created_at,
    updated_at (RFC 3339)."""
    assert isinstance(user["id"], str)
    assert isinstance(user["status"], str)
    assert isinstance(user["identifiers"], list)
    for identifier in user["identifiers"]:
        assert identifier["type"] in ("phone_number", "email_address")
        assert isinstance(identifier["value"], str)
    assert isinstance(user["profile"], dict)
    _rfc3339(user["created_at"])
    _rfc3339(user["updated_at"])


@dataclass
class Backend:
    """A backend written from Prelude's docs: a Bearer key and JSON."""

    http: httpx.AsyncClient
    client: InProcessClient
    key: str

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}"}
        return await self.http.request(method, BASE + path, headers=headers, **kwargs)

    async def create(self, email: str, **body: Any) -> str:
        identifiers = [{"type": "email_address", "value": email}]
        response = await self.call("POST", "/users", json={"identifiers": identifiers, **body})
        assert response.status_code == 201, response.text
        user_id: str = response.json()["id"]
        return user_id

    async def login(self, user_id: str) -> dict[str, Any]:
        """A session for the user, as a login makes one; the access token's claims."""
        context = self.client.context
        challenge = await context.challenges.issue(user_id=user_id, auth_method="password")
        response = await self.client.dpop("/login/finalize", json={"challenge_token": challenge})
        assert response.status_code == 200, response.text
        return claims_of(response.json()["access_token"])


@pytest.fixture
async def backend(make_client: AppClient) -> AsyncIterator[Backend]:
    clock = FixedClock(NOW)
    async with make_client(clock, mint_tokens=True) as (http, app):
        client = InProcessClient(http, app, clock)
        _, key = await client.context.api_keys.create("backend")
        yield Backend(http, client, key)


# §4.1 Users ---------------------------------------------------------------------------------
async def test_create_user(backend: Backend) -> None:
    response = await backend.call("POST", "/users", json=CREATE_EXAMPLE)
    assert response.status_code == 201, response.text
    assert response.json()["id"] == CREATE_EXAMPLE["id"]
    without_id = await backend.call(
        "POST", "/users", json={"identifiers": [{"type": "email_address", "value": "a@b.co"}]}
    )
    assert without_id.status_code == 201
    assert without_id.json()["id"].startswith("usr_")


async def test_create_user_with_a_taken_id_is_a_conflict(backend: Backend) -> None:
    assert (await backend.call("POST", "/users", json=CREATE_EXAMPLE)).status_code == 201
    again = {**CREATE_EXAMPLE, "identifiers": [{"type": "phone_number", "value": "+33612345678"}]}
    response = await backend.call("POST", "/users", json=again)
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


async def test_list_users_by_identifier(backend: Backend) -> None:
    await backend.call("POST", "/users", json=CREATE_EXAMPLE)
    response = await backend.call(
        "GET",
        "/users",
        params={"identifier_type": "phone_number", "identifier_value": "+306912345678"},
    )
    assert response.status_code == 200
    [user] = response.json()["users"]
    _is_user(user)
    assert user["id"] == CREATE_EXAMPLE["id"]
    assert {"type": "phone_number", "value": "+306912345678"}.items() <= user["identifiers"][
        0
    ].items()


async def test_get_user(backend: Backend) -> None:
    user_id = await backend.create("ada@example.com", profile={"first_name": "Ada"})
    response = await backend.call("GET", f"/users/{user_id}")
    assert response.status_code == 200
    user = response.json()["user"]
    _is_user(user)
    assert (user["id"], user["status"], user["profile"]) == (
        user_id,
        "active",
        {"first_name": "Ada"},
    )


async def test_update_status(backend: Backend) -> None:
    user_id = await backend.create("ada@example.com")
    for status in ("inactive", "active"):
        response = await backend.call("PUT", f"/users/{user_id}/status", json={"status": status})
        assert response.status_code == 200, response.text
        shown = (await backend.call("GET", f"/users/{user_id}")).json()["user"]
        assert shown["status"] == status


async def test_update_external_id(backend: Backend) -> None:
    user_id = await backend.create("ada@example.com")
    response = await backend.call(
        "PUT", f"/users/{user_id}/external_id", json={"external_id": "x" * 128}
    )
    assert response.status_code == 204
    assert response.content == b""


async def test_update_user_profile(backend: Backend) -> None:
    user_id = await backend.create("ada@example.com")
    response = await backend.call("PATCH", f"/users/{user_id}/profile", json=PROFILE_EXAMPLE)
    assert response.status_code == 204
    assert response.content == b""
    shown = (await backend.call("GET", f"/users/{user_id}")).json()["user"]
    assert shown["profile"] == PROFILE_EXAMPLE


async def test_batch_lookup(backend: Backend) -> None:
    by_external = await backend.create("a@example.com", external_id="crm-1")
    by_email = await backend.create("b@example.com")
    response = await backend.call(
        "POST",
        "/users/batch_lookup",
        json={"external_ids": ["crm-1"], "emails": ["b@example.com"]},
    )
    assert response.status_code == 200
    users = response.json()["users"]
    assert {u["id"] for u in users} == {by_external, by_email}
    for user in users:
        _is_user(user)
        assert isinstance(user["scopes"], list)
        assert user["external_id"] in ("crm-1", None)


async def test_delete_user(backend: Backend) -> None:
    """Unconfirmed in the reference; sessile answers 204 (as Prelude's newer deletes do)."""
    user_id = await backend.create("ada@example.com")
    response = await backend.call("DELETE", f"/users/{user_id}")
    assert response.status_code == 204
    assert (await backend.call("GET", f"/users/{user_id}")).status_code == 404


# §4.2 Identifiers ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"identifier": {"type": "phone_number", "value": "+33612345678"}},
        {"type": "phone_number", "value": "+33612345678"},
    ],
)
async def test_create_identifier(backend: Backend, body: dict[str, Any]) -> None:
    """The body is unconfirmed in the reference: both likely shapes are taken."""
    user_id = await backend.create("ada@example.com")
    response = await backend.call("POST", f"/users/{user_id}/identifiers", json=body)
    assert response.status_code == 201, response.text
    shown = (await backend.call("GET", f"/users/{user_id}")).json()["user"]
    assert {(i["type"], i["value"]) for i in shown["identifiers"]} == {
        ("email_address", "ada@example.com"),
        ("phone_number", "+33612345678"),
    }


async def test_delete_identifier(backend: Backend) -> None:
    """The path is unconfirmed in the reference; sessile's choice names the identifier in
    the path, as Prelude's other deletes name their target."""
    user_id = await backend.create("ada@example.com")
    await backend.call(
        "POST",
        f"/users/{user_id}/identifiers",
        json={"type": "phone_number", "value": "+33612345678"},
    )
    response = await backend.call(
        "DELETE", f"/users/{user_id}/identifiers/phone_number/%2B33612345678"
    )
    assert response.status_code == 204
    shown = (await backend.call("GET", f"/users/{user_id}")).json()["user"]
    assert [i["type"] for i in shown["identifiers"]] == ["email_address"]


# §4.3 Sessions ------------------------------------------------------------------------------
async def test_list_user_sessions(backend: Backend) -> None:
    user_id = await backend.create("ada@example.com")
    claims = await backend.login(user_id)
    response = await backend.call("GET", f"/users/{user_id}/sessions")
    assert response.status_code == 200
    [session] = response.json()["sessions"]
    assert session["id"] == claims["sid"]
    _rfc3339(session["created_at"])
    _rfc3339(session["last_seen_at"])


async def test_invalidate_user_session(backend: Backend) -> None:
    """[old] 200, [new] 204: the newer docs win."""
    user_id = await backend.create("ada@example.com")
    first, second = await backend.login(user_id), await backend.login(user_id)
    response = await backend.call("DELETE", f"/users/{user_id}/sessions/{first['sid']}")
    assert response.status_code == 204
    listed = (await backend.call("GET", f"/users/{user_id}/sessions")).json()["sessions"]
    assert [s["id"] for s in listed] == [second["sid"]]


async def test_invalidate_user_sessions(backend: Backend) -> None:
    user_id = await backend.create("ada@example.com")
    await backend.login(user_id)
    await backend.login(user_id)
    response = await backend.call("POST", f"/users/{user_id}/sessions/invalidate")
    assert response.status_code == 200
    assert (await backend.call("GET", f"/users/{user_id}/sessions")).json()["sessions"] == []


# §4.4 Tokens --------------------------------------------------------------------------------
async def test_mint_token(backend: Backend) -> None:
    response = await backend.call("POST", "/tokens", json={"claims": {"sub": "svc", "role": "x"}})
    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["token"], str)
    expires_at = _rfc3339(body["expires_at"])
    claims = claims_of(body["token"])
    assert (claims["sub"], claims["role"]) == ("svc", "x")
    assert claims["exp"] == int(NOW) + 86_400 == int(expires_at.timestamp())
    assert isinstance(claims["iat"], int)
    assert isinstance(claims["jti"], str)
    capped = await backend.call("POST", "/tokens", json={"claims": {"exp": int(NOW) + 90_000}})
    assert capped.status_code == 201
    assert claims_of(capped.json()["token"])["exp"] == int(NOW) + 86_400


# §4.6 Claims mapping ------------------------------------------------------------------------
def _is_config(body: Any, mapping: dict[str, Any], version: int) -> None:
    config = body["config"]
    assert config["mapping"] == mapping
    assert config["version"] == version
    assert isinstance(config["version"], int)
    _rfc3339(config["created_at"])
    _rfc3339(config["updated_at"])


async def test_create_update_and_get_claims_mapping(backend: Backend) -> None:
    created = await backend.call("POST", "/config/claims", json={"mapping": GUIDE_MAPPING})
    assert created.status_code == 201, created.text
    _is_config(created.json(), GUIDE_MAPPING, 1)
    updated = await backend.call("PUT", "/config/claims", json={"mapping": {"api_version": 3}})
    assert updated.status_code == 200
    _is_config(updated.json(), {"api_version": 3}, 2)
    shown = await backend.call("GET", "/config/claims")
    assert shown.status_code == 200
    _is_config(shown.json(), {"api_version": 3}, 2)


async def test_mapped_claims_are_in_the_access_token(backend: Backend) -> None:
    await backend.call("POST", "/config/claims", json={"mapping": GUIDE_MAPPING})
    user_id = await backend.create("ada@example.com", profile={"loyalty_tier": "gold"})
    claims = await backend.login(user_id)
    assert claims["api_version"] == 2
    assert claims["user_id"] == user_id
    assert claims["loyalty_tier"] == "gold"
    assert set(claims["context"]) == {"ip", "country"}
    missing = await backend.create("bob@example.com")
    assert (await backend.login(missing))["loyalty_tier"] is None


# §1.4 Errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/users", CREATE_EXAMPLE),
        ("GET", "/users/usr_01jqebhswje1ka1z7ahr9rfsgt", None),
        ("PUT", "/users/usr_01jqebhswje1ka1z7ahr9rfsgt/status", {"status": "active"}),
        ("PATCH", "/users/usr_01jqebhswje1ka1z7ahr9rfsgt/profile", PROFILE_EXAMPLE),
        ("GET", "/users/usr_01jqebhswje1ka1z7ahr9rfsgt/sessions", None),
        ("POST", "/tokens", {"claims": {}}),
        ("PUT", "/config/claims", {"mapping": {}}),
    ],
)
async def test_errors_carry_code_status_and_message(
    backend: Backend, method: str, path: str, body: Any
) -> None:
    unauthenticated = await backend.http.request(method, BASE + path, json=body)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["status"] == "unauthorized"
    refused = await backend.call(method, path, content=b"{not json")
    assert refused.status_code in (400, 404)
    error = refused.json()
    assert isinstance(error["code"], str)
    assert error["status"] == {400: "bad_request", 404: "not_found"}[refused.status_code]
    assert isinstance(error["message"], str)
