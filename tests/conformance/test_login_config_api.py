"""The login-config routes of Prelude's management API, as PRELUDE-API.md §4.10 documents
them (with §8 contradictions 10 and 11): each documented request is accepted, and the
documented status, members and types come back."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey

from sessile.clock import FixedClock
from tests.apps import AppClient

APP = "https://auth.test/v2/session/apps/default"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
LOGIN_CONFIG = {"id", "config_type", "channel_type", "is_default", "granted_scopes",
                "template_id", "sender_id", "created_at", "updated_at"}  # fmt: skip
OAUTH_CONFIG = {"provider_id", "client_id", "enabled", "scopes", "granted_scopes", "options",
                "apple", "okta", "created_at", "updated_at"}  # fmt: skip
SECOND = 1_000_000_000
PASSWORD_BODY: dict[str, Any] = {
    "hash_method": "argon2id",
    "enabled": True,
    "rate_limit_login_ip": {"ttl": 3600 * SECOND, "limit": 50},
    "rate_limit_login_identifier": {"ttl": 900 * SECOND, "limit": 5},
    "password_compliancy": {"min_length": 10, "max_length": 64, "uppercase": 1,
                            "lowercase": 1, "numbers": 1, "symbols": 1},
}  # fmt: skip


@pytest.fixture
async def api(make_client: AppClient) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(FixedClock(1_800_000_000.0)) as (http, app):
        _, key = await app.state.context.api_keys.create("backend")
        http.headers["Authorization"] = f"Bearer {key}"
        yield http


def _is_login_config(config: dict[str, Any]) -> None:
    assert set(config) >= LOGIN_CONFIG
    assert re.fullmatch(r"lcfg_[0-9a-z]{26}", config["id"]), "31 characters, like lcfg_01jq…"
    assert config["config_type"] == "otp"
    assert config["channel_type"] in ("sms", "email")
    assert isinstance(config["is_default"], bool)
    assert isinstance(config["granted_scopes"], list)
    assert all(isinstance(s, str) for s in config["granted_scopes"])
    assert config["template_id"] is None or isinstance(config["template_id"], str)
    assert config["sender_id"] is None or isinstance(config["sender_id"], str)
    assert RFC3339.match(config["created_at"])
    assert RFC3339.match(config["updated_at"])


async def test_create_login_otp_config(api: httpx.AsyncClient) -> None:
    body = {"config_type": "otp", "channel_type": "email", "is_default": True,
            "template_id": "tpl_01jqebhswje1ka1z7ahr9rfsgt", "sender_id": "Acme",
            "granted_scopes": ["prld:pwd:write"]}  # fmt: skip
    created = await api.post(APP + "/config/login/otp", json=body)
    assert created.status_code == 201, created.text
    config = created.json()["login_config"]
    _is_login_config(config)
    assert len(config["id"]) == 31
    assert (config["channel_type"], config["is_default"], config["template_id"],
            config["sender_id"], config["granted_scopes"]) == (
        "email", True, "tpl_01jqebhswje1ka1z7ahr9rfsgt", "Acme", ["prld:pwd:write"])  # fmt: skip


async def test_create_login_otp_config_in_the_older_shape(api: httpx.AsyncClient) -> None:
    """Contradiction 11: ``grant_change_password`` (bool) of the older pages."""
    body = {"config_type": "otp", "channel_type": "sms", "grant_change_password": True}
    created = await api.post(APP + "/config/login/otp", json=body)
    assert created.status_code == 201, created.text
    config = created.json()["login_config"]
    _is_login_config(config)
    assert config["granted_scopes"] == ["prld:pwd:write"]
    assert config["is_default"] is False, "is_default is optional"
    body["grant_change_password"] = False
    plain = await api.post(APP + "/config/login/otp", json=body)
    assert plain.json()["login_config"]["granted_scopes"] == []


async def test_list_login_otp_configs(api: httpx.AsyncClient) -> None:
    empty = await api.get(APP + "/config/login/otp")
    assert (empty.status_code, empty.json()) == (200, {"login_configs": []})
    for channel in ("email", "sms"):
        await api.post(APP + "/config/login/otp", json={"config_type": "otp",
                                                        "channel_type": channel})  # fmt: skip
    listed = await api.get(APP + "/config/login/otp")
    assert listed.status_code == 200
    configs = listed.json()["login_configs"]
    assert [c["channel_type"] for c in configs] == ["email", "sms"]
    for config in configs:
        _is_login_config(config)


async def test_update_login_otp_config(api: httpx.AsyncClient) -> None:
    created = await api.post(APP + "/config/login/otp", json={"config_type": "otp",
                                                              "channel_type": "email"})  # fmt: skip
    config_id = created.json()["login_config"]["id"]
    body = {"config_type": "otp", "channel_type": "email", "is_default": True,
            "template_id": "tpl_other", "sender_id": "Acme Inc",
            "granted_scopes": ["orders:read"]}  # fmt: skip
    updated = await api.put(APP + f"/config/login/otp/{config_id}", json=body)
    assert updated.status_code == 200, updated.text
    config = updated.json()["login_config"]
    _is_login_config(config)
    assert config["id"] == config_id
    assert (config["is_default"], config["template_id"], config["granted_scopes"]) == (
        True, "tpl_other", ["orders:read"])  # fmt: skip
    old_shape = await api.put(APP + f"/config/login/otp/{config_id}", json={
        "config_type": "otp", "channel_type": "email", "grant_change_password": True})  # fmt: skip
    assert old_shape.json()["login_config"]["granted_scopes"] == ["prld:pwd:write"]


def _is_oauth_config(config: dict[str, Any], provider: str) -> None:
    assert set(config) >= OAUTH_CONFIG
    assert config["provider_id"] == provider
    assert isinstance(config["client_id"], str)
    assert isinstance(config["enabled"], bool)
    assert all(isinstance(s, str) for s in config["scopes"])
    assert all(isinstance(s, str) for s in config["granted_scopes"])
    assert set(config["options"]) == {"use_email_as_identifier", "allow_email_account_merge",
                                      "verify_email"}  # fmt: skip
    assert all(isinstance(v, bool) for v in config["options"].values())
    assert RFC3339.match(config["created_at"])
    assert RFC3339.match(config["updated_at"])
    assert "client_secret" not in config


async def test_create_login_oauth_config(api: httpx.AsyncClient) -> None:
    body = {"client_id": "1234.apps.googleusercontent.com", "client_secret": "GOCSPX-secret",
            "enabled": True, "scopes": ["openid", "email", "profile"],
            "granted_scopes": ["prld:pwd:write"],
            "options": {"use_email_as_identifier": True, "allow_email_account_merge": True,
                        "verify_email": False}}  # fmt: skip
    created = await api.post(APP + "/config/login/oauth/google", json=body)
    assert created.status_code in (200, 201), created.text
    config = created.json()["config"]
    _is_oauth_config(config, "google")
    assert (config["client_id"], config["enabled"], config["scopes"], config["granted_scopes"],
            config["options"]) == (body["client_id"], True, body["scopes"],
                                   ["prld:pwd:write"], body["options"])  # fmt: skip
    assert "GOCSPX-secret" not in created.text


async def test_create_login_oauth_config_for_apple_and_okta(api: httpx.AsyncClient) -> None:
    pem = ECKey.generate_key("P-256").as_pem(private=True).decode()
    apple = await api.post(APP + "/config/login/oauth/apple", json={
        "client_id": "com.example.web", "client_secret": "unused",
        "apple": {"team_id": "TEAM123456", "key_id": "KEY1234567", "p8_key": pem}})  # fmt: skip
    assert apple.status_code in (200, 201), apple.text
    config = apple.json()["config"]
    _is_oauth_config(config, "apple")
    assert config["apple"] == {"team_id": "TEAM123456", "key_id": "KEY1234567"}
    assert "PRIVATE KEY" not in apple.text
    okta = await api.post(APP + "/config/login/oauth/okta", json={
        "client_id": "0oa1", "client_secret": "okta-secret",
        "okta": {"issuer_url": "https://example.okta.com"}})  # fmt: skip
    assert okta.status_code in (200, 201), okta.text
    config = okta.json()["config"]
    _is_oauth_config(config, "okta")
    assert config["okta"] == {"issuer_url": "https://example.okta.com"}


async def test_create_login_oauth_config_for_every_named_provider(api: httpx.AsyncClient) -> None:
    for provider in ("google", "microsoft", "github", "facebook"):
        created = await api.post(APP + f"/config/login/oauth/{provider}",
                                 json={"client_id": "id", "client_secret": "secret"})  # fmt: skip
        assert created.status_code in (200, 201), (provider, created.text)
        _is_oauth_config(created.json()["config"], provider)


async def test_verify_email_is_checked_on_write(api: httpx.AsyncClient) -> None:
    """``verify_email`` requires ``use_email_as_identifier=true`` and an e-mail OTP config."""
    body: dict[str, Any] = {
        "client_id": "id",
        "client_secret": "secret",
        "options": {"use_email_as_identifier": False, "verify_email": True},
    }
    refused = await api.post(APP + "/config/login/oauth/google", json=body)
    assert refused.status_code == 400
    assert refused.json()["status"] == "bad_request"
    await api.post(APP + "/config/login/otp", json={"config_type": "otp", "channel_type": "sms"})
    body["options"]["use_email_as_identifier"] = True
    assert (await api.post(APP + "/config/login/oauth/google", json=body)).status_code == 400
    await api.post(APP + "/config/login/otp", json={"config_type": "otp",
                                                    "channel_type": "email"})  # fmt: skip
    accepted = await api.post(APP + "/config/login/oauth/google", json=body)
    assert accepted.status_code in (200, 201), accepted.text
    assert accepted.json()["config"]["options"]["verify_email"] is True


async def test_read_and_change_login_oauth_config(api: httpx.AsyncClient) -> None:
    await api.post(APP + "/config/login/oauth/github",
                   json={"client_id": "gh-id", "client_secret": "gh-secret"})  # fmt: skip
    read = await api.get(APP + "/config/login/oauth/github")
    assert read.status_code == 200
    _is_oauth_config(read.json()["config"], "github")
    changed = await api.put(APP + "/config/login/oauth/github",
                            json={"client_id": "gh-id-2", "enabled": False})  # fmt: skip
    assert changed.status_code == 200, changed.text
    config = changed.json()["config"]
    _is_oauth_config(config, "github")
    assert (config["client_id"], config["enabled"]) == ("gh-id-2", False)


def _is_password_config(config: dict[str, Any]) -> None:
    assert {"hash_method", "enabled", "rate_limit_login_ip", "rate_limit_login_identifier",
            "password_compliancy", "created_at", "updated_at"} <= set(config)  # fmt: skip
    assert isinstance(config["hash_method"], str)
    assert isinstance(config["enabled"], bool)
    for limit in ("rate_limit_login_ip", "rate_limit_login_identifier"):
        assert set(config[limit]) == {"ttl", "limit"}
        assert all(type(v) is int for v in config[limit].values())
    compliancy = config["password_compliancy"]
    assert set(compliancy) == {"min_length", "max_length", "uppercase", "lowercase",
                               "numbers", "symbols"}  # fmt: skip
    assert all(type(v) is int for v in compliancy.values()), "integers (contradiction 10)"


async def test_get_login_password_config(api: httpx.AsyncClient) -> None:
    read = await api.get(APP + "/config/login/password")
    assert read.status_code == 200
    _is_password_config(read.json()["config"])


async def test_update_login_password_config(api: httpx.AsyncClient) -> None:
    updated = await api.put(APP + "/config/login/password", json=PASSWORD_BODY)
    assert updated.status_code == 200, updated.text
    config = updated.json()["config"]
    _is_password_config(config)
    assert RFC3339.match(config["created_at"])
    assert RFC3339.match(config["updated_at"])
    for member in ("hash_method", "enabled", "rate_limit_login_ip",
                   "rate_limit_login_identifier", "password_compliancy"):  # fmt: skip
        assert config[member] == PASSWORD_BODY[member]
    assert (await api.get(APP + "/config/login/password")).json() == updated.json()


async def test_create_login_password_config_as_the_guide_does(api: httpx.AsyncClient) -> None:
    """The guide creates it with POST; its example names bcrypt."""
    body = {**PASSWORD_BODY, "hash_method": "bcrypt"}
    created = await api.post(APP + "/config/login/password", json=body)
    assert created.status_code in (200, 201), created.text
    _is_password_config(created.json()["config"])
    assert created.json()["config"]["hash_method"] == "bcrypt"


async def test_password_compliancy_booleans_of_the_older_pages(api: httpx.AsyncClient) -> None:
    """Contradiction 10: the older pages' booleans are taken; integers come back."""
    body = {**PASSWORD_BODY, "password_compliancy": {
        "min_length": 8, "max_length": 128, "uppercase": True, "lowercase": False,
        "numbers": True, "symbols": False}}  # fmt: skip
    updated = await api.put(APP + "/config/login/password", json=body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["config"]["password_compliancy"] == {
        "min_length": 8, "max_length": 128, "uppercase": 1, "lowercase": 0,
        "numbers": 1, "symbols": 0}  # fmt: skip


async def test_management_errors_have_the_documented_shape(api: httpx.AsyncClient) -> None:
    refused = await api.post(APP + "/config/login/otp", json={"channel_type": "email"})
    assert refused.status_code == 400
    assert {"code", "status", "message"} <= set(refused.json())
    assert refused.json()["status"] == "bad_request"
