"""Run tests/dpop/app.py in uvicorn subprocesses on loopback; each stops with its fixture."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from sessile.store.database import Database
from sessile.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
#: The public URL every test app is configured with; its htu base, whatever the port.
PUBLIC_URL = "https://sessile.test"
_START_TIMEOUT = 30.0


@dataclass
class AppProcess:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(log_dir: Path, env: Mapping[str, str]) -> AppProcess:
    port = _free_port()
    log = log_dir / f"app-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tests.dpop.app:from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return AppProcess(f"http://127.0.0.1:{port}", process, log)


def _wait_ready(app: AppProcess, deadline: float) -> None:
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"app exited early:\n{app.log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(app.url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"app did not start:\n{app.log.read_text(errors='replace')}")


def _stop(app: AppProcess) -> None:
    if app.process.poll() is None:
        app.process.terminate()
        try:
            app.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            app.process.kill()
            app.process.wait(timeout=5)


@contextlib.contextmanager
def run_apps(count: int, log_dir: Path, env: Mapping[str, str]) -> Iterator[list[AppProcess]]:
    """Start ``count`` processes with the same settings; terminate them on exit."""
    apps: list[AppProcess] = []
    try:
        for _ in range(count):
            apps.append(_start(log_dir, env))
        deadline = time.monotonic() + _START_TIMEOUT
        for app in apps:
            _wait_ready(app, deadline)
        yield apps
    finally:
        for app in apps:
            _stop(app)


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema before the apps start."""

    async def run() -> None:
        database = Database.from_url(url)
        try:
            await upgrade(database.engine)
        finally:
            await database.close()

    asyncio.run(run())
