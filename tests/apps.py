"""In-process apps with an httpx client, lifespan included."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sessile.clock import FixedClock
from sessile.config import Settings, load_settings
from sessile.http.app import create_app
from sessile.store.migrate import upgrade

AppClient = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, FastAPI]]]


@pytest.fixture
def make_client(tmp_path: Path) -> AppClient:
    """An in-process client for an app on a fresh SQLite file (lifespan included)."""

    @asynccontextmanager
    async def make(
        clock: FixedClock | None = None, **overrides: Any
    ) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
        settings: Settings = load_settings(
            data_dir=tmp_path,
            secret_key="s" * 48,
            public_url="https://auth.test",
            **overrides,
        )
        app = create_app(settings, clock)
        await upgrade(app.state.context.db.engine)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="https://auth.test"
            ) as client:
                yield client, app

    return make
