"""The Node.js recipe of docs/backend.md, run by ``node`` on real deliveries of a live server,
for both signature schemes: it accepts them as sent and refuses them changed."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.events.management import SERVER_ENV, Management
from tests.events.receiver import Receiver, receiver
from tests.live import LiveServer, live_server

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "tests" / "node" / "verify-webhook.mjs"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("recipe"), env=SERVER_ENV) as live:
        yield live


def _node(body: bytes, headers: dict[str, str], **options: Any) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; it runs tests/node/verify-webhook.mjs")
    given = {"body": base64.b64encode(body).decode(), "headers": headers, **options}
    return subprocess.run(
        [node, str(SCRIPT)], input=json.dumps(given), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def _delivery(
    server: LiveServer, inbox: Receiver, signature: str, email: str
) -> tuple[bytes, dict[str, str]]:
    api = Management(server.url, server.api_key())
    api.subscribe(inbox, ["user.created"], signature=signature)
    api.create_user(email)
    inbox.wait_for(1)
    with inbox.lock:
        return inbox.raw[0]


def test_the_recipe_checks_rsassa_pss_deliveries_with_the_jwks(server: LiveServer) -> None:
    jwks_url = server.url + "/.well-known/jwks.json"
    with receiver() as inbox:
        body, headers = _delivery(server, inbox, "rsassa-pss-sha256", "node-pss@example.com")
    assert headers["x-webhook-signature"].startswith("rsassa-pss-sha256=")
    accepted = _node(body, headers, jwksUrl=jwks_url)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == json.loads(body)["events"][0]["id"]

    tampered = body.replace(b"node-pss@", b"node-psx@")
    assert _node(tampered, headers, jwksUrl=jwks_url).returncode == 1
    unknown = {**headers, "x-webhook-signature-key-id": "not-a-published-kid"}
    assert _node(body, unknown, jwksUrl=jwks_url).returncode == 1
    # The HMAC branch does not take an RSASSA-PSS delivery for its own.
    assert _node(body, headers, secret="whsec_guess").returncode == 1


def test_the_recipe_checks_hmac_deliveries_with_the_secret(server: LiveServer) -> None:
    with receiver() as inbox:
        body, headers = _delivery(server, inbox, "hmac-sha256", "node-hmac@example.com")
        [secret] = inbox.secrets
    assert headers["x-webhook-signature"].startswith("sha256=")
    assert "x-webhook-signature-key-id" not in headers
    accepted = _node(body, headers, secret=secret)
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == json.loads(body)["events"][0]["id"]
    assert _node(body.replace(b"node-hmac@", b"node-hmax@"), headers, secret=secret).returncode == 1
    assert _node(body, headers, secret="whsec_" + "x" * 43).returncode == 1


def test_the_docs_show_the_recipe_that_runs() -> None:
    script = SCRIPT.read_text()
    recipe = script[script.index("import { constants") : script.index("// The test's harness")]
    assert recipe.strip() in (ROOT / "docs" / "backend.md").read_text()
