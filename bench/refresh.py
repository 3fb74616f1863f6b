"""Refresh throughput: sessile against a crypto-only baseline, measured in one run.

    .venv/bin/python bench/refresh.py [--seconds 10] [--sessions 200] [--postgres URL]

Starts ``sessile serve --workers 2`` on loopback (SQLite, or PostgreSQL when
given), logs in ``--sessions`` sessions, then drives real refreshes: each one
with a fresh DPoP proof and the rotated refresh token (header mode). In the same
run it drives a bare endpoint that does only the refresh crypto (one proof
verify, one ES256 sign; ``bench/crypto_baseline.py``) on two uvicorn workers,
and prints requests/s, p50, p99 and the ratio.

The load generator runs in its own processes, speaks HTTP/1.1 on raw asyncio
streams, and signs every proof before the clock starts. Each process reports the
CPU it used during the run: if one is near a whole core, it, not the server, is
the limit.
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
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sessile.client import DPoPKey, SessionClient  # noqa: E402
from sessile.clock import SystemClock  # noqa: E402
from sessile.sessions import ChallengeTokens  # noqa: E402
from sessile.store.database import Database  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
CONCURRENCY_PER_PROCESS = 64
#: Proofs are signed ahead for up to this many requests per second.
MAX_RATE = 4000


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
# A lean HTTP/1.1 client on asyncio streams, with every DPoP proof signed before the clock
# starts: the generator then costs little CPU per request, and reports what it used, so a
# saturated generator can't pass for a slow server.
Session = tuple[bytes, str, str]  # (private key PEM, refresh token, DPoP nonce)


def _proofs(sessions: list[Session], url: str, count: int) -> list[list[str]]:
    out = []
    for pem, _, nonce in sessions:
        key = DPoPKey.from_pem_bytes(pem)
        out.append([key.proof("POST", url, nonce=nonce or None) for _ in range(count)])
    return out


async def _connection(
    host: str, port: int, slots: list[int], tokens: list[str], proofs: list[list[str]],
    deadline: float, result: dict[str, Any],
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(host, port)
    used = [0] * len(tokens)
    turn = 0
    try:
        while time.monotonic() < deadline:
            slot = slots[turn % len(slots)]
            turn += 1
            if used[slot] >= len(proofs[slot]):
                result["exhausted"] += 1
                break
            proof = proofs[slot][used[slot]]
            used[slot] += 1
            request = (
                f"POST /v1/session/refresh HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"DPoP: {proof}\r\nX-Refresh-Token: {tokens[slot]}\r\nContent-Length: 0\r\n\r\n"
            )
            started = time.perf_counter()
            writer.write(request.encode())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            elapsed = time.perf_counter() - started
            if lines[0].split()[1] == "200":
                result["latencies"].append(elapsed)
                tokens[slot] = headers.get("x-refresh-token", tokens[slot])
            elif b"use_dpop_nonce" in body:
                result["nonce_retries"] += 1
            else:
                result["errors"] += 1
    finally:
        writer.close()


async def _drive(
    base: str, sessions: list[Session], proofs: list[list[str]], seconds: float
) -> dict[str, Any]:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tokens = [token for _, token, _ in sessions]
    result: dict[str, Any] = {"latencies": [], "errors": 0, "nonce_retries": 0, "exhausted": 0}
    deadline = time.monotonic() + seconds
    # Each connection owns its sessions, so a rotated token is always used in order.
    connections = [
        _connection(host, port, list(range(i, len(sessions), CONCURRENCY_PER_PROCESS)), tokens,
                    proofs, deadline, result)
        for i in range(min(CONCURRENCY_PER_PROCESS, len(sessions)))
    ]  # fmt: skip
    await asyncio.gather(*connections)
    return result


def _generator(
    base: str,
    sessions: list[Session],
    seconds: float,
    per_session: int,
    ready: Any,
    go: Any,
    out: Any,
) -> None:
    proofs = _proofs(sessions, base + "/v1/session/refresh", per_session)
    ready.put(True)
    go.wait()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic()
    result = asyncio.run(_drive(base, sessions, proofs, seconds))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    result["cpu"] = cpu / (time.monotonic() - wall)
    out.put(result)


def load(base: str, sessions: list[Session], seconds: float, processes: int) -> dict[str, Any]:
    ready: Any = multiprocessing.Queue()
    out: Any = multiprocessing.Queue()
    go = multiprocessing.Event()
    shares = [sessions[i::processes] for i in range(processes)]
    per_session = max(20, int(MAX_RATE * seconds / len(sessions)) + 1)
    workers = [
        multiprocessing.Process(
            target=_generator, args=(base, share, seconds, per_session, ready, go, out)
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=600)  # every proof is signed before the clock starts
    go.set()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    latencies = sorted(x for r in results for x in r["latencies"])
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "ok": len(latencies),
        "errors": sum(r["errors"] for r in results),
        "nonce_retries": sum(r["nonce_retries"] for r in results),
        "exhausted": sum(r["exhausted"] for r in results),
        "generator_cpu": [round(r["cpu"], 2) for r in results],
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


def login_sessions(base: str, database_url: str, count: int) -> list[Session]:
    """Log ``count`` sessions in, each with its key, refresh token and current nonce."""
    sessions = []
    with httpx.Client(timeout=30) as http:
        for challenge in asyncio.run(_challenges(database_url, count)):
            client = SessionClient(base, http=http)
            tokens = client.finalize(challenge)
            assert tokens.refresh_token is not None
            sessions.append((client.key.to_pem_bytes(), tokens.refresh_token, client.nonce or ""))
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
        **({"SESSILE_REDIS_URL": args.redis} if args.redis else {}),
    }
    command = [sys.executable, "-m", "sessile", "serve", "--port", str(port)]
    command += ["--workers", str(args.workers)]
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
        "--workers", str(args.workers), "--log-level", "warning", "--app-dir", str(ROOT / "bench"),
    ]  # fmt: skip
    process = subprocess.Popen(command)
    try:
        wait_up(base + "/", process)
        sessions = [
            (DPoPKey.generate().to_pem_bytes(), secrets.token_urlsafe(32), "")
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
    parser.add_argument("--processes", type=int, default=1, help="load-generator processes")
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database")
    parser.add_argument("--redis", help="a redis:// URL: DPoP replay entries go there")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sessile-bench-"))
    try:
        baseline = run_baseline(args)
        sessile = run_sessile(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    store = ("PostgreSQL" if args.postgres else "SQLite") + (" + Redis" if args.redis else "")
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
