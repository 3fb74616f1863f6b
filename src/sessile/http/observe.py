"""Per-request bookkeeping, as pure ASGI (no copy of the request): the audit trail's facts
(client IP behind trusted proxies, user agent) and the request metrics by route template."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessile.audit import set_request_facts
from sessile.metrics import REQUEST_SECONDS, REQUESTS
from sessile.sessions.client_info import ClientLocator

__all__ = ["Observe"]


class Observe:
    def __init__(self, app: ASGIApp, locator: ClientLocator) -> None:
        self._app = app
        self._locator = locator
        # The labelled series, found once each: route templates, methods and statuses are
        # few, and ``labels()`` checks and locks on every call.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        set_request_facts(
            self._locator.client_ip(client[0] if client else None, headers),
            headers.get("user-agent"),
        )
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            # The template (``/users/{user_id}``), never the raw path: bounded label values.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            key = (route, scope["method"], status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    REQUESTS.labels(route=route, method=key[1], status=str(status)),
                    REQUEST_SECONDS.labels(route=route, method=key[1]),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)
