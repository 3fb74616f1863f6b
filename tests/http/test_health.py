from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sessile.store.database import Database
from sessile.store.migrate import upgrade
from tests.http.conftest import AppClient
from tests.proxy import TcpProxy


async def test_healthz_and_readyz(make_client: AppClient) -> None:
    async with make_client() as (client, _app):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readyz_reports_a_stopped_database(
    make_client: AppClient, own_postgres_url: str
) -> None:
    postgres_url = own_postgres_url
    target = urlsplit(postgres_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await proxy.start()
    proxied = postgres_url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{proxy.port}")
    migrating = Database.from_url(proxied)
    await upgrade(migrating.engine)
    await migrating.close()
    try:
        async with make_client(database_url=proxied) as (client, _app):
            assert (await client.get("/readyz")).status_code == 200
            await proxy.stop()
            down = await client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["code"] == "service_unavailable"
            # The process itself stays alive.
            assert (await client.get("/healthz")).status_code == 200
    finally:
        await proxy.stop()


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_health_routes_answer_json(make_client: AppClient, path: str) -> None:
    async with make_client() as (client, _app):
        response = await client.get(path)
    assert response.headers["content-type"] == "application/json"
