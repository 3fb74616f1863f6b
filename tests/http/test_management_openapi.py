"""schemathesis against the management API's OpenAPI document, on a real server: no 5xx,
and every answer matches the document. Bounded: a fixed seed and a few examples per
operation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer, live_server

SECRET = "test-secret-" + "x" * 40
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance,negative_data_rejection,"
    "ignored_auth,unsupported_method"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The shared server, but a webhook may point at loopback (the one below does, and the
    fuzzed URLs are never looked up)."""
    env = {"SESSILE_EVENT_ALLOW_PRIVATE_URLS": "true"}
    with live_server(tmp_path_factory.mktemp("server"), env=env) as live:
        yield live


def _sessile(server: LiveServer, *args: str) -> str:
    env = {**os.environ, "SESSILE_DATABASE_URL": server.database_url, "SESSILE_SECRET_KEY": SECRET}
    done = subprocess.run(
        [sys.executable, "-m", "sessile", *args],
        env=env, capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_management_api_conforms_to_its_openapi_document(
    server: LiveServer, tmp_path: Path
) -> None:
    api_key = _sessile(server, "apikeys", "create", "--name", "schemathesis", "--all-scopes")
    user = json.loads(_sessile(server, "users", "create", "--email", "fuzzed@example.com"))
    # Nothing listens there: activation answers its documented 400.
    webhook = httpx.post(
        server.url + "/v2/session/apps/default/webhooks",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"url": "http://127.0.0.1:9/hooks", "events": ["user.created"],
              "verification_token": "fuzz"},
        timeout=60,
    )  # fmt: skip
    assert webhook.status_code == 201, webhook.text
    webhook_id = webhook.json()["webhook"]["id"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'[parameters]\n"path.user_id" = "{user["id"]}"\n"path.app_id" = "default"\n'
        f'"path.webhook_id" = "{webhook_id}"\n"path.session_id" = "ses_none"\n'
        '"path.provider" = "google"\n"path.login_config_id" = "lcfg_01jqebhswje1ka1z7ahr9rfsgt"\n'
    )
    run = subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
            server.url + "/openapi.json",
            "--include-path-regex", "^/v2/session/apps/",
            "--header", f"Authorization: Bearer {api_key}",
            "--checks", CHECKS,
            "--max-examples", "20",
            "--seed", "7",
            "--workers", "1",
        ],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "API Operations:" in run.stdout
    assert "Tested: 54" in run.stdout, run.stdout[-3000:]
