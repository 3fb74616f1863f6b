"""sessile's app with an event-loop stall probe, for ``bench/refresh.py --latency``.

A task wakes every 5 ms and records how late it woke; at shutdown each worker
writes to ``$SESSILE_BENCH_PROBE/<pid>.json``, for the time
``$SESSILE_BENCH_PROBE/measuring`` existed, its worst delay, the CPU its loop's thread
used over that delay, the CPU the worker used in all, and its statements' waits for the
SQLite write lock (the ``sessile_sqlite_lock_wait_seconds`` histogram's buckets). Served by
``bench/serve.py probe:create_app``; the probe's own wake-ups cost a little CPU, so the
CPU figures come from runs without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from sessile.http.app import create_app_from_env

_INTERVAL = 0.005


def _lock_waits() -> dict[str, float]:
    """This worker's waits for the SQLite write lock so far: each bucket's count, by ``le``."""
    for family in REGISTRY.collect():
        if family.name == "sessile_sqlite_lock_wait_seconds":
            return {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    return {}


def _add(seen: dict[str, Any], sign: int) -> None:
    """Open (``sign`` -1) or close (+1) the measured window on the worker's counts."""
    seen["cpu_s"] += sign * time.process_time()
    for le, count in _lock_waits().items():
        seen["lock_waits"][le] = seen["lock_waits"].get(le, 0.0) + sign * count


def create_app() -> Any:
    app = create_app_from_env()
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> Any:
        seen: dict[str, Any] = {
            "worst_stall_ms": 0.0, "worst_stall_cpu_ms": 0.0, "cpu_s": 0.0, "lock_waits": {},
        }  # fmt: skip
        folder = Path(os.environ["SESSILE_BENCH_PROBE"])

        async def watch() -> None:
            loop = asyncio.get_running_loop()
            measuring = False
            for turn in range(1 << 62):
                if turn % 100 == 0:  # twice a second: is the measured window open?
                    now_measuring = (folder / "measuring").exists()
                    if now_measuring != measuring:  # the worker's counts while it is open
                        _add(seen, -1 if now_measuring else 1)
                    measuring = now_measuring
                started, ran = loop.time(), time.thread_time()
                await asyncio.sleep(_INTERVAL)
                late = loop.time() - started - _INTERVAL
                if measuring and late * 1000 > seen["worst_stall_ms"]:
                    # The loop's own thread CPU over the stall: near its length when the
                    # loop was busy, near nothing when the process was off the CPU.
                    seen["worst_stall_ms"] = late * 1000
                    seen["worst_stall_cpu_ms"] = (time.thread_time() - ran) * 1000

        async with inner(application) as state:
            task = asyncio.create_task(watch())
            try:
                yield state
            finally:
                task.cancel()
                if seen["cpu_s"] < 0:  # still open at shutdown
                    _add(seen, 1)
                out = folder / f"{os.getpid()}.json"
                out.write_text(json.dumps(seen))

    app.router.lifespan_context = lifespan
    return app
