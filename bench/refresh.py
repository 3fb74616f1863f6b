"""Refresh throughput: sessile against a crypto-only baseline, measured in one run.

    .venv/bin/python bench/refresh.py [--seconds 10] [--sessions 200] [--postgres URL]

Starts ``sessile serve --workers 2`` on loopback (SQLite, or PostgreSQL when
given), logs in ``--sessions`` sessions, then drives real refreshes: each one
with a fresh DPoP proof and the rotated refresh token (header mode). In the same
run it drives a bare endpoint that does only the refresh crypto (one proof
verify, one ES256 sign; ``bench/crypto_baseline.py``) on two uvicorn workers,
and prints requests/s, p50, p99 and the ratio.

The load generator runs in its own processes. Each reports the CPU time it used:
if a generator process is near 100% of a core, it, not the server, is the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sessile.client import DPoPKey, SessionClient  # noqa: E402
from sessile.clock import SystemClock  # noqa: E402
from sessile.sessions import ChallengeTokens  # noqa: E402
from sessile.store.database import Database  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
CONCURRENCY_PER_PROCESS = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


# Load generation ---------------------------------------------------------------------------
async def _drive(base: str, sessions: list[tuple[bytes, str]], seconds: float) -> dict[str, Any]:
    url = base + "/v1/session/refresh"
    latencies: list[float] = []
    errors = nonce_retries = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=CONCURRENCY_PER_PROCESS)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def worker(index: int) -> None:
            nonlocal errors, nonce_retries
            mine = sessions[index::CONCURRENCY_PER_PROCESS]
            keys = [DPoPKey.from_pem_bytes(pem) for pem, _ in mine]
            tokens = [token for _, token in mine]
            nonce: str | None = None
            i = 0
            while time.monotonic() < deadline:
                slot = i % len(mine)
                i += 1
                proof = keys[slot].proof("POST", url, nonce=nonce)
                started = time.perf_counter()
                response = await http.post(
                    url, headers={"DPoP": proof, "X-Refresh-Token": tokens[slot]}
                )
                elapsed = time.perf_counter() - started
                nonce = response.headers.get("DPoP-Nonce", nonce)
                if response.status_code == 200:
                    latencies.append(elapsed)
                    tokens[slot] = response.headers.get("X-Refresh-Token", tokens[slot])
                elif response.json().get("code") == "use_dpop_nonce":
                    nonce_retries += 1  # a worker's first call, or a nonce that aged out
                else:
                    errors += 1

        await asyncio.gather(*(worker(i) for i in range(CONCURRENCY_PER_PROCESS)))
    return {"latencies": latencies, "errors": errors, "nonce_retries": nonce_retries}


def _generator(base: str, sessions: list[tuple[bytes, str]], seconds: float, out: Any) -> None:
    wall = time.monotonic()
    result = asyncio.run(_drive(base, sessions, seconds))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu"] = (usage.ru_utime + usage.ru_stime) / (time.monotonic() - wall)
    out.put(result)


def load(
    base: str, sessions: list[tuple[bytes, str]], seconds: float, processes: int
) -> dict[str, Any]:
    queue: Any = multiprocessing.Queue()
    shares = [sessions[i::processes] for i in range(processes)]
    workers = [
        multiprocessing.Process(target=_generator, args=(base, share, seconds, queue))
        for share in shares
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=seconds + 120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    wall = time.monotonic() - started
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "ok": len(latencies),
        "errors": sum(r["errors"] for r in results),
        "nonce_retries": sum(r["nonce_retries"] for r in results),
        "generator_cpu": [round(r["cpu"], 2) for r in results],
        "wall": wall,
    }


# Setup -------------------------------------------------------------------------------------
async def _challenges(database_url: str, count: int) -> list[str]:
    db = Database.from_url(database_url)
    try:
        clock = SystemClock()
        challenges = ChallengeTokens(db.challenges, clock, ttl=600)
        out = []
        for _ in range(count):
            user = await db.users.create(now=clock.now())
            out.append(await challenges.issue(user_id=user.id, auth_method="password"))
        return out
    finally:
        await db.close()


def login_sessions(base: str, database_url: str, count: int) -> list[tuple[bytes, str]]:
    sessions = []
    with httpx.Client(timeout=30) as http:
        for challenge in asyncio.run(_challenges(database_url, count)):
            client = SessionClient(base, http=http)
            tokens = client.finalize(challenge)
            assert tokens.refresh_token is not None
            sessions.append((client.key.to_pem_bytes(), tokens.refresh_token))
    return sessions


def run_sessile(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database_url = args.postgres or f"sqlite+aiosqlite:///{workdir / 'sessile.db'}"
    env = {
        **os.environ,
        "SESSILE_DATA_DIR": str(workdir),
        "SESSILE_PUBLIC_URL": base,
        "SESSILE_SECRET_KEY": SECRET,
        "SESSILE_DATABASE_URL": database_url,
        "SESSILE_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "sessile", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env)
    try:
        wait_up(base + "/healthz", process)
        sessions = login_sessions(base, database_url, args.sessions)
        load(base, sessions, 2, args.processes)  # warm-up
        sessions = login_sessions(base, database_url, args.sessions)
        return load(base, sessions, args.seconds, args.processes)
    finally:
        stop(process)


def run_baseline(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", "crypto_baseline:app", "--port", str(port),
        "--workers", "2", "--log-level", "warning", "--app-dir", str(ROOT / "bench"),
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        wait_up(base + "/", process)
        sessions = [
            (DPoPKey.generate().to_pem_bytes(), secrets.token_urlsafe(32))
            for _ in range(args.sessions)
        ]
        load(base, sessions, 2, args.processes)
        return load(base, sessions, args.seconds, args.processes)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sessile-bench-"))
    try:
        baseline = run_baseline(args)
        sessile = run_sessile(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    store = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"{'':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'nonce':>6}"
        "  generator CPU (cores)"
    )
    for name, r in (("crypto-only baseline", baseline), (f"sessile refresh ({store})", sessile)):
        print(
            f"{name:28} {r['rps']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['errors']:7d}"
            f" {r['nonce_retries']:6d}"
            f"  {r['generator_cpu']}"
        )
    print(f"ratio sessile / baseline: {sessile['rps'] / baseline['rps']:.2f}")


if __name__ == "__main__":
    main()
