"""The demo app at ``/`` (``sessile serve --demo``), and, with the development outbox, the
last codes sent, so a newcomer can log in without real e-mail or SMS."""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.staticfiles import StaticFiles

from sessile.config import Settings
from sessile.errors import NotFound
from sessile.http.context import context_of

__all__ = ["install_demo"]

_SHOWN = 5

log = logging.getLogger("sessile.demo")


def _outbox_router() -> APIRouter:
    router = APIRouter(tags=["demo"])

    @router.get("/demo/outbox")
    async def outbox(request: Request) -> dict[str, Any]:
        """The last messages in the development outbox, newest first; to loopback only,
        since they are live login codes."""
        peer = request.client.host if request.client else ""
        if not _is_loopback(peer):
            raise NotFound()
        path = context_of(request).settings.outbox_file
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return {"path": str(path), "messages": [json.loads(x) for x in reversed(lines[-_SHOWN:])]}

    return router


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_demo(app: FastAPI, settings: Settings) -> None:
    """Mount the demo; call after every API route, since ``/`` catches what is left."""
    log.warning("the demo app is on: for development, not production")
    if settings.delivery == "outbox":
        app.include_router(_outbox_router())
    if not (settings.demo_dir / "index.html").is_file():
        raise RuntimeError(
            f"the demo app is not built in {settings.demo_dir}: run `make run`, "
            "or `npm ci && npm run build` in demo/"
        )
    app.mount("/", StaticFiles(directory=settings.demo_dir, html=True), name="demo")
