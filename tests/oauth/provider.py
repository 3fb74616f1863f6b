"""panva's ``oidc-provider`` (npm, locked in ``tests/oauth/provider``) on loopback: a real
OpenID Connect provider whose login and consent pages the tests fill in."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import free_port

__all__ = ["Account", "OidcProvider", "oidc_provider"]

PROJECT = Path(__file__).parent / "provider"
CLIENT_ID = "sessile-app"
CLIENT_SECRET = "provider-side-secret-for-tests"


@dataclass(frozen=True)
class Account:
    login: str
    password: str
    sub: str
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class OidcProvider:
    issuer: str
    process: subprocess.Popen[bytes]

    def sessile_env(self, name: str = "google") -> dict[str, str]:
        """Settings pointing sessile's provider ``name`` at this issuer."""
        prefix = f"SESSILE_OAUTH_{name.upper()}_"
        return {
            prefix + "CLIENT_ID": CLIENT_ID,
            prefix + "CLIENT_SECRET": CLIENT_SECRET,
            prefix + "ISSUER": self.issuer,
        }


@contextlib.contextmanager
def oidc_provider(
    redirect_uris: list[str], accounts: list[Account], *, port: int | None = None
) -> Iterator[OidcProvider]:
    if shutil.which("node") is None or not (PROJECT / "node_modules").is_dir():
        if os.environ.get("SESSILE_TEST_REQUIRE_SERVICES"):
            raise RuntimeError("node and `npm ci --prefix tests/oauth/provider` are needed")
        pytest.skip("node or tests/oauth/provider/node_modules missing (make setup)")
    port = port or free_port()
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    env = {
        **os.environ,
        "PORT": str(port),
        "CLIENTS": json.dumps([client]),
        "ACCOUNTS": json.dumps(
            {
                a.login: {"password": a.password, "sub": a.sub, "claims": dict(a.claims)}
                for a in accounts
            }
        ),
    }
    process = subprocess.Popen(
        ["node", str(PROJECT / "server.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("oidc-provider did not start")
        issuer = json.loads(line)["issuer"]
        _wait(issuer)
        yield OidcProvider(issuer, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait(issuer: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(issuer + "/.well-known/openid-configuration", timeout=1).is_success:
                return
        time.sleep(0.1)
    raise RuntimeError("oidc-provider did not answer")
