"""FastAPI, Starlette and Flask guarded by sessile.verify, over HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from sessile.verify import AsyncVerifier, Verifier
from tests.live import LiveServer
from tests.server import free_port
from tests.verify import apps
from tests.verify.keys import AUDIENCE, ISSUER, LocalIssuer

Serve = Callable[[LocalIssuer], AbstractContextManager[str]]


def _fastapi(issuer: LocalIssuer) -> AbstractContextManager[str]:
    return apps.serve_asgi(apps.fastapi_app(AsyncVerifier(ISSUER, AUDIENCE, jwks=issuer.jwks)))


def _starlette(issuer: LocalIssuer) -> AbstractContextManager[str]:
    return apps.serve_asgi(apps.starlette_app(AsyncVerifier(ISSUER, AUDIENCE, jwks=issuer.jwks)))


def _flask(issuer: LocalIssuer) -> AbstractContextManager[str]:
    return apps.serve_wsgi(apps.flask_app(Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks)))


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer()


@pytest.fixture(
    scope="module", params=[_fastapi, _starlette, _flask], ids=["fastapi", "starlette", "flask"]
)
def url(request: pytest.FixtureRequest, issuer: LocalIssuer) -> Iterator[str]:
    serve: Serve = request.param
    with serve(issuer) as base:
        yield base + "/me"


def test_a_good_token_gets_its_claims(url: str, issuer: LocalIssuer) -> None:
    response = httpx.get(url, headers={"Authorization": f"Bearer {issuer.mint(sub='usr_ok')}"})
    assert response.status_code == 200
    assert response.json() == {"sub": "usr_ok", "sid": "ses_local", "scope": "session"}
    # The scheme name is case-insensitive.
    response = httpx.get(url, headers={"Authorization": f"bearer {issuer.mint()}"})
    assert response.status_code == 200


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz", ""])
def test_no_bearer_token(url: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(url, headers=headers)
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request carries no credentials at all.
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "code": "missing_token",
        "message": "The request carries no bearer token.",
    }


def test_a_garbage_token(url: str) -> None:
    response = httpx.get(url, headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token is malformed."'
    )
    assert response.json() == {"code": "invalid_token", "message": "The access token is malformed."}
    assert response.headers["Cache-Control"] == "no-store"


def test_an_expired_token(url: str, issuer: LocalIssuer) -> None:
    token = issuer.mint(iat=1_700_000_000, nbf=1_700_000_000, exp=1_700_000_300)
    response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json()["code"] == "expired_token"


def test_a_token_from_another_key(url: str) -> None:
    response = httpx.get(url, headers={"Authorization": f"Bearer {LocalIssuer().mint()}"})
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_key"


def test_fastapi_with_a_real_server(server: LiveServer, access_token: str) -> None:
    verifier = AsyncVerifier(server.url, "default")
    with apps.serve_asgi(apps.fastapi_app(verifier)) as base:
        response = httpx.get(base + "/me", headers={"Authorization": f"Bearer {access_token}"})
        assert response.status_code == 200
        assert response.json()["sid"].startswith("ses_")
        openapi = httpx.get(base + "/openapi.json").json()
        assert openapi["components"]["securitySchemes"]["sessile"] == {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
        }


def test_fastapi_without_the_error_handler(issuer: LocalIssuer) -> None:
    verifier = AsyncVerifier(ISSUER, AUDIENCE, jwks=issuer.jwks)
    with apps.serve_asgi(apps.fastapi_app(verifier, handler=False)) as base:
        response = httpx.get(base + "/me", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json() == {
        "detail": {"code": "invalid_token", "message": "The access token is malformed."}
    }


def test_starlette_excluded_paths_and_websockets(issuer: LocalIssuer) -> None:
    verifier = AsyncVerifier(ISSUER, AUDIENCE, jwks=issuer.jwks)
    with apps.serve_asgi(apps.starlette_app(verifier)) as base:
        assert httpx.get(base + "/healthz").json() == {"ok": True}
        ws_url = base.replace("http", "ws") + "/ws"
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, open_timeout=5).close()
        assert refused.value.response.status_code == 403
        headers = {"Authorization": f"Bearer {issuer.mint()}"}
        with connect(ws_url, additional_headers=headers, open_timeout=5) as ws:
            assert json.loads(ws.recv(timeout=5))["sub"] == "usr_local"


def test_flask_when_the_issuer_is_unreachable() -> None:
    jwks_url = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    verifier = Verifier(ISSUER, AUDIENCE, jwks_url=jwks_url, timeout=2)
    with apps.serve_wsgi(apps.flask_app(verifier)) as base:
        token = LocalIssuer().mint()
        response = httpx.get(base + "/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert "WWW-Authenticate" not in response.headers
    assert response.json()["code"] == "keys_unavailable"
