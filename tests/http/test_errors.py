from __future__ import annotations

from tests.http.conftest import AppClient


async def test_unknown_path_is_json_not_found(make_client: AppClient) -> None:
    async with make_client() as (client, _app):
        response = await client.get("/no/such/path")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "type": "not_found",
        "status": "not_found",
        "message": "Not found.",
    }


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


async def test_redis_down_fails_closed_with_503(make_client: AppClient) -> None:
    # Nothing listens on port 1: the rate limit of a code login can't be counted.
    async with make_client(redis_url="redis://127.0.0.1:1/0", database_timeout=2) as (http, _):
        response = await http.post(
            "/v1/session/login/otp",
            json={"identifier": {"type": "email_address", "value": "a@example.com"}},
        )
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "replay cache or rate limiter" in response.json()["message"]
    assert int(response.headers["Retry-After"]) >= 1


async def test_every_error_names_its_status_class_as_type_and_status(
    make_client: AppClient,
) -> None:
    """Prelude's frontend bodies carry ``type``, its management bodies ``status``."""
    async with make_client() as (client, _app):
        management = await client.get("/v2/session/apps/default/users/usr_x")
        frontend = await client.get("/v1/session/me/list")
    assert management.status_code == 401
    assert management.json()["status"] == "unauthorized"
    assert frontend.status_code == 401
    assert frontend.json()["type"] == "unauthorized"
    assert frontend.json()["code"] == "unauthorized"
