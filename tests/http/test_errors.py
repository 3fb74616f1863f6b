from __future__ import annotations

from tests.http.conftest import AppClient


async def test_unknown_path_is_json_not_found(make_client: AppClient) -> None:
    async with make_client() as (client, _app):
        response = await client.get("/no/such/path")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found."}


async def test_wrong_method_is_json(make_client: AppClient) -> None:
    async with make_client() as (client, _app):
        response = await client.delete("/.well-known/jwks.json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"


async def test_allow_lists_every_method_of_the_path(make_client: AppClient) -> None:
    async with make_client() as (client, _app):
        response = await client.put("/v2/session/apps/default/users/usr_x")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, PATCH"


async def test_oversized_declared_body_is_refused(make_client: AppClient) -> None:
    async with make_client(max_body_bytes=2048) as (client, _app):
        response = await client.post("/healthz", content=b"x" * 4096)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_jwks_and_metadata(make_client: AppClient) -> None:
    async with make_client() as (client, _app):
        jwks = await client.get("/.well-known/jwks.json")
        meta = await client.get("/.well-known/oauth-authorization-server")
    assert jwks.status_code == 200
    assert "max-age=300" in jwks.headers["cache-control"]
    [key] = jwks.json()["keys"]
    assert key["kty"] == "EC"
    assert key["alg"] == "ES256"
    assert "d" not in key
    assert meta.json()["issuer"] == "https://auth.test"
    assert meta.json()["jwks_uri"] == "https://auth.test/.well-known/jwks.json"
    assert meta.json()["dpop_signing_alg_values_supported"] == ["ES256"]
