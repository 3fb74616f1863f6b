"""The claims mapping (``…/config/claims``) in process: stored, versioned, resolved into
every access token at login and refresh, and closed to what it must not set."""

from __future__ import annotations

import base64
import json
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
GUIDE = {
    "api_version": 2,
    "user_id": {"$input": "user_id", "$type": "uuid"},
    "loyalty_tier": {"$custom_claim": "loyalty_tier"},
    "context": {
        "ip": {"$input": "ip", "$type": "string"},
        "country": {"$input": "country_code", "$type": "string"},
    },
}


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


@dataclass
class Api:
    http: httpx.AsyncClient
    client: InProcessClient
    auth: dict[str, str]

    @property
    def context(self) -> AppContext:
        return self.client.context

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", self.auth)
        return await self.http.request(method, APP + path, headers=headers, **kwargs)

    async def user(self, **profile: Any) -> str:
        response = await self.call("POST", "/users", json={
            "identifiers": [{"type": "email_address", "value": "ada@example.com"}],
            "profile": profile,
        })  # fmt: skip
        assert response.status_code == 201, response.text
        user_id: str = response.json()["id"]
        return user_id

    async def login(self, user_id: str) -> tuple[dict[str, Any], str]:
        """The claims of a new session's access token, and its refresh token."""
        challenge = await self.context.challenges.issue(user_id=user_id, auth_method="password")
        response = await self.client.dpop(
            "/login/finalize",
            json={"challenge_token": challenge},
            headers={"X-Refresh-Token-Mode": "header"},
        )
        assert response.status_code == 200, response.text
        return _payload(response.json()["access_token"]), response.headers["X-Refresh-Token"]

    async def refresh(self, token: str) -> tuple[dict[str, Any], str]:
        response = await self.client.dpop("/refresh", headers={"X-Refresh-Token": token})
        assert response.status_code == 200, response.text
        return _payload(response.json()["access_token"]), response.headers["X-Refresh-Token"]


@pytest.fixture
async def api(make_client: AppClient) -> AsyncIterator[Api]:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(clock) as (http, app):
        client = InProcessClient(http, app, clock)
        _, secret = await client.context.api_keys.create("backend")
        yield Api(http, client, {"Authorization": f"Bearer {secret}"})


async def test_the_mapping_is_stored_versioned_and_resolved_at_every_issuance(api: Api) -> None:
    missing = await api.call("GET", "/config/claims")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")

    created = await api.call("POST", "/config/claims", json={"mapping": GUIDE})
    assert created.status_code == 201, created.text
    assert created.json() == {
        "config": {
            "mapping": GUIDE,
            "version": 1,
            "created_at": "2027-01-15T08:00:00Z",
            "updated_at": "2027-01-15T08:00:00Z",
        }
    }
    assert created.headers["Cache-Control"] == "no-store"
    assert (await api.call("GET", "/config/claims")).json() == created.json()

    uid = await api.user(loyalty_tier="gold")
    claims, refresh = await api.login(uid)
    [row] = (await api.context.sessions.list(uid, limit=1, offset=0))[0]
    assert claims["sid"] == row.id
    assert row.ip, "the session knows where it was opened from"
    assert claims["api_version"] == 2
    assert claims["user_id"] == uid == claims["sub"]
    assert claims["loyalty_tier"] == "gold"
    assert claims["context"] == {"ip": row.ip, "country": row.country_code}
    assert claims["cc"] == {}
    assert "minted" not in claims

    # A profile change is in the very next token: the mapping is resolved at each issuance.
    patched = await api.call("PATCH", f"/users/{uid}/profile", json={"loyalty_tier": None})
    assert patched.status_code == 204
    claims, refresh = await api.refresh(refresh)
    assert claims["loyalty_tier"] is None

    api.client.clock.advance(60)
    replaced = await api.call("PUT", "/config/claims", json={"mapping": {"v": 3}})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["config"] == {
        "mapping": {"v": 3},
        "version": 2,
        "created_at": "2027-01-15T08:00:00Z",
        "updated_at": "2027-01-15T08:01:00Z",
    }
    claims, _ = await api.refresh(refresh)
    assert claims["v"] == 3
    assert not {"api_version", "loyalty_tier", "context"} & set(claims)
    audited = await api.context.db.audit.list(event_type="config.changed")
    assert [dict(a.data) for a in audited] == [
        {"name": "claims", "version": 1},
        {"name": "claims", "version": 2},
    ]


@pytest.mark.parametrize(
    "mapping",
    [
        {"sub": "usr_admin"},
        {"sid": "ses_other"},
        {"scope": "admin"},
        {"minted": False},
        {"cnf": {"jkt": "x"}},
        {"cc": {"role": "admin"}},
        {"exp": 9_999_999_999},
        {"iss": "https://evil.example"},
        {"sub": {"$input": "user_id", "$type": "string"}},
        {"scope": {"$custom_claim": "scope"}},
    ],
)
async def test_a_mapping_cannot_set_a_reserved_claim(api: Api, mapping: dict[str, Any]) -> None:
    uid = await api.user(scope="admin")
    for method in ("POST", "PUT"):
        refused = await api.call(method, "/config/claims", json={"mapping": mapping})
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "bad_request"
        assert "reserved" in refused.json()["message"]
    assert await api.context.custom_claims.config() is None
    claims, _ = await api.login(uid)
    assert claims["sub"] == uid
    assert claims["scope"] == "session"
    assert "minted" not in claims


async def test_malformed_oversized_and_earlier_bodies_are_refused(api: Api) -> None:
    for body in [
        {"claims": {"tier": "profile.tier"}},  # sessile's earlier body
        {"mapping": {"tier": "gold"}, "claims": {}},
        {"mapping": ["not", "an", "object"]},
        {},
        {"mapping": {"x": {"$input": "password_hash", "$type": "string"}}},
        {"mapping": {f"c{n}": "v" * 500 for n in range(20)}},
    ]:
        refused = await api.call("PUT", "/config/claims", json=body)
        assert refused.status_code == 400, body
        assert refused.json()["code"] == "bad_request"
    huge = await api.call("PUT", "/config/claims", json={"mapping": {"x": "v" * 70_000}})
    assert huge.status_code == 413
    assert await api.context.custom_claims.config() is None


async def test_a_key_without_the_config_scope_changes_nothing(api: Api) -> None:
    _, narrow = await api.context.api_keys.create(
        "users only", scopes=["users:read", "users:write"]
    )
    headers = {"Authorization": f"Bearer {narrow}"}
    for method in ("GET", "POST", "PUT"):
        body = None if method == "GET" else {"mapping": {"tier": "gold"}}
        refused = await api.call(method, "/config/claims", json=body, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden"
        assert "config" in refused.json()["message"]
    assert await api.context.custom_claims.config() is None


async def test_a_mapping_an_earlier_sessile_stored_keeps_filling_cc_until_replaced(
    api: Api,
) -> None:
    # What ``PUT …/config/claims {"claims": …}`` stored before the mapping's syntax.
    await api.context.live_config.put(
        "claims", {"tier": "profile.billing.tier", "uid": "user.id", "v": {"value": 2}}
    )
    uid = await api.user(billing={"tier": "gold"})
    claims, refresh = await api.login(uid)
    assert claims["cc"] == {"tier": "gold", "uid": uid, "v": "2"}
    assert "tier" not in claims
    shown = (await api.call("GET", "/config/claims")).json()["config"]
    assert (shown["mapping"], shown["version"]) == ({}, 1)
    assert shown["cc_claims"] == {
        "tier": "profile.billing.tier",
        "uid": "user.id",
        "v": {"value": 2},
    }

    replaced = await api.call("PUT", "/config/claims", json={"mapping": {"tier": "x"}})
    assert "cc_claims" not in replaced.json()["config"]
    claims, _ = await api.refresh(refresh)
    assert (claims["cc"], claims["tier"]) == ({}, "x")


#: A NUL and a lone surrogate, as JSON escapes: Python's JSON reader takes both.
NUL, SURROGATE = "\\u0000", "\\ud800"


def _with(bad: str, value: Any) -> bytes:
    """``value`` as JSON, with every ``BAD`` in it made the escape ``bad``."""
    return json.dumps(value).replace("BAD", bad).encode()


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
@pytest.mark.parametrize(
    "mapping",
    [
        {"tier": "goldBAD"},
        {"tiers": ["gold", "xBAD"]},
        {"group": {"inner": {"tier": "BAD"}}},
        {"tier": {"$custom_claim": "tierBAD"}},
        {"group": {"okBAD": 1}},
        {"okBAD": 1},
    ],
)
async def test_a_nul_or_lone_surrogate_is_never_stored(
    api: Api, mapping: dict[str, Any], bad: str
) -> None:
    """Stored, either one would make GET answer 500 and ride in every token."""
    for method in ("POST", "PUT"):
        refused = await api.call(method, "/config/claims", content=_with(bad, {"mapping": mapping}))
        assert refused.status_code == 400, refused.text
        assert refused.json()["code"] == "bad_request"
        assert "NUL character or a lone surrogate" in refused.json()["message"]
    assert (await api.call("GET", "/config/claims")).status_code == 404
    # A surrogate pair is one character (here an emoji), and welcome.
    paired = _with("\\ud83c\\udf1f", {"mapping": {"tier": "gold BAD"}})
    good = await api.call("PUT", "/config/claims", content=paired)
    assert good.status_code == 200, good.text
    shown = (await api.call("GET", "/config/claims")).json()["config"]["mapping"]
    assert shown == {"tier": "gold \U0001f31f"}


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
async def test_profile_values_a_token_reads_hold_no_nul_or_lone_surrogate(
    api: Api, bad: str
) -> None:
    mapping = {
        "tier": {"$custom_claim": "tier"},
        "ext": {"$input": "external_id", "$type": "string"},
    }
    assert (await api.call("PUT", "/config/claims", json={"mapping": mapping})).is_success
    uid = await api.user(tier="gold")
    identifiers = [{"type": "email_address", "value": "bo@example.com"}]
    for method, path, body in [
        ("POST", "/users", {"identifiers": identifiers, "profile": {"tier": "xBAD"}}),
        ("POST", "/users", {"identifiers": identifiers, "external_id": "eBAD"}),
        ("PATCH", f"/users/{uid}", {"profile": {"tier": {"deep": ["BAD"]}}}),
        ("PATCH", f"/users/{uid}/profile", {"tier": "BAD"}),
        ("PUT", f"/users/{uid}/external_id", {"external_id": "eBAD"}),
    ]:
        refused = await api.call(method, path, content=_with(bad, body))
        assert (refused.status_code, refused.json()["code"]) == (400, "bad_request"), path
    claims, _ = await api.login(uid)
    assert (claims["tier"], claims["ext"]) == ("gold", None)
