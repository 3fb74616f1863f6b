"""``GET /metrics``: Prometheus text, summed over every worker of this server.

Put it behind your network's edge: it carries counts, never a token or an identifier.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from sessile.http.context import context_of
from sessile.store.events import OutboxStats

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


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


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    context = context_of(request)
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    queue = CollectorRegistry()
    queue.register(_Outbox(await context.endpoints.outbox(), context.clock.now()))
    body = generate_latest(registry) + generate_latest(queue)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
