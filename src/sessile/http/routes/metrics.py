"""``GET /metrics``: Prometheus text, summed over every worker of this server, served only on
the metrics listener (``sessile serve --metrics-port``), never on the API's.

The API's port is the public one; the metrics listener is for the monitoring network. It
answers ``GET /metrics`` and nothing else (404), and the API's port answers no
``/metrics``: :class:`~sessile.http.edge.Edge` sends each request by the port it came in on.
The text carries counts, never a token or an identifier.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sessile.context import AppContext
from sessile.errors import NotFound
from sessile.http.errors import error_response, handle_exception
from sessile.store.events import OutboxStats

__all__ = ["MetricsListener"]


class _Outbox(Collector):
    """The webhook queue as the database sees it now (the same from every worker)."""

    def __init__(self, stats: OutboxStats, now: float) -> None:
        self._stats = stats
        self._now = now

    def collect(self) -> Iterator[Metric]:
        stats = self._stats
        yield GaugeMetricFamily(
            "sessile_webhook_queue_depth", "Webhook events waiting to be delivered.", stats.pending
        )
        oldest = 0.0 if stats.oldest_created_at is None else self._now - stats.oldest_created_at
        yield GaugeMetricFamily(
            "sessile_webhook_queue_oldest_age_seconds",
            "Age of the oldest webhook event waiting.",
            max(oldest, 0.0),
        )
        yield GaugeMetricFamily(
            "sessile_webhook_queue_attempts",
            "Delivery attempts spent on the webhook events still waiting.",
            stats.pending_attempts,
        )
        yield GaugeMetricFamily(
            "sessile_webhook_dead_letters", "Webhook events given up on.", stats.dead
        )


async def scrape(context: AppContext) -> bytes:
    """Every metric of this server, in Prometheus' text format."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    queue = CollectorRegistry()
    queue.register(_Outbox(await context.endpoints.outbox(), context.clock.now()))
    return generate_latest(registry) + generate_latest(queue)


class MetricsListener:
    """What the metrics listener answers: ``GET /metrics``; anything else is 404."""

    def __init__(self, owner: FastAPI, port: int) -> None:
        self._owner = owner
        #: The listener's port: a request that came in on it is this listener's.
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != "/metrics" or scope["method"] != "GET":
            await error_response(NotFound())(scope, receive, send)
            return
        try:
            body = await scrape(self._owner.state.context)
        except Exception as exc:  # the app's answer to it: 503 when the database is down
            await (await handle_exception(self._owner, Request(scope, receive), exc))(
                scope, receive, send
            )
            return
        response = Response(
            body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )
        await response(scope, receive, send)
