"""sessile's one layer around its routes: pure ASGI, with no copy of the request.

For every HTTP request, in this order:

0. the security headers on its response, whatever answers it
   (:mod:`sessile.http.security_headers`); a request on the metrics listener's port to
   :class:`~sessile.http.routes.metrics.MetricsListener`, and no further;
1. the request's facts for the audit trail (client IP behind trusted proxies, user
   agent); when it ends, its metrics, labelled by route template;
2. a body over the limit, declared or streamed: 413 ``payload_too_large``;
3. CORS, by Starlette's ``CORSMiddleware``: preflights answered, and the CORS headers
   on every other response;
4. the origin check on state-changing frontend calls (:mod:`sessile.http.origins`);
5. a refresh with no body to :mod:`sessile.http.lane`; the rest to FastAPI's router.

One layer, not five: each layer costs an await and a wrapped ``send`` per message,
and on the refresh, sessile's most frequent call, the stack of layers and the router
cost about a fifth of its CPU (``bench/refresh.py --anchor``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessile.audit import set_request_facts
from sessile.errors import Forbidden, PayloadTooLarge
from sessile.http.errors import error_response
from sessile.http.lane import RefreshLane
from sessile.http.origins import OriginCheck
from sessile.http.routes.metrics import MetricsListener
from sessile.http.security_headers import SecurityHeaders
from sessile.metrics import REQUEST_SECONDS, REQUESTS
from sessile.sessions.client_info import ClientLocator

__all__ = ["ALLOWED_HEADERS", "EXPOSED_HEADERS", "Edge"]

ALLOWED_HEADERS = [
    "Content-Type",
    "Authorization",
    "DPoP",
    "X-Refresh-Token",
    "X-SDK-User-Agent",
    "X-Verification-Token",
]
EXPOSED_HEADERS = [
    "DPoP-Nonce",
    "X-Refresh-Token",
    "X-Refresh-Token-Expires-At",
    "Date",
    "Retry-After",
]


class Edge:
    """Security headers, facts and metrics, the body limit, CORS, the origin check, then
    the routes; or the metrics listener."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        locator: ClientLocator,
        max_body_bytes: int,
        public_url: str,
        cors_origins: Iterable[str],
        lane: RefreshLane | None,
        security: SecurityHeaders,
        metrics: MetricsListener | None = None,
    ) -> None:
        self._app = app
        self._plain_headers, self._tls_headers = security.plain, security.tls
        self._metrics = metrics
        self._locator = locator
        self._max_bytes = max_body_bytes
        cors_origins = list(cors_origins)
        self._cors = CORSMiddleware(
            app,
            allow_origins=cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
        self._origins = OriginCheck(allowed=[public_url, *cors_origins])
        self._lane = lane
        # The labelled series, found once each: route templates, methods and statuses are
        # few, and ``labels()`` checks and locks on every call.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        secured = self._tls_headers if scope["scheme"] == "https" else self._plain_headers
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new list: the response's own may belong to an object that outlives it.
                raw = message.get("headers", ())
                message["headers"] = raw + secured if type(raw) is list else [*raw, *secured]
            await send(message)

        server = scope.get("server")
        if self._metrics is not None and server and server[1] == self._metrics.port:
            await self._metrics(scope, receive, sending)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        set_request_facts(
            self._locator.client_ip(client[0] if client else None, headers),
            headers.get("user-agent"),
        )
        started = time.perf_counter()
        try:
            await self._serve(scope, receive, sending, headers)
        finally:
            self._count(scope, status, time.perf_counter() - started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        declared = headers.get("content-length")
        if declared is not None and not _within(declared, self._max_bytes):
            await error_response(PayloadTooLarge())(scope, receive, send)
            return
        if (
            scope["method"] == "OPTIONS"
            and "origin" in headers
            and "access-control-request-method" in headers
        ):
            await self._cors.preflight_response(request_headers=headers)(scope, receive, send)
            return
        response_started = False
        cross_origin = "origin" in headers

        async def answering(message: Message) -> None:
            nonlocal response_started
            if message["type"] != "http.response.start":
                await send(message)
                return
            response_started = True
            if cross_origin:
                await self._cors.send(message, send=send, request_headers=headers)
                return
            # No Origin: all CORSMiddleware would do is add Origin to Vary.
            message["headers"] = _vary_origin(message.get("headers", ()))
            await send(message)

        refusal = self._origins.refusal(scope)
        if refusal is not None:
            await error_response(Forbidden(refusal))(scope, receive, answering)
            return
        limited = functools.partial(self._receive_within, receive, [0])
        try:
            if self._lane is None or not await self._lane.serve(scope, limited, answering):
                await self._app(scope, limited, answering)
        except PayloadTooLarge:
            if response_started:
                raise
            await error_response(PayloadTooLarge())(scope, receive, send)

    async def _receive_within(self, receive: Receive, received: list[int]) -> Message:
        message = await receive()
        if message["type"] == "http.request":
            received[0] += len(message.get("body", b""))
            if received[0] > self._max_bytes:
                # The app's error handlers turn this into the 413 JSON response.
                raise PayloadTooLarge()
        return message

    def _count(self, scope: Scope, status: int, seconds: float) -> None:
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
        series[1].observe(seconds)


def _vary_origin(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``raw`` response headers with ``Origin`` added to ``Vary``, in one ``Vary`` header."""
    headers = list(raw)
    kept = [(name, value) for name, value in headers if name.lower() != b"vary"]
    varies = [value for name, value in headers if name.lower() == b"vary"]
    return [*kept, (b"vary", b", ".join([*varies, b"Origin"]))]


def _within(declared: str, max_bytes: int) -> bool:
    try:
        return int(declared) <= max_bytes
    except ValueError:
        return False
