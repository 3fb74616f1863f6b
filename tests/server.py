"""Real ``sessile serve`` processes on loopback for the tests; each stops by itself."""

from __future__ import annotations

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

__all__ = ["RunningServer", "free_port", "run_server"]

# Generous: a loaded machine can take a minute to start each worker process.
_START_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


#: The server secret every test server uses (and the CLI alongside it).
SECRET_KEY = "test-secret-" + "x" * 40


@contextlib.contextmanager
def run_server(
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    args: tuple[str, ...] = (),
    port: int | None = None,
    scheme: str = "http",
) -> Iterator[RunningServer]:
    """Start ``sessile serve`` and wait until ``/healthz`` answers; terminate it afterwards."""
    port = port or free_port()
    url = f"{scheme}://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        "SESSILE_DATA_DIR": str(data_dir),
        "SESSILE_PUBLIC_URL": url,
        "SESSILE_SECRET_KEY": SECRET_KEY,
        **(env or {}),
    }
    log = data_dir / f"server-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "sessile", "serve", "--port", str(port), *args],
            env=full_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = RunningServer(url, process, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_up(server: RunningServer) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"sessile serve exited early:\n{server.output()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1, verify=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"sessile serve did not start in time:\n{server.output()}")
