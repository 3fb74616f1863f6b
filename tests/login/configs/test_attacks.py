"""The login-config routes refuse what they must, and store nothing when they do: a key
without the ``config`` scope, malformed bodies, unknown providers, URLs that are not
http(s); and a stored secret never comes back, nor sits in the database in the clear."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from joserfc.jwk import ECKey

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient
from tests.login.configs.harness import APP, management

SECOND = 1_000_000_000
OTP = {"config_type": "otp", "channel_type": "email"}
OAUTH = {"client_id": "client", "client_secret": "the-client-secret"}
COMPLIANCY = {"min_length": 8, "max_length": 64, "uppercase": 0, "lowercase": 0,
              "numbers": 0, "symbols": 0}  # fmt: skip
PASSWORD: dict[str, Any] = {
    "hash_method": "argon2id",
    "enabled": True,
    "rate_limit_login_ip": {"ttl": 60 * SECOND, "limit": 10},
    "rate_limit_login_identifier": {"ttl": 60 * SECOND, "limit": 5},
    "password_compliancy": COMPLIANCY,
}


@pytest.fixture
async def client(make_client: AppClient) -> AsyncIterator[InProcessClient]:
    clock = FixedClock(1_800_000_000.0)
    async with make_client(clock) as (http, app):
        yield InProcessClient(http, app, clock)


async def _stored(client: InProcessClient) -> dict[str, Any]:
    """Every configuration document in the database, by name."""
    documents = await client.context.db.config.all()
    return {name: document.value for name, document in documents.items()}


WRITES = [
    ("POST", "/config/login/otp", OTP),
    ("PUT", "/config/login/otp/lcfg_01jqebhswje1ka1z7ahr9rfsgt", OTP),
    ("DELETE", "/config/login/otp/lcfg_01jqebhswje1ka1z7ahr9rfsgt", None),
    ("POST", "/config/login/oauth/google", OAUTH),
    ("PUT", "/config/login/oauth/google", OAUTH),
    ("DELETE", "/config/login/oauth/google", None),
    ("PUT", "/config/login/password", PASSWORD),
    ("POST", "/config/login/password", PASSWORD),
    ("DELETE", "/config/login/password", None),
]


async def test_a_key_without_the_config_scope_writes_nothing(client: InProcessClient) -> None:
    headers = await management(client, scopes=["users:read", "users:write", "webhooks"])
    for method, path, body in WRITES:
        answer = await client.http.request(method, APP + path, json=body, headers=headers)
        assert answer.status_code == 403, (method, path)
        assert answer.json()["code"] == "forbidden"
    for path in ("/config/login/otp", "/config/login/oauth/google", "/config/login/password"):
        assert (await client.http.get(APP + path, headers=headers)).status_code == 403
    unkeyed = await client.http.post(APP + "/config/login/otp", json=OTP)
    assert unkeyed.status_code == 401
    assert await _stored(client) == {}
    # The same writes with the scope go through (the two unknown ids are 404).
    scoped = await management(client, scopes=["config"])
    answers = [
        (await client.http.request(method, APP + path, json=body, headers=scoped)).status_code
        for method, path, body in WRITES
    ]
    assert answers == [201, 404, 404, 201, 200, 204, 200, 201, 204]


async def test_a_secret_is_never_shown_nor_stored_in_the_clear(client: InProcessClient) -> None:
    headers = await management(client)
    pem = ECKey.generate_key("P-256").as_pem(private=True).decode()
    key_body = pem.split("-----")[2].strip().splitlines()[0]
    body = {
        **OAUTH,
        "apple": {"team_id": "TEAM123456", "key_id": "KEY1234567", "p8_key": pem},
    }
    answers = [
        await client.http.post(APP + "/config/login/oauth/apple", json=body, headers=headers),
        await client.http.get(APP + "/config/login/oauth/apple", headers=headers),
        await client.http.put(
            APP + "/config/login/oauth/apple",
            json={"client_id": "client", "apple": {"team_id": "T2", "key_id": "K2"}},
            headers=headers,
        ),
    ]
    for answer in answers:
        assert answer.is_success, answer.text
        assert "the-client-secret" not in answer.text
        assert key_body not in answer.text
        assert "p8_key" not in answer.text
        assert "client_secret" not in answer.text
    at_rest = json.dumps(await _stored(client))
    assert "the-client-secret" not in at_rest
    assert key_body not in at_rest
    # The PUT without secrets kept the stored ones: the provider still has its key.
    configured = await client.context.login_configs.oauth.provider("apple")
    assert configured is not None
    assert configured.settings.private_key is not None
    assert configured.settings.team_id == "T2"


MALFORMED_OTP: list[Any] = [
    {},
    {"channel_type": "email"},
    {"config_type": "sms", "channel_type": "email"},
    {"config_type": "otp", "channel_type": "voice"},
    {"config_type": "otp", "channel_type": "email", "is_default": "yes"},
    {"config_type": "otp", "channel_type": "email", "granted_scopes": ["has space"]},
    {"config_type": "otp", "channel_type": "email", "granted_scopes": "prld:pwd:write"},
    {"config_type": "otp", "channel_type": "email", "granted_scopes": ["s" * 101]},
    {"config_type": "otp", "channel_type": "email",
     "granted_scopes": [f"scope:{n:02}:" + "x" * 20 for n in range(5)]},
    {"config_type": "otp", "channel_type": "email", "template_id": ""},
    {"config_type": "otp", "channel_type": "email", "grant_change_password": "true"},
    {"config_type": "otp", "channel_type": "email", "unknown": 1},
    [OTP],
]  # fmt: skip
MALFORMED_OAUTH: list[Any] = [
    {},
    {"client_secret": "s"},
    {"client_id": "", "client_secret": "s"},
    {"client_id": "c"},
    {**OAUTH, "enabled": "false"},
    {**OAUTH, "scopes": ["has space"]},
    {**OAUTH, "granted_scopes": ["bad scope"]},
    {**OAUTH, "options": {"verify_email": True, "use_email_as_identifier": False}},
    {**OAUTH, "options": {"merge": True}},
    {**OAUTH, "okta": {"issuer_url": "https://example.okta.com"}},
    {**OAUTH, "apple": {"team_id": "T", "key_id": "K", "p8_key": "k"}},
    {**OAUTH, "redirect_uris": ["javascript:alert(1)"]},
    {**OAUTH, "redirect_uris": ["/relative/callback"]},
    {**OAUTH, "redirect_uris": ["https://app.example/cb#fragment"]},
    {**OAUTH, "client_secret": None},
]
MALFORMED_PASSWORD: list[Any] = [
    {},
    {**PASSWORD, "hash_method": "md5"},
    {**PASSWORD, "enabled": None},
    {**PASSWORD, "rate_limit_login_ip": {"ttl": 0, "limit": 5}},
    {**PASSWORD, "rate_limit_login_ip": {"ttl": 60 * SECOND, "limit": 0}},
    {**PASSWORD, "rate_limit_login_ip": {"ttl": "60s", "limit": 5}},
    {**PASSWORD, "rate_limit_login_identifier": {"ttl": 60 * SECOND}},
    {**PASSWORD, "password_compliancy": {**COMPLIANCY, "min_length": 20, "max_length": 10}},
    {**PASSWORD, "password_compliancy": {**COMPLIANCY, "uppercase": -1}},
    {**PASSWORD, "password_compliancy": {**COMPLIANCY, "symbols": "1"}},
    {**PASSWORD, "password_compliancy": {**COMPLIANCY, "min_length": 2}},
    {key: value for key, value in PASSWORD.items() if key != "password_compliancy"},
]


@pytest.mark.parametrize(
    ("method", "path", "bodies"),
    [
        ("POST", "/config/login/otp", MALFORMED_OTP),
        ("POST", "/config/login/oauth/google", MALFORMED_OAUTH),
        ("PUT", "/config/login/password", MALFORMED_PASSWORD),
    ],
)
async def test_malformed_bodies_are_refused_and_store_nothing(
    client: InProcessClient, method: str, path: str, bodies: list[Any]
) -> None:
    headers = await management(client)
    for body in [*bodies, "not json", "", "null"]:
        if isinstance(body, str):
            answer = await client.http.request(method, APP + path, content=body, headers=headers)
        else:
            answer = await client.http.request(method, APP + path, json=body, headers=headers)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["code"] == "bad_request"
    assert await _stored(client) == {}


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("okta", OAUTH),
        ("apple", {**OAUTH, "apple": {"team_id": "T", "key_id": "K", "p8_key": "not a key"}}),
        ("apple", {**OAUTH, "apple": {"team_id": "T", "key_id": "K"}}),
    ],
)
async def test_a_provider_that_could_sign_nobody_in_is_refused(
    client: InProcessClient, provider: str, body: dict[str, Any]
) -> None:
    """Okta without its issuer; Apple without a usable key."""
    answer = await client.http.post(
        APP + f"/config/login/oauth/{provider}", json=body, headers=await management(client)
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "bad_request"), answer.text
    assert await _stored(client) == {}


@pytest.mark.parametrize(
    "issuer",
    ["javascript:alert(1)", "ftp://example.okta.com", "example.okta.com", "file:///etc/passwd"],
)
async def test_an_issuer_that_is_not_http_is_refused(client: InProcessClient, issuer: str) -> None:
    body = {**OAUTH, "okta": {"issuer_url": issuer}}
    answer = await client.http.post(
        APP + "/config/login/oauth/okta", json=body, headers=await management(client)
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "bad_request")
    assert await _stored(client) == {}


@pytest.mark.parametrize("provider", ["twitter", "my_idp", "Google", "gitlab"])
async def test_a_provider_prelude_does_not_name_is_not_found(
    client: InProcessClient, provider: str
) -> None:
    headers = await management(client)
    for method in ("POST", "PUT", "GET", "DELETE"):
        body = OAUTH if method in ("POST", "PUT") else None
        answer = await client.http.request(
            method, APP + f"/config/login/oauth/{provider}", json=body, headers=headers
        )
        assert answer.status_code == 404, (method, answer.text)
        assert answer.json()["code"] == "not_found"
    assert await _stored(client) == {}


async def test_unknown_otp_config_ids_are_not_found(client: InProcessClient) -> None:
    headers = await management(client)
    for method in ("GET", "PUT", "DELETE"):
        answer = await client.http.request(
            method,
            APP + "/config/login/otp/lcfg_01jqebhswje1ka1z7ahr9rfsgt",
            json=OTP if method == "PUT" else None,
            headers=headers,
        )
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert await _stored(client) == {}
