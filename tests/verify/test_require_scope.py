"""``require_scope`` in FastAPI, Starlette and Flask backends against a real sessile: a
step-up's scope is accepted while its grant lasts and refused after."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest

from sessile.verify import AsyncVerifier, Verifier
from tests.live import LiveServer, live_server
from tests.stepup.flow import claims_of, log_in
from tests.verify import apps

GRANT = 4

Serve = Callable[[LiveServer], AbstractContextManager[str]]


def _fastapi(server: LiveServer) -> AbstractContextManager[str]:
    return apps.serve_asgi(apps.fastapi_app(AsyncVerifier(server.url, "default", leeway=0)))


def _starlette(server: LiveServer) -> AbstractContextManager[str]:
    return apps.serve_asgi(apps.starlette_app(AsyncVerifier(server.url, "default", leeway=0)))


def _flask(server: LiveServer) -> AbstractContextManager[str]:
    return apps.serve_wsgi(apps.flask_app(Verifier(server.url, "default", leeway=0)))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SESSILE_STEPUP_GRANT_TTL": str(GRANT)}
    with live_server(tmp_path_factory.mktemp("grants"), env=env) as live:
        yield live


@pytest.mark.parametrize(
    "serve", [_fastapi, _starlette, _flask], ids=["fastapi", "starlette", "flask"]
)
def test_the_scope_while_it_lasts_and_not_after(server: LiveServer, serve: Serve) -> None:
    client = log_in(server)
    with serve(server) as base:

        def call() -> httpx.Response:
            return httpx.get(base + "/password", headers=client.bearer())

        refused = call()
        assert refused.status_code == 403
        assert refused.json()["code"] == "insufficient_scope"
        assert refused.headers["WWW-Authenticate"] == (
            'Bearer error="insufficient_scope", error_description='
            '"The access token lacks a scope this needs.", scope="prld:pwd:write"'
        )
        assert httpx.get(base + "/me", headers=client.bearer()).status_code == 200

        client.session.refresh(client.step_up("prld:pwd:write"))
        granted_until = claims_of(client.session.tokens.access_token)["exp"]  # type: ignore[union-attr]
        accepted = call()
        assert accepted.status_code == 200, accepted.text
        assert "prld:pwd:write" in accepted.json()["scope"].split()

        time.sleep(max(0.0, granted_until - time.time()) + 1.1)
        expired = call()
        assert expired.status_code == 401
        assert expired.json()["code"] == "expired_token"
        client.session.refresh()
        after = call()
        assert after.status_code == 403
        assert after.json()["code"] == "insufficient_scope"
