"""Proofs from independent DPoP clients are accepted: requests-oauth2client and panva's dpop."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from requests_oauth2client import DPoPKey

from tests.dpop.app import ROUTE
from tests.dpop.processes import PUBLIC_URL, AppProcess, migrate, run_apps

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    folder = tmp_path_factory.mktemp("clients")
    url = f"sqlite+aiosqlite:///{folder / 'app.db'}"
    migrate(url)
    env = {
        "SESSILE_PUBLIC_URL": PUBLIC_URL,
        "SESSILE_DATABASE_URL": url,
        "SESSILE_SECRET_KEY": secrets.token_hex(32),
    }
    with run_apps(1, folder, env) as apps:
        yield apps[0]


def test_requests_oauth2client_proofs(app: AppProcess) -> None:
    key = DPoPKey.generate(alg="ES256")
    htu = PUBLIC_URL + ROUTE
    proof = str(key.proof("POST", htu))
    first = requests.post(app.url + ROUTE, headers={"DPoP": proof}, timeout=10)
    assert first.status_code == 401
    assert first.json()["code"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    proof = str(key.proof("POST", htu, nonce=nonce))
    second = requests.post(app.url + ROUTE, headers={"DPoP": proof}, timeout=10)
    assert second.status_code == 200, second.text
    assert second.json()["jkt"] == key.dpop_jkt
    # The library's own proofs are single-use too.
    assert requests.post(app.url + ROUTE, headers={"DPoP": proof}, timeout=10).status_code == 401


def test_panva_dpop_under_node(app: AppProcess) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; it runs tests/node/dpop_client.mjs")
    if not (NODE_DIR / "node_modules" / "dpop").is_dir():
        pytest.fail("tests/node/node_modules is missing: run `npm ci --prefix tests/node`")
    result = subprocess.run(
        [node, str(NODE_DIR / "dpop_client.mjs"), app.url + ROUTE, PUBLIC_URL + ROUTE],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    statuses = [(r["status"], r["body"].get("code")) for r in outcome["responses"]]
    assert statuses == [(401, "use_dpop_nonce"), (200, None)]
    assert outcome["responses"][1]["body"]["jkt"] == outcome["jkt"]
    assert outcome["responses"][1]["nonce"]
