"""Standard JWT libraries verify sessile's access tokens from its JWKS: PyJWT and npm's jose."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

from tests.live import LiveServer

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def test_pyjwt_pyjwkclient(server: LiveServer, access_token: str) -> None:
    client = pyjwt.PyJWKClient(server.url + "/.well-known/jwks.json")
    key = client.get_signing_key_from_jwt(access_token)
    claims = pyjwt.decode(
        access_token,
        key.key,
        algorithms=["ES256"],
        audience="default",
        issuer=server.url,
        options={"require": ["exp", "iat", "nbf", "sub", "jti"]},
    )
    assert claims["sid"].startswith("ses_")
    assert pyjwt.get_unverified_header(access_token)["typ"] == "at+jwt"
    with pytest.raises(pyjwt.InvalidAudienceError):
        pyjwt.decode(access_token, key.key, algorithms=["ES256"], audience="other")


def _jose(server: LiveServer, token: str, audience: str = "default") -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; it runs tests/node/verify-jose.mjs")
    if not (NODE_DIR / "node_modules" / "jose").is_dir():
        pytest.fail("tests/node/node_modules is missing: run `npm ci --prefix tests/node`")
    jwks_url = server.url + "/.well-known/jwks.json"
    done = subprocess.run(
        [node, str(NODE_DIR / "verify-jose.mjs"), jwks_url, server.url, audience],
        input=token,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_jose_under_node(server: LiveServer, access_token: str) -> None:
    result = _jose(server, access_token)
    assert result["ok"] is True, result
    assert result["header"]["typ"] == "at+jwt"
    assert result["payload"]["iss"] == server.url
    assert result["payload"]["sid"].startswith("ses_")

    wrong_audience = _jose(server, access_token, audience="billing")
    assert wrong_audience == {"ok": False, "code": "ERR_JWT_CLAIM_VALIDATION_FAILED"}
    head, payload, signature = access_token.split(".")
    tampered = _jose(server, f"{head}.{payload[:-2]}AA.{signature}")
    assert tampered["ok"] is False
