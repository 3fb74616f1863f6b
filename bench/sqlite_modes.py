"""Where to run a hot SQLite statement: on the event loop, or on a dedicated thread.

    .venv/bin/python bench/sqlite_modes.py [--seconds 5]

Two processes (as two server workers would) rotate sessions in one WAL database as
fast as they can, each with a task that measures how late the event loop wakes.
``loop``: ``sqlite3`` on the loop's thread with no busy timeout, tried again after a
short sleep while another process holds the write lock (sessile's way). ``thread``: every
statement on one dedicated thread. Prints CPU per statement and the worst stall.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import sqlalchemy as sa  # noqa: E402

from sessile.store.drivers.base import compile_statement  # noqa: E402
from sessile.store.drivers.sqlite import SqliteDriver, _connect, _rows  # noqa: E402
from sessile.store.schema import metadata  # noqa: E402
from sessile.store.session_statements import ROTATE_WITH_PROOF  # noqa: E402


class ThreadDriver(SqliteDriver):
    """Every statement on one dedicated thread, whose connection waits for the lock."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="bench-sqlite")
        self._thread_conn: sqlite3.Connection | None = None

    def _on_thread(self, statement: Any, params: Any) -> list[Any]:
        if self._thread_conn is None:
            self._thread_conn = _connect(self._path, busy_timeout_ms=30_000, autocheckpoint=True)
        return _rows(self._thread_conn, statement, params)

    async def rows(self, statement: Any, params: Any) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._on_thread, statement, params)


def _worker(path: str, mode: str, session: str, seconds: float, out: Any) -> None:
    async def run() -> dict[str, float]:
        driver = SqliteDriver(path) if mode == "loop" else ThreadDriver(path)
        statement = compile_statement(ROTATE_WITH_PROOF, driver.dialect)
        worst = 0.0
        done = False

        async def watch() -> None:
            nonlocal worst
            loop = asyncio.get_running_loop()
            while not done:
                started = loop.time()
                await asyncio.sleep(0.005)
                worst = max(worst, loop.time() - started - 0.005)

        watcher = asyncio.create_task(watch())
        count = 0
        before = resource.getrusage(resource.RUSAGE_SELF)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            params = {
                "id": session, "generation": count, "next_generation": count + 1,
                "hash": f"h{count}", "new_hash": f"h{count + 1}", "jkt": session,
                "now": 1.0 + count, "idle_since": -1.0, "iat": 1.0 + count, "jti": f"j{count}",
            }  # fmt: skip
            assert await driver.rows(statement, params)
            count += 1
            if count % 20 == 0:
                await asyncio.sleep(0)  # let the watcher run, as requests would
        after = resource.getrusage(resource.RUSAGE_SELF)
        done = True
        await watcher
        await driver.close()
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"count": count, "cpu": cpu, "worst": worst}

    out.put(asyncio.run(run()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    for mode in ("loop", "thread"):
        path = str(Path(tempfile.mkdtemp(prefix="sessile-sqlite-")) / "x.db")
        engine = sa.create_engine(f"sqlite:///{path}")
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("PRAGMA journal_mode=WAL"))
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, profile, created_at, updated_at)"
                    " VALUES ('u', '{}', 0, 0)"
                )
            )
            for session in ("s1", "s2"):
                conn.execute(
                    sa.text(
                        "INSERT INTO sessions (id, user_id, jkt, auth_method, refresh_hash,"
                        " generation, created_at, last_seen_at, expires_at, device_type)"
                        f" VALUES ('{session}', 'u', '{session}', 'p', 'h0', 0, 0, 0, 1e12, 'd')"
                    )
                )
        engine.dispose()
        out: Any = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(target=_worker, args=(path, mode, s, args.seconds, out))
            for s in ("s1", "s2")
        ]
        for worker in workers:
            worker.start()
        results = [out.get() for _ in workers]
        for worker in workers:
            worker.join()
        count = sum(r["count"] for r in results)
        cpu = sum(r["cpu"] for r in results)
        worst = max(r["worst"] for r in results)
        print(
            f"{mode:7} {count / args.seconds:8.0f} statements/s  {cpu / count * 1e6:6.1f} µs CPU"
            f" each  worst loop stall {worst * 1000:6.2f} ms"
        )


if __name__ == "__main__":
    main()
