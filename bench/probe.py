"""sessile's app with an event-loop stall probe, for ``bench/refresh.py --latency``.

A task wakes every 5 ms and records how late it woke; at shutdown each worker
writes its worst delay while ``$SESSILE_BENCH_PROBE/measuring`` existed to
``$SESSILE_BENCH_PROBE/<pid>.json``. Served by uvicorn
with ``--factory probe:create_app``; the probe's own wake-ups cost a little CPU, so
the CPU figures come from runs without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from sessile.http.app import create_app_from_env

_INTERVAL = 0.005


def create_app() -> Any:
    app = create_app_from_env()
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Any) -> Any:
        worst = [0.0]
        folder = Path(os.environ["SESSILE_BENCH_PROBE"])

        async def watch() -> None:
            loop = asyncio.get_running_loop()
            measuring = False
            for turn in range(1 << 62):
                if turn % 100 == 0:  # twice a second: is the measured window open?
                    measuring = (folder / "measuring").exists()
                started = loop.time()
                await asyncio.sleep(_INTERVAL)
                if measuring:
                    worst[0] = max(worst[0], loop.time() - started - _INTERVAL)

        async with inner(application) as state:
            task = asyncio.create_task(watch())
            try:
                yield state
            finally:
                task.cancel()
                out = folder / f"{os.getpid()}.json"
                out.write_text(json.dumps({"worst_stall_ms": worst[0] * 1000}))

    app.router.lifespan_context = lifespan
    return app
