"""The management API under Prelude's names, and scoped API keys, in process on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sessile.api_scopes import API_SCOPES
from sessile.clock import FixedClock
from sessile.context import AppContext
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient

APP = "https://auth.test/v2/session/apps/default"


class Api:
    def __init__(self, http: httpx.AsyncClient, client: InProcessClient, secret: str) -> None:
        self.http, self.client = http, client
        self.auth = {"Authorization": f"Bearer {secret}"}

    @property
    def context(self) -> AppContext:
        return self.client.context

    async def call(
        self, method: str, path: str, expect: int = 200, key: str | None = None, **kw: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else self.auth
        response = await self.http.request(method, APP + path, headers=headers, **kw)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    async def user(self, email: str, **body: Any) -> dict[str, Any]:
        identifiers = [{"type": "email_address", "value": email}]
        created: dict[str, Any] = await self.call(
            "POST", "/users", 201, json={"identifiers": identifiers, **body}
        )
        return created["user"]  # type: ignore[no-any-return]

    async def get(self, user_id: str) -> dict[str, Any]:
        shown: dict[str, Any] = (await self.call("GET", f"/users/{user_id}"))["user"]
        return shown

    async def login(self, user_id: str) -> None:
        challenge = await self.context.challenges.issue(user_id=user_id, auth_method="password")
        response = await self.client.dpop("/login/finalize", json={"challenge_token": challenge})
        assert response.status_code == 200, response.text


@pytest.fixture
async def api(make_client: AppClient) -> AsyncIterator[Api]:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(clock) as (http, app):
        client = InProcessClient(http, app, clock)
        _, secret = await client.context.api_keys.create("backend")
        yield Api(http, client, secret)


async def test_profile_status_external_id_and_scopes(api: Api) -> None:
    user = await api.user("ada@example.com", profile={"a": 1, "b": 2}, external_id="crm-7",
                          scopes=["orders:read"])  # fmt: skip
    uid = user["id"]
    assert (user["status"], user["external_id"], user["scopes"]) == (
        "active", "crm-7", ["orders:read"],
    )  # fmt: skip
    # The body is the profile patch itself, so a member named "profile" is just a member.
    patched = await api.call(
        "PATCH", f"/users/{uid}/profile", 204, json={"b": None, "profile": {"c": 3}}
    )
    assert patched is None
    assert (await api.get(uid))["profile"] == {"a": 1, "profile": {"c": 3}}
    await api.call("PATCH", f"/users/{uid}/profile", 400, json=["not", "an", "object"])

    await api.login(uid)
    inactive = (await api.call("PUT", f"/users/{uid}/status", json={"status": "inactive"}))["user"]
    assert (inactive["status"], inactive["disabled"]) == ("inactive", True)
    assert (await api.context.sessions.list(uid, limit=10, offset=0))[1] == 0
    active = (await api.call("PUT", f"/users/{uid}/status", json={"status": "active"}))["user"]
    assert active["status"] == "active"
    await api.call("PUT", f"/users/{uid}/status", 400, json={"status": "blocked"})

    other = await api.user("bob@example.com")
    taken = await api.call(
        "PUT", f"/users/{other['id']}/external_id", 409, json={"external_id": "crm-7"}
    )
    assert taken["code"] == "conflict"
    await api.call("POST", "/users", 409, json={
        "identifiers": [{"type": "email_address", "value": "eve@example.com"}],
        "external_id": "crm-7",
    })  # fmt: skip
    assert (
        await api.call("PUT", f"/users/{uid}/external_id", 204, json={"external_id": "crm-8"})
        is None
    )
    assert (await api.get(uid))["external_id"] == "crm-8"
    await api.call("PUT", f"/users/{uid}/external_id", 204, json={"external_id": None})
    assert (await api.get(uid))["external_id"] is None
    await api.call("PUT", f"/users/{uid}/external_id", 400, json={"external_id": "x" * 129})
    scoped = await api.call("PUT", f"/users/{uid}/scopes", json={"scopes": ["a", "b", "a"]})
    assert scoped["user"]["scopes"] == ["a", "b"]
    await api.call("PUT", f"/users/{uid}/scopes", 400, json={"scopes": ["has space"]})
    for path in ("/status", "/external_id", "/scopes", "/profile"):
        method = "PATCH" if path == "/profile" else "PUT"
        body = {"/status": {"status": "active"}, "/external_id": {"external_id": "x"},
                "/scopes": {"scopes": []}, "/profile": {"a": 1}}[path]  # fmt: skip
        await api.call(method, f"/users/usr_nobody{path}", 404, json=body)


async def test_identifiers_are_added_and_removed(api: Api) -> None:
    uid = (await api.user("ada@example.com"))["id"]
    phone = {"type": "phone_number", "value": "+33 6 12 34 56 78", "verified": True}
    added = (await api.call("POST", f"/users/{uid}/identifiers", 201, json=phone))["user"]
    assert {"type": "phone_number", "value": "+33612345678", "verified": True} in added[
        "identifiers"
    ]
    assert added["phone_verified"] is True
    # The same in the wrapper Prelude's docs may mean: {"identifier": {type, value}}.
    work = {"type": "email_address", "value": "Ada@Work.example"}
    wrapped = await api.call("POST", f"/users/{uid}/identifiers", 201, json={"identifier": work})
    assert {"type": "email_address", "value": "ada@work.example", "verified": False} in wrapped[
        "user"
    ]["identifiers"]
    for mixed in ({"identifier": work, "type": "email_address"}, {"identifier": "x"}, {}):
        refused = await api.call("POST", f"/users/{uid}/identifiers", 400, json=mixed)
        assert refused["code"] == "bad_request"
    other = (await api.user("bob@example.com"))["id"]
    clash = await api.call("POST", f"/users/{other}/identifiers", 409, json=phone)
    assert clash["code"] == "identifier_already_exists"
    bad = {"type": "email_address", "value": "not an address"}
    assert (await api.call("POST", f"/users/{uid}/identifiers", 400, json=bad))["code"] == (
        "invalid_identifier"
    )
    # Removed by the path (any spelling, URL-encoded) or with the identifier in the body.
    await api.call("DELETE", f"/users/{uid}/identifiers/email_address/ADA%40example.com", 204)
    await api.call("DELETE", f"/users/{uid}/identifiers", 204, json={
        "identifier": {"type": "email_address", "value": "ada@work.example"}})  # fmt: skip
    assert [i["type"] for i in (await api.get(uid))["identifiers"]] == ["phone_number"]
    await api.call("DELETE", f"/users/{uid}/identifiers", 404, json={
        "type": "email_address", "value": "ada@example.com"})  # fmt: skip
    await api.call("DELETE", f"/users/{uid}/identifiers/email_address/ada@example.com", 404)
    gone = await api.call("DELETE", f"/users/{uid}/identifiers/username/ada", 400)
    assert gone["code"] == "invalid_identifier"
    await api.call("DELETE", f"/users/{uid}/identifiers/phone_number/%2B33612345678", 204)
    assert (await api.get(uid))["identifiers"] == []
    await api.call("POST", "/users/usr_nobody/identifiers", 404, json={
        "type": "email_address", "value": "new@example.com"})  # fmt: skip


async def test_batch_lookup_by_external_ids_and_emails(api: Api) -> None:
    a = await api.user("a@example.com", external_id="ext-a")
    b = await api.user("b@example.com")
    await api.user("c@example.com", external_id="ext-c")
    wanted = {"external_ids": ["ext-a", "ext-x"], "emails": ["B@Example.com", "a@example.com"]}
    found = await api.call("POST", "/users/batch_lookup", json=wanted)
    # One clock for all: equal creation times, so the order is by id.
    assert [u["id"] for u in found["users"]] == sorted([a["id"], b["id"]])
    nothing = await api.call("POST", "/users/batch_lookup", 400, json={"emails": []})
    assert nothing["code"] == "bad_request"
    await api.call("POST", "/users/batch_lookup", 400, json={"emails": ["x@example.com"] * 101})


async def test_one_session_is_revoked_by_id(api: Api) -> None:
    uid = (await api.user("ada@example.com"))["id"]
    await api.login(uid)
    await api.login(uid)
    rows, _ = await api.context.sessions.list(uid, limit=10, offset=0)
    await api.call("DELETE", f"/users/{uid}/sessions/{rows[0].id}", 204)
    assert (await api.context.sessions.list(uid, limit=10, offset=0))[1] == 1
    await api.call("DELETE", f"/users/{uid}/sessions/{rows[0].id}", 404)
    other = (await api.user("bob@example.com"))["id"]
    await api.call("DELETE", f"/users/{other}/sessions/{rows[1].id}", 404)
    assert (await api.context.sessions.list(uid, limit=10, offset=0))[1] == 1
    row = await api.context.db.sessions.get(rows[0].id)
    assert row is not None
    assert row.revoked_reason == "admin"


async def test_invalidate_revokes_every_session_of_the_user_only(api: Api) -> None:
    uid = (await api.user("ada@example.com"))["id"]
    other = (await api.user("bob@example.com"))["id"]
    for user_id in (uid, uid, other):
        await api.login(user_id)
    rows, _ = await api.context.sessions.list(uid, limit=10, offset=0)
    assert await api.call("POST", f"/users/{uid}/sessions/invalidate") == {"revoked": 2}
    assert (await api.context.sessions.list(uid, limit=10, offset=0))[1] == 0
    assert (await api.context.sessions.list(other, limit=10, offset=0))[1] == 1
    for row in rows:
        revoked = await api.context.db.sessions.get(row.id)
        assert revoked is not None
        assert revoked.revoked_reason == "admin"
    assert await api.call("POST", f"/users/{uid}/sessions/invalidate") == {"revoked": 0}
    missing = await api.call("POST", "/users/usr_nobody/sessions/invalidate", 404)
    assert missing["code"] == "not_found"


#: One route per scope, with a body it accepts.
SCOPED = [
    ("revocations:read", "GET", "/revocations", None),
    ("users:read", "GET", "/users", None),
    ("users:read", "POST", "/users/batch_lookup", {"emails": ["a@example.com"]}),
    ("users:write", "POST", "/users",
     {"identifiers": [{"type": "email_address", "value": "new@example.com"}]}),
    ("sessions", "GET", "/users/{uid}/sessions", None),
    ("webhooks", "GET", "/webhooks", None),
    ("sessions", "POST", "/users/{uid}/sessions/invalidate", None),
    ("config", "PUT", "/config/claims", {"mapping": {"tier": "gold"}}),
    ("audit", "GET", "/audit", None),
]  # fmt: skip


@pytest.mark.parametrize(("scope", "method", "path", "body"), SCOPED)
async def test_a_scoped_key_is_refused_outside_its_scope(
    api: Api, scope: str, method: str, path: str, body: Any
) -> None:
    uid = (await api.user("a@example.com"))["id"]
    path = path.format(uid=uid)
    for other in API_SCOPES:
        if other == scope:
            continue
        _, key = await api.context.api_keys.create("narrow", scopes=[other])
        refused = await api.call(method, path, 403, key=key, json=body)
        assert refused["code"] == "forbidden"
        assert scope in refused["message"]
    _, allowed = await api.context.api_keys.create("right", scopes=[scope])
    response = await api.http.request(
        method, APP + path, headers={"Authorization": f"Bearer {allowed}"}, json=body
    )
    assert response.status_code in (200, 201), response.text
    assert (await api.context.db.users.list(limit=10, offset=0))[1] == (
        2 if method == "POST" and path == "/users" else 1
    )
