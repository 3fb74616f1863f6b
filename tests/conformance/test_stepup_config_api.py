"""``…/config/stepup`` and ``…/config/scopes`` against Prelude's wire reference (PRELUDE-API
§4.7, §4.11) and its guides' example bodies: the documented request is accepted, the
answer has the documented fields, and the configuration is in force on the frontend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conformance.prelude_client import claims_of
from tests.live import LiveServer, live_server
from tests.stepup.flow import log_in


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SESSILE_OTP_RATE_PER_IP": "10000/minute"}
    with live_server(tmp_path_factory.mktemp("stepup-config"), env=env) as live:
        yield live


@pytest.fixture(scope="module")
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url + "/v2/session/apps/default",
        headers={"Authorization": f"Bearer {server.api_key()}"},
    ) as client:
        yield client


#: The direct configuration of Prelude's logged-in change-password guide.
PASSWORD_RESET = {
    "jwks_url": "",
    "step_keys": [],
    "allowed_scopes": [
        {
            "scope": "prld:pwd:write",
            "mode": "direct",
            "direct": {
                "identifier_types": ["email_address"],
                "granted_for": 300,
                "steps": [{"order": 1, "key": "verify_email", "expiration_duration": 600}],
            },
        },
        {
            "scope": "prld:pwd:write",
            "mode": "direct",
            "direct": {
                "identifier_types": ["phone_number"],
                "granted_for": 300,
                "steps": [{"order": 1, "key": "verify_sms", "expiration_duration": 600}],
            },
        },
        {"scope": "prld:email:register", "mode": "managed"},
    ],
}


def _config(body: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = body["config"]
    assert isinstance(config["allowed_scopes"], list)
    assert isinstance(config["step_keys"], list)
    assert isinstance(config["jwks_url"], str)
    assert config["created_at"].endswith("Z")
    assert config["updated_at"].endswith("Z")
    return config


def test_create_get_and_update_the_step_up_config(server: LiveServer, api: httpx.Client) -> None:
    # "jwks_url can stay empty because no delegated scope is configured."
    created = api.post("/config/stepup", json=PASSWORD_RESET)
    assert created.status_code == 201, created.text
    config = _config(created.json())
    assert [e["scope"] for e in config["allowed_scopes"]] == [
        "prld:pwd:write",
        "prld:pwd:write",
        "prld:email:register",
    ]
    got = api.get("/config/stepup")
    assert got.status_code == 200
    assert _config(got.json())["allowed_scopes"] == config["allowed_scopes"]

    # In force: the first entry whose identifier type the user holds decides.
    client = log_in(server)
    asked = client.request("prld:pwd:write")
    assert asked.json()["status"] == "review"
    challenge = claims_of(asked.json()["challenge_token"])
    assert challenge["current_step"] == "verify_email"
    assert challenge["steps"][0]["expiration_duration"] == 600

    updated = api.put(
        "/config/stepup",
        json={
            "jwks_url": "https://api.example.com/.well-known/jwks.json",
            "step_keys": [{"key": "kyc_review", "description": "KYC"}],
            "allowed_scopes": [
                {
                    "scope": "transfer:write",
                    "mode": "delegated",
                    "delegated": {"delegation_hook": "https://api.example.com/hooks/stepup"},
                }
            ],
        },
    )
    assert updated.status_code == 200, updated.text
    assert _config(updated.json())["jwks_url"] == "https://api.example.com/.well-known/jwks.json"
    # prld:pwd:write is no longer configured.
    refused = client.request("prld:pwd:write")
    assert (refused.status_code, refused.json()["code"]) == (403, "scope_not_allowed")


def test_the_older_shape_is_read_as_delegated(api: httpx.Client) -> None:
    """[old] body: ``signal_hook_url``, ``jwks_url``, ``step_keys``, string scopes."""
    answer = api.post(
        "/config/stepup",
        json={
            "signal_hook_url": "https://api.example.com/hooks/stepup",
            "jwks_url": "https://api.example.com/.well-known/jwks.json",
            "step_keys": [],
            "allowed_scopes": ["transfer:write", "payment:confirm"],
        },
    )
    assert answer.status_code == 201, answer.text
    entries = _config(answer.json())["allowed_scopes"]
    assert [(e["scope"], e["mode"]) for e in entries] == [
        ("transfer:write", "delegated"),
        ("payment:confirm", "delegated"),
    ]
    assert entries[0]["delegated"]["delegation_hook"] == "https://api.example.com/hooks/stepup"


@pytest.mark.parametrize(
    "body",
    [
        # delegated needs a jwks_url
        {
            "step_keys": [],
            "allowed_scopes": [
                {
                    "scope": "a:b",
                    "mode": "delegated",
                    "delegated": {"delegation_hook": "https://x.example/h"},
                }
            ],
        },
        # managed is for the register scopes only
        {"step_keys": [], "allowed_scopes": [{"scope": "a:b", "mode": "managed"}]},
        # a scope outside the documented alphabet
        {
            "step_keys": [],
            "allowed_scopes": [{"scope": "a b", "mode": "direct", "direct": {"granted_for": 1}}],
        },
        # a custom step that step_keys doesn't declare
        {
            "step_keys": [],
            "allowed_scopes": [
                {
                    "scope": "a:b",
                    "mode": "direct",
                    "direct": {"granted_for": 1, "steps": [{"key": "kyc"}]},
                }
            ],
        },
        # verify_passkey isn't a managed step (yet): undeclared, it is refused
        {
            "step_keys": [],
            "allowed_scopes": [
                {
                    "scope": "a:b",
                    "mode": "direct",
                    "direct": {"granted_for": 1, "steps": [{"key": "verify_passkey"}]},
                }
            ],
        },
        # granted_for beyond 86 400
        {
            "step_keys": [],
            "allowed_scopes": [
                {"scope": "a:b", "mode": "direct", "direct": {"granted_for": 86_401}}
            ],
        },
        # a hook that isn't a web URL
        {
            "jwks_url": "https://x.example/jwks",
            "step_keys": [],
            "allowed_scopes": [
                {
                    "scope": "a:b",
                    "mode": "delegated",
                    "delegated": {"delegation_hook": "file:///etc/passwd"},
                }
            ],
        },
    ],
)
def test_a_config_that_breaks_a_rule_is_refused_and_nothing_changes(
    api: httpx.Client, body: dict[str, Any]
) -> None:
    before = api.get("/config/stepup").json()
    answer = api.put("/config/stepup", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "bad_request"
    assert answer.json()["status"] == "bad_request"
    assert api.get("/config/stepup").json() == before


def test_a_key_without_the_config_scope_writes_nothing(
    server: LiveServer, api: httpx.Client
) -> None:
    narrow = server.cli("apikeys", "create", "--name", "reader", "--scope", "users:read")
    assert narrow.returncode == 0, narrow.stderr
    key = narrow.stdout.strip().split()[-1]
    before = api.get("/config/stepup").json()
    refused = httpx.put(
        server.url + "/v2/session/apps/default/config/stepup",
        headers={"Authorization": f"Bearer {key}"},
        json=PASSWORD_RESET,
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert api.get("/config/stepup").json() == before


def test_every_change_is_audited(api: httpx.Client) -> None:
    assert api.put("/config/stepup", json=PASSWORD_RESET).status_code == 200
    events = api.get("/audit", params={"type": "config.changed"}).json()["events"]
    assert events
    assert events[-1]["data"]["name"] == "stepup"
    assert events[-1]["actor"].startswith("api_key:")


def test_create_and_list_scopes(api: httpx.Client) -> None:
    """The password guide's first call: ``POST /config/scopes {"scope": "prld:pwd:write"}``."""
    created = api.post("/config/scopes", json={"scope": "prld:pwd:write"})
    assert created.status_code == 201, created.text
    assert api.post("/config/scopes", json={"scope": "prld:pwd:write"}).status_code == 201
    assert api.post("/config/scopes", json={"scope": "not valid"}).status_code == 400
    assert api.get("/config/scopes").json() == {"scopes": ["prld:pwd:write"]}
    assert api.delete("/config/scopes/prld:pwd:write").status_code == 204
    assert api.get("/config/scopes").json() == {"scopes": []}


def test_a_direct_entry_may_name_its_grant_mode(server: LiveServer, api: httpx.Client) -> None:
    """sessile's optional ``direct.grant_mode``: a direct scope granted to one token."""
    body = {
        "step_keys": [],
        "allowed_scopes": [
            {
                "scope": "report:export",
                "mode": "direct",
                "direct": {"granted_for": 0, "grant_mode": "single-use", "steps": []},
            }
        ],
    }
    assert api.put("/config/stepup", json=body).status_code == 200
    client = log_in(server)
    asked = client.request("report:export")
    assert asked.json()["status"] == "continue"
    completed = asked.json()["challenge_token"]
    assert claims_of(completed)["grant_mode"] == "single-use"
    assert "report:export" in claims_of(client.session.refresh(completed).access_token)["scope"]
    assert claims_of(client.session.refresh().access_token)["scope"] == "session"
