from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request, Response

from sessile.http.edge import Edge
from sessile.http.errors import install_error_handlers
from sessile.http.security_headers import SecurityHeaders
from sessile.sessions.client_info import ClientLocator


def _client(max_bytes: int) -> httpx.AsyncClient:
    """A route that reads its whole body, behind the edge, with sessile's error handlers."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/")
    async def echo_length(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    @app.get("/varied")
    async def varied() -> Response:
        return Response(b"", headers={"Vary": "Accept-Encoding"})

    app.add_middleware(
        Edge,
        locator=ClientLocator([], None, None),
        max_body_bytes=max_bytes,
        public_url="http://test",
        cors_origins=["https://app.test"],
        lane=None,
        security=SecurityHeaders.build("http://test", 0),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def _chunks(count: int, size: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield b"y" * size


async def test_streamed_body_over_the_limit_is_refused_as_json() -> None:
    async with _client(2048) as client:
        response = await client.post("/", content=_chunks(8, 1024))
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_body_within_the_limit_passes() -> None:
    async with _client(2048) as client:
        streamed = await client.post("/", content=_chunks(2, 1024))
        declared = await client.post("/", content=b"z" * 2048)
    assert streamed.json() == {"length": 2048}
    assert declared.json() == {"length": 2048}


async def test_bad_content_length_is_refused() -> None:
    async with _client(2048) as client:
        response = await client.post("/", content=b"{}", headers={"Content-Length": "banana"})
    assert response.status_code == 413


async def test_every_response_varies_on_origin_in_one_header() -> None:
    async with _client(2048) as client:
        plain = await client.post("/", content=b"")
        varied = await client.get("/varied")
        allowed = await client.get("/varied", headers={"Origin": "https://app.test"})
        other = await client.get("/varied", headers={"Origin": "https://evil.test"})
    assert plain.headers.get_list("vary") == ["Origin"]
    assert varied.headers.get_list("vary") == ["Accept-Encoding, Origin"]
    assert "access-control-allow-origin" not in varied.headers
    assert allowed.headers["access-control-allow-origin"] == "https://app.test"
    assert allowed.headers.get_list("vary") == ["Accept-Encoding, Origin"]
    assert "access-control-allow-origin" not in other.headers
