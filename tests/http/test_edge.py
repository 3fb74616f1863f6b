from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, FastAPI, Request

from sessile.http.edge import Edge
from sessile.http.errors import install_error_handlers
from sessile.http.lane import HotRoutes
from sessile.sessions.client_info import ClientLocator


def _client(max_bytes: int) -> httpx.AsyncClient:
    """A route that reads its whole body, behind the edge, with sessile's error handlers."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/")
    async def echo_length(request: Request) -> dict[str, int]:
        return {"length": len(await request.body())}

    app.add_middleware(
        Edge,
        owner=app,
        locator=ClientLocator([], None, None),
        max_body_bytes=max_bytes,
        public_url="http://test",
        cors_origins=[],
        hot=HotRoutes(APIRouter(), []),
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
