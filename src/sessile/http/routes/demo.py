"""The demo app at ``/`` (``sessile serve --demo``), and, with ``--demo-outbox`` and the
development outbox, the last codes sent, so a newcomer can log in without real e-mail or SMS.

The outbox view hands out live login codes, so it answers only a request that is truly
local: from a loopback peer, with no proxy in the way (no ``Forwarded``, ``X-Forwarded-*``
or ``X-Real-IP`` header, no trusted proxies configured), to a server whose public URL is
itself on loopback, addressed by that URL's host and port. A reverse proxy on the same
host makes every visitor a loopback peer, which is why the peer alone is not enough. And
a page on ``evil.example`` whose name the attacker re-points at ``127.0.0.1`` (DNS
rebinding) has a loopback peer and is same-origin with itself, but its browser still
sends ``Host: evil.example``, which is why the host is checked.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from starlette.staticfiles import StaticFiles

from sessile.config import Settings
from sessile.errors import NotFound
from sessile.http.context import context_of

__all__ = ["install_demo"]

_SHOWN = 5
_PROXY_HEADERS = ("forwarded", "x-real-ip")

log = logging.getLogger("sessile.demo")


def _outbox_router() -> APIRouter:
    router = APIRouter(tags=["demo"])

    @router.get("/demo/outbox")
    async def outbox(request: Request) -> dict[str, Any]:
        """The last messages in the development outbox, newest first; to truly local
        requests only, since they are live login codes."""
        settings = context_of(request).settings
        if not _truly_local(request, settings):
            raise NotFound()
        path = settings.outbox_file
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return {"path": str(path), "messages": [json.loads(x) for x in reversed(lines[-_SHOWN:])]}

    return router


def _truly_local(request: Request, settings: Settings) -> bool:
    peer = request.client.host if request.client else ""
    proxied = any(
        name in _PROXY_HEADERS or name.startswith("x-forwarded-") for name in request.headers
    )
    return (
        _is_loopback(peer)
        and not proxied
        and not settings.trusted_proxies
        and _is_loopback(urlsplit(settings.public_url).hostname or "")
        and _addressed_to(request.headers.get("host", ""), settings.public_url)
    )


def _addressed_to(host: str, public_url: str) -> bool:
    """Whether ``Host`` is exactly the public URL's host and port (or its host alone, when
    the port is the scheme's default)."""
    parts = urlsplit(public_url)
    name = parts.hostname or ""
    name = f"[{name}]" if ":" in name else name
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    allowed = {f"{name}:{port}", name} if port == default else {f"{name}:{port}"}
    return host.lower() in allowed


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_demo(app: FastAPI, settings: Settings) -> None:
    """Mount the demo; call after every API route, since ``/`` catches what is left."""
    log.warning("the demo app is on: for development, not production")
    if settings.demo_outbox and settings.delivery == "outbox":
        log.warning("the demo shows the outbox's login codes to local requests")
        app.include_router(_outbox_router())
    if not (settings.demo_dir / "index.html").is_file():
        raise RuntimeError(
            f"the demo app is not built in {settings.demo_dir}: run `make run`, "
            "or `npm ci && npm run build` in demo/"
        )
    app.mount("/", StaticFiles(directory=settings.demo_dir, html=True), name="demo")
