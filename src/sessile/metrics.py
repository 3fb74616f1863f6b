"""Prometheus metrics (DESIGN §9), correct with several workers.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``sessile serve`` sets it up for its workers),
prometheus-client keeps each process's samples in files there and ``/metrics`` sums them;
without it, one process's registry is the whole story. Gauges that describe the database
(the webhook queue) are read when ``/metrics`` is scraped instead.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:  # the drivers import this module, to count their lock waits
    from sessile.store.drivers import Driver

__all__ = [
    "DB_CONNECTIONS",
    "DELIVERIES",
    "LOGINS",
    "REFRESHES",
    "REQUESTS",
    "REQUEST_SECONDS",
    "SQLITE_CHECKPOINTS",
    "SQLITE_LOCK_WAITS",
    "WEBHOOK_ATTEMPTS",
    "sample_pool_use",
]

REQUESTS = Counter(
    "sessile_http_requests", "HTTP requests by route template, method and status.",
    ["route", "method", "status"],
)  # fmt: skip
REQUEST_SECONDS = Histogram(
    "sessile_http_request_duration_seconds", "HTTP request latency by route template.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)  # fmt: skip
#: rotated, grace, reuse_revoked, key_mismatch, expired (invalid, revoked or ended), forged.
REFRESHES = Counter("sessile_refreshes", "Refresh outcomes.", ["outcome"])
LOGINS = Counter("sessile_logins", "Logins by method and result.", ["method", "result"])
DELIVERIES = Counter(
    "sessile_deliveries", "Messages and events settled, by channel and result.",
    ["channel", "result"],
)  # fmt: skip
WEBHOOK_ATTEMPTS = Counter(
    "sessile_webhook_attempts", "Webhook event delivery attempts by result.", ["result"]
)
#: The SQLite driver's WAL checkpoints: ``restart`` or ``passive``, ``done`` or ``busy`` (a
#: restart that a reader kept from finishing).
SQLITE_CHECKPOINTS = Counter(
    "sessile_sqlite_checkpoints", "SQLite WAL checkpoints by mode and result.",
    ["mode", "result"],
)  # fmt: skip
#: Statements on the event loop that found the write lock held (by another worker, or by
#: a checkpoint) and were tried again: how long each waited, from its first try.
SQLITE_LOCK_WAITS = Histogram(
    "sessile_sqlite_lock_wait_seconds",
    "Time SQLite statements waited for the write lock; only those that waited.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0),
)
DB_CONNECTIONS = Gauge(
    "sessile_db_pool_checked_out", "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)  # fmt: skip


async def sample_pool_use(driver: Driver, every: float = 1.0) -> None:
    """Keep ``DB_CONNECTIONS`` in step with the driver's connections, read every
    ``every`` seconds (counting each checkout would cost every statement)."""
    while True:
        DB_CONNECTIONS.set(driver.connections_in_use())
        await asyncio.sleep(every)
