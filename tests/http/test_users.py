"""The management API for users, in process on a fake clock: every route and error path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sessile.clock import FixedClock
from sessile.context import AppContext
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient

APP = "https://auth.test/v2/session/apps/default"
PASSWORD = "correct horse battery"
ADA = {"type": "email_address", "value": "Ada@Example.COM"}


@dataclass
class Api:
    http: httpx.AsyncClient
    client: InProcessClient
    auth: dict[str, str]

    @property
    def context(self) -> AppContext:
        return self.client.context

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, APP + path, headers=self.auth, **kwargs)

    async def create(self, **body: Any) -> dict[str, Any]:
        response = await self.call("POST", "/users", json={"identifiers": [ADA], **body})
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()["user"]
        return created

    async def login(self, user_id: str) -> str:
        """Log the user in (header mode) and return the refresh token."""
        challenge = await self.context.challenges.issue(user_id=user_id, auth_method="password")
        response = await self.client.dpop(
            "/login/finalize",
            json={"challenge_token": challenge},
            headers={"X-Refresh-Token-Mode": "header"},
        )
        assert response.status_code == 200, response.text
        return response.headers["X-Refresh-Token"]

    async def refresh(self, token: str) -> httpx.Response:
        return await self.client.dpop("/refresh", headers={"X-Refresh-Token": token})


@pytest.fixture
async def api(make_client: AppClient) -> AsyncIterator[Api]:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(clock) as (http, app):
        client = InProcessClient(http, app, clock)
        _, secret = await client.context.api_keys.create("backend")
        yield Api(http, client, {"Authorization": f"Bearer {secret}"})


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    message: str = body["message"]
    return message


async def _feed(api: Api) -> set[tuple[str, str | None]]:
    """The revocation feed as (user, session) pairs; a null session is user-wide."""
    rows = await api.context.db.revocations.after(0, limit=100)
    return {(r.user_id, r.session_id) for r in rows}


ROUTES = [
    ("POST", "/users", {"identifiers": [ADA], "id": "0f5e9c1a-4b8e-4c6e-9d3a-2b7f1c0e8a11"}),
    ("GET", "/users", None),
    ("GET", "/users/usr_x", None),
    ("PATCH", "/users/usr_x", {"disabled": True}),
    ("DELETE", "/users/usr_x", None),
    ("PUT", "/users/usr_x/password", {"password": PASSWORD}),
    ("GET", "/users/usr_x/sessions", None),
    ("POST", "/users/usr_x/sessions/revoke", None),
    ("POST", "/users/usr_x/sessions/invalidate", None),
    ("DELETE", "/users/usr_x/sessions/ses_x", None),
    ("PATCH", "/users/usr_x/profile", {"plan": "pro"}),
    ("PUT", "/users/usr_x/status", {"status": "inactive"}),
    ("PUT", "/users/usr_x/external_id", {"external_id": "crm-1"}),
    ("POST", "/users/usr_x/identifiers", {"identifier": ADA}),
    ("DELETE", "/users/usr_x/identifiers/email_address/ada@example.com", None),
    ("POST", "/users/batch_lookup", {"emails": ["ada@example.com"]}),
    ("POST", "/tokens", {"claims": {"sub": "svc"}}),
    ("GET", "/config/claims", None),
    ("POST", "/config/claims", {"mapping": {"tier": "gold"}}),
    ("PUT", "/config/claims", {"mapping": {"tier": "gold"}}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_route_needs_a_valid_api_key_for_this_app(
    api: Api, method: str, path: str, body: Any
) -> None:
    url = APP + path
    missing = await api.http.request(method, url, json=body)
    _error(missing, 401, "unauthorized")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer ")
    wrong = {"Authorization": "Bearer sk_0000000000000000_" + "A" * 43}
    _error(await api.http.request(method, url, json=body, headers=wrong), 401, "unauthorized")
    old, old_secret = await api.context.api_keys.create("retired")
    assert await api.context.api_keys.revoke(old.id)
    revoked = {"Authorization": f"Bearer {old_secret}"}
    _error(await api.http.request(method, url, json=body, headers=revoked), 401, "unauthorized")
    # The key is checked before the body is read.
    garbage = await api.http.request(
        method, url, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    _error(garbage, 401, "unauthorized")
    other_app = url.replace("/apps/default/", "/apps/other/")
    _error(await api.http.request(method, other_app, json=body, headers=api.auth), 404, "not_found")
    # Nothing was created or changed on the way.
    assert await api.context.db.users.list(limit=10, offset=0) == ([], 0)
    assert await api.context.custom_claims.config() is None


async def test_create_and_get_a_user(api: Api) -> None:
    # The backend vouches for the phone number; the address waits for its first code.
    phone = {"type": "phone_number", "value": "+33 6 12 34 56 78", "verified": True}
    response = await api.call(
        "POST",
        "/users",
        json={"identifiers": [ADA, phone], "profile": {"name": "Ada"}, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    assert set(response.json()) == {"id", "user"}
    user = response.json()["user"]
    assert response.json()["id"] == user["id"]
    assert response.headers["Location"] == f"/v2/session/apps/default/users/{user['id']}"
    assert response.headers["Cache-Control"] == "no-store"
    assert user == {
        "id": user["id"],
        "identifiers": [
            {"type": "email_address", "value": "ada@example.com", "verified": False},
            {"type": "phone_number", "value": "+33612345678", "verified": True},
        ],
        "email_verified": False,
        "phone_verified": True,
        "profile": {"name": "Ada"},
        "has_password": True,
        "created_at": "2027-01-15T08:00:00Z",
        "updated_at": "2027-01-15T08:00:00Z",
        "disabled": False,
        "identities": [],
        "status": "active",
        "scopes": [],
        "external_id": None,
    }
    assert user["id"].startswith("usr_")
    assert "argon2" not in response.text

    stored = await api.context.db.users.get(user["id"])
    assert stored is not None
    assert stored.password_hash is not None
    assert await api.context.passwords.verify(stored.password_hash, PASSWORD)
    assert not await api.context.passwords.verify(stored.password_hash, PASSWORD + "!")

    fetched = await api.call("GET", f"/users/{user['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == {"user": user}
    _error(await api.call("GET", "/users/usr_missing"), 404, "not_found")


async def test_create_without_password_and_with_a_repeated_identifier(api: Api) -> None:
    same = {"type": "email_address", "value": "ada@example.com"}
    user = await api.create(identifiers=[ADA, same])
    assert user["identifiers"] == [{**same, "verified": False}]
    assert user["has_password"] is False
    assert user["profile"] == {}


async def test_create_errors_leave_nothing_behind(api: Api) -> None:
    first = await api.create()

    taken = await api.call(
        "POST",
        "/users",
        json={
            "identifiers": [
                {"type": "phone_number", "value": "+33612345678"},
                {"type": "email_address", "value": " ADA@example.com "},
            ]
        },
    )
    _error(taken, 409, "identifier_already_exists")
    phone_owner = await api.call(
        "GET",
        "/users",
        params={"identifier_type": "phone_number", "identifier_value": "+33612345678"},
    )
    assert phone_owner.json()["total"] == 0, "the failed create did not take the phone number"

    bad_email = {"identifiers": [{"type": "email_address", "value": "not-an-address"}]}
    _error(await api.call("POST", "/users", json=bad_email), 400, "invalid_identifier")
    bad_phone = {"identifiers": [{"type": "phone_number", "value": "12"}]}
    _error(await api.call("POST", "/users", json=bad_phone), 400, "invalid_identifier")
    bad_type = {"identifiers": [{"type": "username", "value": "ada"}]}
    _error(await api.call("POST", "/users", json=bad_type), 400, "invalid_identifier")

    weak = {"identifiers": [{"type": "email_address", "value": "b@example.com"}], "password": "x"}
    assert "at least 8 characters" in _error(
        await api.call("POST", "/users", json=weak), 400, "bad_request"
    )
    for body in (
        {},
        {"identifiers": []},
        {"identifiers": [ADA], "profile": ["not", "an", "object"]},
        {"identifiers": [ADA], "admin": True},
        {"identifiers": [{"type": 1, "value": "x"}]},
    ):
        _error(await api.call("POST", "/users", json=body), 400, "bad_request")
    _error(await api.call("POST", "/users", content=b"[1]"), 400, "bad_request")
    _error(await api.call("POST", "/users", content=b"{oops"), 400, "bad_request")

    users, total = await api.context.db.users.list(limit=10, offset=0)
    assert total == 1
    assert users[0].id == first["id"]


async def test_the_caller_may_choose_the_id(api: Api) -> None:
    chosen = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    response = await api.call("POST", "/users", json={"identifiers": [ADA], "id": chosen})
    assert response.status_code == 201, response.text
    assert response.json()["id"] == chosen
    assert response.headers["Location"] == f"/v2/session/apps/default/users/{chosen}"
    fetched = await api.call("GET", f"/users/{chosen}")
    assert fetched.json()["user"]["id"] == chosen
    # The id is the user's everywhere: the access tokens of its sessions carry it as sub.
    refreshed = await api.refresh(await api.login(chosen))
    claims = await api.context.access_tokens.verify(refreshed.json()["access_token"])
    assert claims.sub == chosen


async def test_a_taken_id_is_a_conflict_and_creates_nothing(api: Api) -> None:
    await api.create(id="crm_42")
    fresh = {"type": "email_address", "value": "fresh@example.com"}
    taken = await api.call("POST", "/users", json={"identifiers": [fresh], "id": "crm_42"})
    assert "id" in _error(taken, 409, "conflict")
    # Nothing of the refused user was kept: its address is still free.
    lookup = {"identifier_type": "email_address", "identifier_value": "fresh@example.com"}
    assert (await api.call("GET", "/users", params=lookup)).json()["total"] == 0
    # Case matters: another spelling is another id.
    assert (await api.create(identifiers=[fresh], id="CRM_42"))["id"] == "CRM_42"
    assert (await api.context.db.users.list(limit=10, offset=0))[1] == 2


@pytest.mark.parametrize(
    "chosen",
    ["", "a/b", "../etc", "a b", "x" * 41, "é", "-lead", "_lead", "abc\n", "a.b", "a%2Fb", 42],
)
async def test_a_malformed_id_is_refused(api: Api, chosen: Any) -> None:
    response = await api.call("POST", "/users", json={"identifiers": [ADA], "id": chosen})
    _error(response, 400, "bad_request")
    assert await api.context.db.users.list(limit=10, offset=0) == ([], 0)


async def test_a_key_without_users_write_creates_nobody(api: Api) -> None:
    _, reader = await api.context.api_keys.create("reader", scopes=["users:read"])
    response = await api.http.post(
        APP + "/users",
        headers={"Authorization": f"Bearer {reader}"},
        json={"identifiers": [ADA], "id": "chosen"},
    )
    assert "users:write" in _error(response, 403, "forbidden")
    assert await api.context.db.users.list(limit=10, offset=0) == ([], 0)


async def test_list_pages_and_looks_up_by_identifier(api: Api) -> None:
    made = []
    for n in range(12):
        made.append(
            await api.create(identifiers=[{"type": "email_address", "value": f"u{n}@example.com"}])
        )
        api.client.clock.advance(1)
    default = (await api.call("GET", "/users")).json()
    assert (default["total"], default["limit"], default["offset"]) == (12, 10, 0)
    assert [u["id"] for u in default["users"]] == [u["id"] for u in made[:10]]
    page = (await api.call("GET", "/users", params={"limit": 5, "offset": 10})).json()
    assert [u["id"] for u in page["users"]] == [made[10]["id"], made[11]["id"]]
    assert (page["total"], page["limit"], page["offset"]) == (12, 5, 10)

    for limit in ("0", "101", "ten", "-1"):
        _error(
            await api.call("GET", "/users", params={"limit": limit}),
            400,
            "invalid_pagination_limit",
        )
    for offset in ("-1", "x"):
        _error(
            await api.call("GET", "/users", params={"offset": offset}),
            400,
            "invalid_pagination_offset",
        )

    lookup = {"identifier_type": "email_address", "identifier_value": "  U3@EXAMPLE.com"}
    found = (await api.call("GET", "/users", params=lookup)).json()
    assert found == {"users": [made[3]], "total": 1, "limit": 10, "offset": 0}
    past = (await api.call("GET", "/users", params={**lookup, "offset": 1})).json()
    assert (past["users"], past["total"]) == ([], 1)
    nobody = {"identifier_type": "email_address", "identifier_value": "zed@example.com"}
    assert (await api.call("GET", "/users", params=nobody)).json()["total"] == 0

    half = {"identifier_type": "email_address"}
    _error(await api.call("GET", "/users", params=half), 400, "bad_request")
    malformed = {"identifier_type": "phone_number", "identifier_value": "call me"}
    _error(await api.call("GET", "/users", params=malformed), 400, "invalid_identifier")


async def test_patch_merges_the_profile(api: Api) -> None:
    user = await api.create(profile={"name": "Ada", "prefs": {"theme": "dark"}, "tmp": 1})
    api.client.clock.advance(60)
    patched = await api.call(
        "PATCH",
        f"/users/{user['id']}",
        json={"profile": {"prefs": {"lang": "fr"}, "tmp": None, "plan": "pro"}},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()["user"]
    assert body["profile"] == {
        "name": "Ada",
        "prefs": {"theme": "dark", "lang": "fr"},
        "plan": "pro",
    }
    assert body["updated_at"] == "2027-01-15T08:01:00Z"
    assert body["created_at"] == user["created_at"]

    unchanged = await api.call("PATCH", f"/users/{user['id']}")
    assert unchanged.json()["user"]["profile"] == body["profile"]

    for bad in ({"profile": "x"}, {"disabled": "maybe"}, {"identifiers": []}):
        _error(await api.call("PATCH", f"/users/{user['id']}", json=bad), 400, "bad_request")
    _error(await api.call("PATCH", "/users/usr_missing", json={"profile": {}}), 404, "not_found")


async def test_disabling_revokes_every_session_and_blocks_login(api: Api) -> None:
    user = await api.create()
    tokens = [await api.login(user["id"]), await api.login(user["id"])]
    listed = (await api.call("GET", f"/users/{user['id']}/sessions")).json()
    assert listed["total"] == 2
    session_ids = {s["id"] for s in listed["sessions"]}

    disabled = await api.call("PATCH", f"/users/{user['id']}", json={"disabled": True})
    assert disabled.json()["user"]["disabled"] is True
    for token in tokens:
        _error(await api.refresh(token), 401, "unauthorized")
    assert (await api.call("GET", f"/users/{user['id']}/sessions")).json()["total"] == 0
    assert await _feed(api) == {(user["id"], None)} | {(user["id"], s) for s in session_ids}

    challenge = await api.context.challenges.issue(user_id=user["id"], auth_method="password")
    refused = await api.client.dpop("/login/finalize", json={"challenge_token": challenge})
    _error(refused, 401, "unauthorized")

    enabled = await api.call("PATCH", f"/users/{user['id']}", json={"disabled": False})
    assert enabled.json()["user"]["disabled"] is False
    fresh = await api.login(user["id"])
    assert (await api.refresh(fresh)).status_code == 200


async def test_delete_revokes_sessions_then_removes_the_user(api: Api) -> None:
    user = await api.create()
    token = await api.login(user["id"])
    [session] = (await api.call("GET", f"/users/{user['id']}/sessions")).json()["sessions"]
    deleted = await api.call("DELETE", f"/users/{user['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    _error(await api.refresh(token), 401, "unauthorized")
    # The session rows are gone with the user; the feed still names them for backends.
    assert await _feed(api) == {(user["id"], None), (user["id"], session["id"])}
    _error(await api.call("GET", f"/users/{user['id']}"), 404, "not_found")
    _error(await api.call("DELETE", f"/users/{user['id']}"), 404, "not_found")
    # The identifier is free again.
    assert (await api.create())["id"] != user["id"]


async def test_set_and_remove_a_password(api: Api) -> None:
    user = await api.create()
    kept = await api.login(user["id"])
    path = f"/users/{user['id']}/password"

    response = await api.call("PUT", path, json={"password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["has_password"] is True
    stored = await api.context.db.users.get(user["id"])
    assert stored is not None
    assert stored.password_hash is not None
    assert await api.context.passwords.verify(stored.password_hash, PASSWORD)
    assert (await api.refresh(kept)).status_code == 200, "sessions stay unless asked"

    revoking = await api.call(
        "PUT", path, json={"password": "another good one", "revoke_sessions": True}
    )
    assert revoking.status_code == 200
    _error(await api.refresh(kept), 401, "unauthorized")
    stored = await api.context.db.users.get(user["id"])
    assert stored is not None
    assert stored.password_hash is not None
    assert await api.context.passwords.verify(stored.password_hash, "another good one")
    assert not await api.context.passwords.verify(stored.password_hash, PASSWORD)

    cleared = await api.call("PUT", path, json={"password": None})
    assert cleared.json()["user"]["has_password"] is False
    stored = await api.context.db.users.get(user["id"])
    assert stored is not None
    assert stored.password_hash is None

    assert "at least 8" in _error(
        await api.call("PUT", path, json={"password": "short"}), 400, "bad_request"
    )
    _error(await api.call("PUT", path, json={}), 400, "bad_request")
    _error(await api.call("PUT", path), 400, "bad_request")
    _error(
        await api.call("PUT", "/users/usr_missing/password", json={"password": PASSWORD}),
        404,
        "not_found",
    )


async def test_sessions_list_and_revoke(api: Api) -> None:
    user = await api.create()
    other = await api.create(identifiers=[{"type": "email_address", "value": "b@example.com"}])
    tokens = []
    for _ in range(3):
        tokens.append(await api.login(user["id"]))
        api.client.clock.advance(1)
    foreign = await api.login(other["id"])
    path = f"/users/{user['id']}/sessions"

    listed = (await api.call("GET", path, params={"limit": 2})).json()
    assert (listed["total"], listed["limit"], listed["offset"]) == (3, 2, 0)
    assert len(listed["sessions"]) == 2
    newest = listed["sessions"][0]
    assert set(newest) == {
        "id",
        "device_type",
        "device_model",
        "os_version",
        "country_code",
        "created_at",
        "last_seen_at",
        "expires_at",
    }
    assert newest["created_at"] == "2027-01-15T08:00:02Z"
    _error(await api.call("GET", path, params={"limit": 0}), 400, "invalid_pagination_limit")
    _error(await api.call("GET", path, params={"offset": -3}), 400, "invalid_pagination_offset")
    _error(await api.call("GET", "/users/usr_missing/sessions"), 404, "not_found")

    one = await api.call("POST", path + "/revoke", json={"session_id": newest["id"]})
    assert one.json() == {"revoked": 1}
    _error(await api.refresh(tokens[2]), 401, "unauthorized")
    assert (await api.refresh(tokens[0])).status_code == 200
    again = await api.call("POST", path + "/revoke", json={"session_id": newest["id"]})
    _error(again, 404, "not_found")
    foreign_id = (await api.call("GET", f"/users/{other['id']}/sessions")).json()["sessions"][0]
    not_theirs = await api.call("POST", path + "/revoke", json={"session_id": foreign_id["id"]})
    _error(not_theirs, 404, "not_found")
    _error(await api.call("POST", path + "/revoke", json={"target": "all"}), 400, "bad_request")
    _error(await api.call("POST", "/users/usr_missing/sessions/revoke"), 404, "not_found")

    everything = await api.call("POST", path + "/revoke")
    assert everything.json() == {"revoked": 2}
    for token in tokens[:2]:
        _error(await api.refresh(token), 401, "unauthorized")
    assert (await api.refresh(foreign)).status_code == 200, "other users keep their sessions"
    assert (await api.call("GET", path)).json()["total"] == 0


async def test_openapi_describes_the_routes_and_their_bodies(api: Api) -> None:
    document = (await api.http.get("https://auth.test/openapi.json")).json()
    paths = document["paths"]
    base = "/v2/session/apps/{app_id}"
    expected = {
        "/users": {"get", "post"},
        "/users/{user_id}": {"get", "patch", "delete"},
        "/users/{user_id}/password": {"put"},
        "/users/{user_id}/sessions": {"get"},
        "/users/{user_id}/sessions/revoke": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[base + path]) >= methods, path

    operation_ids = {op["operationId"] for path in expected for op in paths[base + path].values()}
    assert operation_ids == {
        "create_user",
        "list_users",
        "get_user",
        "update_user",
        "delete_user",
        "set_user_password",
        "list_user_sessions",
        "revoke_user_sessions",
    }

    create = paths[base + "/users"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {
        "id",
        "identifiers",
        "profile",
        "password",
        "external_id",
        "scopes",
    }
    assert schema["required"] == ["identifiers"]
    ident = schema["properties"]["identifiers"]["items"]
    assert ident["properties"]["type"]["enum"] == ["email_address", "phone_number"]
    assert "$ref" not in str(schema), "request schemas are inline"
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CreatedUser"
    }
    get_one = paths[base + "/users/{user_id}"]["get"]["responses"]["200"]
    assert get_one["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UserAnswer"
    }
    assert {"401", "409", "400"} <= set(create["responses"])
    # Every error body is documented with the fields Prelude's management errors carry.
    for name in ("ErrorBody", "SessileError"):
        error = document["components"]["schemas"][name]
        assert {"code", "status", "message"} <= set(error["required"]), name
    user_view = document["components"]["schemas"]["UserView"]
    assert set(user_view["properties"]) == {
        "id",
        "identifiers",
        "email_verified",
        "phone_verified",
        "profile",
        "has_password",
        "created_at",
        "updated_at",
        "disabled",
        "identities",
        "status",
        "scopes",
        "external_id",
    }

    listing = paths[base + "/users"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"app_id", "limit", "offset", "identifier_type", "identifier_value"} <= set(params)
    assert params["limit"]["schema"]["maximum"] == 100

    password = paths[base + "/users/{user_id}/password"]["put"]["requestBody"]
    props = password["content"]["application/json"]["schema"]["properties"]
    assert set(props) == {"password", "revoke_sessions"}
    patch = paths[base + "/users/{user_id}"]["patch"]["requestBody"]
    assert set(patch["content"]["application/json"]["schema"]["properties"]) == {
        "profile",
        "disabled",
    }
    revoke = paths[base + "/users/{user_id}/sessions/revoke"]["post"]["requestBody"]
    assert "session_id" in revoke["content"]["application/json"]["schema"]["properties"]
