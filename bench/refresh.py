"""Refresh cost: sessile against a crypto-only endpoint and node-oidc-provider, in one run.

    .venv/bin/python bench/refresh.py --anchor [--postgres URL] [--redis URL]
    .venv/bin/python bench/refresh.py [--workers 2] [--latency] [--postgres URL] [--redis URL]
    .venv/bin/python bench/refresh.py --routes [--postgres URL] [--src OTHER/src]
    .venv/bin/python bench/refresh.py --idle [--workers 1] [--src OTHER/src]

``--anchor`` measures server CPU per successful refresh, read from ``/proc`` for
each server's process group, with one server process each: sessile (``sessile
serve --workers 1``), the crypto-only endpoint (``bench/crypto_baseline.py``: one
proof verify and one ES256 sign, no storage) and node-oidc-provider
(``bench/anchor``: a public client, DPoP-bound refresh tokens rotated on every
use, ES256 JWT access tokens; ``npm ci`` there first). The three run side by
side and take turns, ``--rounds`` times; it prints each round's figures and the
median of each round's two ratios (DESIGN §11). With ``--postgres`` or ``--redis``,
sessile on SQLite takes its turns too, and the bench prints the median of each
round's ratio of sessile with its database servers to sessile on SQLite: two
stores compared in neighbouring minutes, not in two sittings.

Without ``--anchor`` it drives ``--workers`` server workers as hard as it can
(requests/s, p50, p99) beside the crypto-only endpoint on as many workers, each served
as ``sessile serve`` serves (``bench/serve.py``: a listener per worker). With
``--latency`` it then offers each server 70 % of its own maximum rate, open loop, as
Poisson arrivals (every connection a client sending at random gaps), and prints p50,
p99, sessile's worst event-loop stall with the CPU its loop ran meanwhile, and each
sessile worker's CPU (``bench/probe.py``). The crypto-only endpoint under the same
offer is the control: what the machine and the load generator add to any server.

``--floor`` adds two more servers to the turns (``bench/floor.py``): uvicorn with a
bare answer, and uvicorn with one proof verify, one SQLite write and one ES256 sign
and nothing else, the least any refresh can cost on this stack.

``--routes`` measures what each login route and each management lookup costs, in
refreshes measured on the same server in the same run (``bench/logins.py``, which it
runs; ``--profile FOLDER`` samples each of its phases with py-spy). ``--idle`` measures
the CPU a second of a server with no requests. ``--src`` runs the server from another
source tree, to compare before and after.

The load generator runs in its own processes, speaks HTTP/1.1 on raw asyncio
streams to 127.0.0.1 only, and signs every proof before the clock starts. Each
process reports the CPU it used: if one is near a whole core, it, not the server,
is the limit. Every server started here is stopped before the bench exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
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
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import asyncpg
import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
# With --src, set-up (users, challenges, logins) uses that tree too: its schema may differ.
_SRC = sys.argv[sys.argv.index("--src") + 1] if "--src" in sys.argv[:-1] else str(ROOT / "src")
sys.path.insert(0, str(Path(_SRC).resolve()))

from sessile.client import DPoPKey, SessionClient  # noqa: E402
from sessile.clock import SystemClock  # noqa: E402
from sessile.sessions import ChallengeTokens  # noqa: E402
from sessile.store.database import Database  # noqa: E402

SECRET = "bench-secret-" + "b" * 40
HOST = "127.0.0.1"
CONCURRENCY_PER_PROCESS = 64
#: Proofs are signed ahead for up to this many requests per second.
MAX_RATE = 8000
#: sessile on SQLite, when --anchor measures it on PostgreSQL or Redis: their yardstick.
ON_SQLITE = "sessile on SQLite"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# Servers -------------------------------------------------------------------------------------
def _stat(pid: int | str) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [2] is the process group, [11] and [12]
    utime and stime in ticks. None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def _ticks(fields: list[str]) -> tuple[int, int]:
    """utime and stime, in ticks."""
    return int(fields[11]), int(fields[12])


class Measured(Protocol):
    """What ``load`` drives and reads: a base URL, and the CPU of the processes behind it."""

    @property
    def base(self) -> str: ...

    @property
    def stores(self) -> Callable[[], list[int]] | None: ...

    def cpu_times(self) -> tuple[float, float]: ...

    def store_ticks(self) -> dict[int, int]: ...


@dataclass
class Server:
    """A server in a process group of its own, so its CPU can be read from /proc.

    ``stores`` lists, when called, the processes of the database servers working for it
    (PostgreSQL backends, Redis), which are not in its group: their CPU is read apart.
    """

    name: str
    base: str
    process: subprocess.Popen[bytes]
    stores: Callable[[], list[int]] | None = None

    def cpu_seconds(self) -> float:
        return sum(self.cpu_times())

    def cpu_times(self) -> tuple[float, float]:
        """The group's CPU so far: in user space, and in the kernel (system calls)."""
        user = system = 0
        for entry in Path("/proc").iterdir():
            fields = _stat(entry.name) if entry.name.isdigit() else None
            if fields is not None and int(fields[2]) == self.process.pid:
                utime, stime = _ticks(fields)
                user += utime
                system += stime
        return user / TICKS, system / TICKS

    def store_ticks(self) -> dict[int, int]:
        """Each database server process's CPU so far, in ticks."""
        ticks = {}
        for pid in self.stores() if self.stores else []:
            fields = _stat(pid)
            if fields is not None:
                ticks[pid] = sum(_ticks(fields))
        return ticks

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start(name: str, command: list[str], *, port: int, ready: str, **kwargs: Any) -> Server:
    process = subprocess.Popen(command, start_new_session=True, **kwargs)
    server = Server(name, f"http://{HOST}:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            httpx.request(
                "POST" if ready.startswith("POST ") else "GET",
                server.base + ready.removeprefix("POST "),
                timeout=1,
            )
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not start")  # fmt: skip


def sessile_env(
    args: argparse.Namespace, workdir: Path, base: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {
        **os.environ,
        "SESSILE_DATA_DIR": str(workdir),
        "SESSILE_PUBLIC_URL": base,
        "SESSILE_SECRET_KEY": SECRET,
        "SESSILE_DATABASE_URL": args.postgres or f"sqlite+aiosqlite:///{workdir / 'sessile.db'}",
        "SESSILE_LOG_LEVEL": "warning",
        **({"SESSILE_REDIS_URL": args.redis} if args.redis else {}),
        **(extra or {}),
    }
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    return env


def start_sessile(
    args: argparse.Namespace, workdir: Path, workers: int, probe: Path | None = None,
    granian: bool = False, extra: dict[str, str] | None = None,
) -> Server:  # fmt: skip
    port = free_port()
    env = sessile_env(args, workdir, f"http://{HOST}:{port}", extra)
    if granian:  # the same app under granian, for --granian
        subprocess.run([sys.executable, "-m", "sessile", "db", "upgrade"], env=env, check=True)
        command = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", HOST,
            "--port", str(port), "--workers", str(workers), "--log-level", "warning",
            "--no-ws", "sessile.http.app:create_app_from_env",
        ]  # fmt: skip
    elif probe is None:
        command = [sys.executable, "-m", "sessile", "serve", "--port", str(port)]
        command += ["--workers", str(workers)]
    else:
        subprocess.run([sys.executable, "-m", "sessile", "db", "upgrade"], env=env, check=True)
        env["SESSILE_BENCH_PROBE"] = str(probe)
        command = [
            sys.executable, str(ROOT / "bench" / "serve.py"), "probe:create_app", "--host", HOST,
            "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip
    # Its output (the development outbox prints every message) would cost it CPU on a
    # terminal: it goes nowhere.
    server = start(
        "sessile", command, port=port, ready="/healthz", env=env, stdout=subprocess.DEVNULL
    )
    server.stores = store_processes(args)
    return server


def store_processes(args: argparse.Namespace) -> Callable[[], list[int]] | None:
    """The processes of sessile's database servers: its PostgreSQL backends and Redis.
    On SQLite the database works inside sessile's own processes, and is counted there."""
    if not args.postgres and not args.redis:
        return None

    async def backends(url: str) -> list[int]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        return [int(row["pid"]) for row in rows]

    def pids() -> list[int]:
        found = asyncio.run(backends(args.postgres)) if args.postgres else []
        if args.redis:
            with redis.Redis.from_url(args.redis) as client:
                found.append(int(client.info("server")["process_id"]))
        return found

    return pids


def start_baseline(workers: int) -> Server:
    port = free_port()
    if workers > 1:  # served as sessile's workers are: a listener each
        command = [
            sys.executable, str(ROOT / "bench" / "serve.py"), "crypto_baseline:create_app",
            "--host", HOST, "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip
    else:  # as --anchor has always served it
        command = [
            sys.executable, "-m", "uvicorn", "crypto_baseline:app", "--host", HOST, "--port",
            str(port), "--log-level", "warning", "--app-dir", str(ROOT / "bench"),
        ]  # fmt: skip
    return start("crypto-only", command, port=port, ready="/")


def start_floor(bare: bool) -> Server:
    """``bench/floor.py``: a refresh's bare minimum on this stack, or (``bare``) none."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "floor:app", "--host", HOST, "--port", str(port),
        "--log-level", "warning", "--no-server-header", "--app-dir", str(ROOT / "bench"),
    ]  # fmt: skip
    env = {**os.environ, **({"FLOOR_BARE": "1"} if bare else {})}
    return start("bare server" if bare else "floor", command, port=port, ready="/", env=env)


def start_anchor() -> Server:
    folder = ROOT / "bench" / "anchor"
    if not (folder / "node_modules" / "oidc-provider").exists():
        raise SystemExit("run `npm ci --prefix bench/anchor` first")
    port = free_port()
    return start(
        "oidc-provider",
        ["node", str(folder / "server.js"), str(port)],
        port=port,
        ready="/.well-known/openid-configuration",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# Load generation -----------------------------------------------------------------------------
# A lean HTTP/1.1 client on asyncio streams, with every DPoP proof signed before the clock
# starts: the generator then costs little CPU per request, and reports what it used, so a
# saturated generator can't pass for a slow server.
@dataclass
class Slot:
    """One client: what it sends, in order. ``kind`` picks the request's shape."""

    kind: str  # "refresh", "anchor", "finalize", "list" or "raw"
    token: str = ""  # refresh token, or access token for "list"
    proofs: list[str] = field(default_factory=list)
    challenges: list[str] = field(default_factory=list)
    used: int = 0
    #: "raw": each request whole, head and body, with ``{host}`` where the Host goes.
    raw: list[bytes] = field(default_factory=list)
    #: The statuses that count as answered as meant (a refused start answers 429).
    ok: frozenset[str] = frozenset({"200"})


def _request(slot: Slot, host: str) -> bytes | None:
    if slot.kind == "raw":
        if slot.used >= len(slot.raw):
            return None
        slot.used += 1
        return slot.raw[slot.used - 1].replace(b"{host}", host.encode())
    if slot.kind == "list":
        return (
            f"GET /v1/session/me/list HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {slot.token}\r\n\r\n"
        ).encode()
    if slot.used >= len(slot.proofs):
        return None
    proof = slot.proofs[slot.used]
    slot.used += 1
    if slot.kind == "refresh":
        head = f"POST /v1/session/refresh HTTP/1.1\r\nX-Refresh-Token: {slot.token}\r\n"
        body = b""
    elif slot.kind == "anchor":
        head = "POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        form = {"grant_type": "refresh_token", "refresh_token": slot.token, "client_id": "bench"}
        body = urlencode(form).encode()
    else:  # finalize
        head = (
            "POST /v1/session/login/finalize HTTP/1.1\r\nContent-Type: application/json\r\n"
            "X-Refresh-Token-Mode: header\r\n"
        )
        body = json.dumps({"challenge_token": slot.challenges[slot.used - 1]}).encode()
    return (
        f"{head}Host: {host}\r\nDPoP: {proof}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _connection(
    host: str, port: int, slots: list[Slot], deadline: float, interval: float | None,
    result: dict[str, Any], seed: int,
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(host, port)
    turn = 0
    scheduled = time.perf_counter()
    # Open loop: each connection is a client that sends at random (exponential) gaps of
    # ``interval`` on average, so together they arrive as a Poisson stream, as many
    # independent tabs do. Seeded: every run offers the same pattern.
    gaps = random.Random(seed)
    try:
        while time.monotonic() < deadline:
            slot = slots[turn % len(slots)]
            turn += 1
            request = _request(slot, f"{host}:{port}")
            if request is None:
                result["exhausted"] += 1
                break
            if interval is not None:  # open loop: latency counts from the scheduled time
                scheduled += gaps.expovariate(1 / interval)
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            else:
                scheduled = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            elapsed = time.perf_counter() - scheduled
            if lines[0].split()[1] in slot.ok:
                result["latencies"].append(elapsed)
                if slot.kind == "refresh":
                    slot.token = headers.get("x-refresh-token", slot.token)
                elif slot.kind == "anchor":
                    slot.token = json.loads(body)["refresh_token"]
            elif b"use_dpop_nonce" in body:
                result["nonce_retries"] += 1
            else:
                result["errors"] += 1
                result["last_error"] = body[:200].decode(errors="replace")
    finally:
        writer.close()


def _generator(
    base: str, slots: list[Slot], seconds: float, rate: float | None, out: Any, go: Any,
    ready: Any, seed: int,
) -> None:  # fmt: skip
    ready.put(True)
    go.wait()
    host, port = HOST, int(base.rsplit(":", 1)[1])
    result: dict[str, Any] = {"latencies": [], "errors": 0, "nonce_retries": 0, "exhausted": 0}
    connections = min(CONCURRENCY_PER_PROCESS, len(slots))
    interval = connections / rate if rate else None
    before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.monotonic()

    async def drive() -> None:
        deadline = time.monotonic() + seconds
        # Each connection owns its slots, so a rotated token is always used in order.
        await asyncio.gather(*(
            _connection(host, port, slots[i::connections], deadline, interval, result, seed + i)
            for i in range(connections)
        ))  # fmt: skip

    asyncio.run(drive())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage.ru_utime - before.ru_utime) + (usage.ru_stime - before.ru_stime)
    result["cpu"] = cpu / (time.monotonic() - wall)
    out.put(result)


def load(
    server: Measured, slots: list[Slot], seconds: float, processes: int, rate: float | None = None
) -> dict[str, Any]:
    """Drive ``server`` for ``seconds``; its CPU is read from /proc around the run."""
    ready: Any = multiprocessing.Queue()
    out: Any = multiprocessing.Queue()
    go = multiprocessing.Event()
    shares = [slots[i::processes] for i in range(processes)]
    share_rate = rate / processes if rate else None
    workers = [
        multiprocessing.Process(
            target=_generator,
            args=(server.base, share, seconds, share_rate, out, go, ready, n * 1000),
        )
        for n, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=120)
    cpu_before, stores_before = server.cpu_times(), server.store_ticks()
    started = time.monotonic()
    go.set()
    results = [out.get(timeout=seconds + 120) for _ in workers]
    elapsed = time.monotonic() - started
    cpu_after = server.cpu_times()
    server_cpu = sum(cpu_after) - sum(cpu_before)
    system_cpu = cpu_after[1] - cpu_before[1]
    # A backend that started in the window counts whole: the pool opened it for the load.
    stores_after = server.store_ticks()
    store_cpu = sum(t - stores_before.get(pid, 0) for pid, t in stores_after.items()) / TICKS
    for worker in workers:
        worker.join(timeout=30)
    latencies = sorted(x for r in results for x in r["latencies"])
    ok = len(latencies)
    return {
        "rps": ok / seconds,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[max(0, int(ok * 0.99) - 1)] * 1000 if latencies else float("nan"),
        "ok": ok,
        "errors": sum(r["errors"] for r in results),
        "last_error": next((r["last_error"] for r in results if "last_error" in r), ""),
        "nonce_retries": sum(r["nonce_retries"] for r in results),
        "exhausted": sum(r["exhausted"] for r in results),
        "generator_cpu": [round(r["cpu"], 2) for r in results],
        "server_cores": server_cpu / elapsed,
        "cpu_ms": server_cpu / ok * 1000 if ok else float("nan"),
        "system_ms": system_cpu / ok * 1000 if ok else float("nan"),
        "store_cpu_ms": store_cpu / ok * 1000 if ok and server.stores else None,
    }


# Set-up: sessions, grants, proofs ------------------------------------------------------------
def _sign(pem: bytes, url: str, nonce: str | None, count: int, spaced: bool = False) -> list[str]:
    """``count`` proofs; ``spaced`` gives them an ``iat`` a second apart, the clock of a
    client signing each one as it refreshes (a server nonce makes future ``iat`` fine)."""
    key = DPoPKey.from_pem_bytes(pem)
    now = time.time()
    return [key.proof("POST", url, nonce=nonce, iat=now + i if spaced else None)
            for i in range(count)]  # fmt: skip


async def _challenges(database_url: str, count: int, users: int) -> list[str]:
    db = Database.from_url(database_url)
    try:
        clock = SystemClock()
        challenges = ChallengeTokens(db.challenges, clock, ttl=600)
        ids = [(await db.users.create(now=clock.now())).id for _ in range(users)]
        return [
            await challenges.issue(user_id=ids[i % users], auth_method="password")
            for i in range(count)
        ]
    finally:
        await db.close()


def sessile_sessions(
    server: Measured, env: dict[str, str], count: int, per_slot: int
) -> list[Slot]:
    """Log ``count`` sessions in; sign each one's refresh proofs ahead."""
    challenges = asyncio.run(_challenges(env["SESSILE_DATABASE_URL"], count, count))
    slots = []
    with httpx.Client(timeout=30) as http:
        for challenge in challenges:
            client = SessionClient(server.base, http=http)
            tokens = client.finalize(challenge)
            assert tokens.refresh_token is not None
            proofs = _sign(
                client.key.to_pem_bytes(), server.base + "/v1/session/refresh", client.nonce,
                per_slot, spaced=True,
            )  # fmt: skip
            slots.append(Slot("refresh", tokens.refresh_token, proofs))
    return slots


def baseline_slots(server: Server, count: int, per_slot: int) -> list[Slot]:
    url = server.base + "/v1/session/refresh"
    return [
        Slot("refresh", secrets.token_urlsafe(32),
             _sign(DPoPKey.generate().to_pem_bytes(), url, None, per_slot))
        for _ in range(count)
    ]  # fmt: skip


def anchor_grants(server: Server, count: int, per_slot: int) -> list[Slot]:
    """One grant per load client, bound to that client's key."""
    slots = []
    with httpx.Client(timeout=30) as http:
        for _ in range(count):
            key = DPoPKey.generate()
            grant = http.post(server.base + "/bench/grant", json={"jkt": key.thumbprint})
            grant.raise_for_status()
            proofs = _sign(key.to_pem_bytes(), server.base + "/token", None, per_slot)
            slots.append(Slot("anchor", grant.json()["refresh_token"], proofs))
    return slots


# Scenarios -----------------------------------------------------------------------------------
def per_slot(args: argparse.Namespace, seconds: float) -> int:
    return max(20, int(MAX_RATE * seconds / args.sessions) + 1)


def run_anchor(args: argparse.Namespace, workdir: Path) -> list[dict[str, dict[str, Any]]]:
    """CPU per refresh, one server process each, driven the same way.

    The servers run side by side and take turns, ``--rounds`` times: on a shared machine
    the load drifts, and the ratios of one round come from neighbouring minutes.
    """
    n = per_slot(args, args.seconds)
    names = ["crypto-only", "sessile", "oidc-provider"]
    names += [ON_SQLITE] if args.postgres or args.redis else []
    names += ["sessile (granian)"] if args.granian else []
    names += ["floor", "bare server"] if args.floor else []
    servers: dict[str, tuple[Server, Callable[[], list[Slot]]]] = {}
    rounds: list[dict[str, dict[str, Any]]] = []
    try:
        for name in names:
            make: Callable[[], list[Slot]]
            if name.startswith("sessile"):
                data = workdir / name.replace(" ", "-").strip("()")
                data.mkdir(exist_ok=True)
                # sessile on SQLite, beside sessile on the stores given.
                on = args
                if name == ON_SQLITE:
                    on = argparse.Namespace(**(vars(args) | {"postgres": None, "redis": None}))
                server = start_sessile(on, data, 1, granian=name.endswith("(granian)"))
                env = sessile_env(on, data, server.base)
                make = partial(sessile_sessions, server, env, args.sessions, n)
            elif name == "crypto-only":
                server = start_baseline(1)
                make = partial(baseline_slots, server, args.sessions, n)
            elif name in ("floor", "bare server"):
                server = start_floor(bare=name == "bare server")
                make = partial(baseline_slots, server, args.sessions, n)
            else:
                server = start_anchor()
                make = partial(anchor_grants, server, args.sessions, n)
            servers[name] = (server, make)
            load(server, make(), 2, args.processes)  # warm-up
        for turn in range(args.rounds):
            results: dict[str, dict[str, Any]] = {}
            for name, (server, make) in servers.items():
                slots = make()
                spy = profile(args, server) if name == "sessile" and turn == 0 else None
                results[name] = load(server, slots, args.seconds, args.processes)
                if spy is not None:
                    spy.wait(timeout=60)
            rounds.append(results)
    finally:
        for server, _ in servers.values():
            server.stop()
    return rounds


def report_anchor(rounds: list[dict[str, dict[str, Any]]], store: str) -> None:
    """Each round's table, then the median of each round's two ratios."""
    for turn, results in enumerate(rounds, 1):
        print(f"round {turn} of {len(rounds)}")
        report(results)
    cpu = {name: [r[name]["cpu_ms"] for r in rounds] for name in rounds[0]}
    print(f"store: {store}; one server process each; median of {len(rounds)} rounds")
    for name, figures in cpu.items():
        print(f"  {name:20} CPU per refresh {statistics.median(figures):.3f} ms")
    stores = [r["sessile"]["store_cpu_ms"] for r in rounds]
    if None not in stores:
        # What SQLite does inside sessile's process, PostgreSQL and Redis do in their own.
        whole = [r["sessile"]["cpu_ms"] + figure for r, figure in zip(rounds, stores, strict=True)]
        oidc = [r["oidc-provider"]["cpu_ms"] for r in rounds]
        ratios = [w / o for w, o in zip(whole, oidc, strict=True)]
        print(
            f"  {'sessile + stores':20} CPU per refresh {statistics.median(whole):.3f} ms"
            f" (its database servers: {statistics.median(stores):.3f} ms);"
            f" / oidc-provider {statistics.median(ratios):.2f}"
        )
        cpu["sessile + stores"] = whole

    def ratio(top: str, bottom: str, goal: str) -> None:
        """The median over rounds of ``top``'s CPU per refresh over ``bottom``'s."""
        per_round = [t / b for t, b in zip(cpu[top], cpu[bottom], strict=True)]
        label = f"{top} / {bottom} CPU per refresh:"
        print(
            f"{label:56}{statistics.median(per_round):.2f}"
            f" ({goal}rounds {', '.join(f'{x:.2f}' for x in per_round)})"
        )

    if "sessile + stores" in cpu:
        ratio("sessile + stores", ON_SQLITE, "goal <= 1.3; ")
    ratio("sessile", "oidc-provider", "goal <= 0.33; ")
    ratio("crypto-only", "sessile", "goal >= 0.70; ")
    if ON_SQLITE in cpu:
        ratio(ON_SQLITE, "oidc-provider", "goal <= 0.33; ")
    if "floor" in cpu:
        ratio("floor", "oidc-provider", "")


def profile(args: argparse.Namespace, server: Server) -> subprocess.Popen[bytes] | None:
    """With ``--profile``, sample sessile with py-spy during the measured run."""
    if not args.profile:
        return None
    command = [
        "py-spy", "record", "--pid", str(server.process.pid), "--nonblocking", "--rate", "250",
        "--duration", str(int(args.seconds)), "--format", "raw", "--output", args.profile,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def run_throughput(args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, Any]]:
    n = per_slot(args, args.seconds)
    results: dict[str, dict[str, Any]] = {}
    baseline = start_baseline(args.workers)
    try:
        load(baseline, baseline_slots(baseline, args.sessions, n), 2, args.processes)
        results["crypto-only"] = load(
            baseline, baseline_slots(baseline, args.sessions, n), args.seconds, args.processes
        )
        if args.latency:  # the same offer and generator on a server that does only crypto
            rate = 0.7 * results["crypto-only"]["rps"]
            slots = baseline_slots(baseline, args.sessions, n)
            results["crypto-only @70%"] = load(baseline, slots, args.seconds, args.processes, rate)
    finally:
        baseline.stop()
    probe = workdir / "probe"
    probe.mkdir()
    server = start_sessile(args, workdir, args.workers, probe if args.latency else None)
    env = sessile_env(args, workdir, server.base)
    try:
        load(server, sessile_sessions(server, env, args.sessions, n), 2, args.processes)
        results["sessile"] = load(
            server, sessile_sessions(server, env, args.sessions, n), args.seconds, args.processes
        )
        if args.latency:
            rate = 0.7 * results["sessile"]["rps"]
            slots = sessile_sessions(server, env, args.sessions, n)
            (probe / "measuring").touch()
            results["sessile @70%"] = load(server, slots, args.seconds, args.processes, rate)
            (probe / "measuring").unlink()
    finally:
        server.stop()
    if args.latency:
        workers = [json.loads(p.read_text()) for p in sorted(probe.glob("*.json"))]
        worst = max(workers, key=lambda w: w["worst_stall_ms"], default=None)
        results["sessile @70%"]["worst_stall"] = worst
        results["sessile @70%"]["worker_cpu_s"] = [round(w["cpu_s"], 2) for w in workers]
        results["sessile @70%"]["lock_waits"] = {
            le: sum(w["lock_waits"].get(le, 0.0) for w in workers)
            for le in workers[0]["lock_waits"]
        } if workers else {}  # fmt: skip
    for name in ("crypto-only @70%", "sessile @70%"):
        if name in results:  # each worker a queue of its own, at the load it carried
            r = results[name]
            r["ideal_ratio"] = ideal_ratio(r["rps"] * r["cpu_ms"] / 1000 / args.workers)
            spent = r.get("worker_cpu_s") or []
            if len(spent) > 1 and sum(spent) > 0:
                # Connections stay with the worker the kernel gave them to: the busier one
                # carries more than its share of the load.
                r["busiest_share"] = share = max(spent) / sum(spent)
                r["busiest_ideal_ratio"] = ideal_ratio(
                    min(r["rps"] * r["cpu_ms"] / 1000 * share, 0.99)
                )
    return results


def ideal_ratio(utilization: float, arrivals: int = 200_000) -> float:
    """p99 / p50 of the time in a queue served in a fixed time (M/D/1) at
    ``utilization``, by simulation: what a server with no noise at all would show
    under Poisson arrivals."""
    gaps = random.Random(0)
    now = free = 0.0
    times = []
    for _ in range(arrivals):
        now += gaps.expovariate(utilization)  # service takes 1
        free = max(now, free) + 1
        times.append(free - now)
    times.sort()
    return times[int(arrivals * 0.99)] / times[arrivals // 2]


def run_idle(args: argparse.Namespace, workdir: Path) -> float:
    """CPU seconds a second of sessile serving no request (its workers' polls, timers),
    over ``--seconds``, once it has started."""
    server = start_sessile(args, workdir, args.workers)
    try:
        time.sleep(3)  # past start-up
        seconds = float(args.seconds)
        before = server.cpu_seconds()
        time.sleep(seconds)
        return (server.cpu_seconds() - before) / seconds
    finally:
        server.stop()


def report(results: dict[str, dict[str, Any]]) -> None:
    print(
        f"{'':22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU/req ms':>10} {'(kernel)':>8}"
        f" {'cores':>5} {'errors':>6} {'nonce':>5}  generator CPU (cores)"
    )
    for name, r in results.items():
        print(
            f"{name:22} {r['rps']:7.0f} {r['p50']:7.2f} {r['p99']:7.2f} {r['cpu_ms']:10.3f}"
            f" {r['system_ms']:8.3f} {r['server_cores']:5.2f} {r['errors']:6d}"
            f" {r['nonce_retries']:5d}"
            f"  {r['generator_cpu']}"
        )
        if r["errors"]:
            print(f"    last error: {r['last_error']}")
        if r.get("worst_stall"):
            stall = r["worst_stall"]
            print(
                f"    worst event-loop stall: {stall['worst_stall_ms']:.2f} ms, of which the"
                f" loop's thread ran {stall['worst_stall_cpu_ms']:.2f} ms"
            )
        if "worker_cpu_s" in r:
            print(f"    each worker's CPU seconds while measured: {r['worker_cpu_s']}")
        if r.get("lock_waits"):
            print(f"    {_lock_waits(r['lock_waits'], r['ok'])}")
        if "ideal_ratio" in r:
            print(
                f"    p99 / p50 {r['p99'] / r['p50']:.1f}; a server with no noise at this"
                f" load (M/D/1): {r['ideal_ratio']:.1f}"
            )
        if "busiest_ideal_ratio" in r:
            print(
                f"    the busier worker carried {r['busiest_share']:.0%} of the load; M/D/1"
                f" at its load: {r['busiest_ideal_ratio']:.1f}"
            )


def _lock_waits(buckets: dict[str, float], refreshes: int) -> str:
    """The SQLite write-lock waits of a run, from the histogram's cumulative buckets."""
    waited = buckets.get("+Inf", 0.0)
    if not waited:
        return "no statement waited for the SQLite write lock"
    bounds = sorted((float(le), count) for le, count in buckets.items())

    def at_most(share: float) -> str:
        bound = next(le for le, count in bounds if count >= share * waited)
        return "longer" if bound == float("inf") else f"<= {bound * 1000:g} ms"

    return (
        f"statements that waited for the SQLite write lock: {waited:.0f}"
        f" ({waited / max(refreshes, 1):.0%} of refreshes); half of them {at_most(0.5)},"
        f" 99 % {at_most(0.99)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--anchor", action="store_true", help="CPU per refresh vs oidc-provider")
    parser.add_argument("--latency", action="store_true", help="p50/p99 at 70%% of the maximum")
    parser.add_argument(
        "--routes", action="store_true", help="each login route's CPU, in refreshes"
    )
    parser.add_argument("--idle", action="store_true", help="CPU a second with no requests")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="with --anchor: turns per server")
    parser.add_argument("--sessions", type=int, default=200, help="load clients (sessions)")
    parser.add_argument("--processes", type=int, default=1, help="load-generator processes")
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database")
    parser.add_argument("--redis", help="a redis:// URL: DPoP replay entries go there")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--src", help="run the server from this source tree (its src/)")
    parser.add_argument(
        "--profile",
        help="with --anchor: py-spy's raw samples of sessile here; with --routes:"
        " a folder for each phase's",
    )
    parser.add_argument(
        "--floor", action="store_true",
        help="with --anchor: bench/floor.py too (uvicorn + verify + write + sign, nothing else)",
    )  # fmt: skip
    parser.add_argument(
        "--granian", action="store_true", help="with --anchor: sessile under granian too"
    )
    args = parser.parse_args()
    # Stopped from outside, still stop every server started here (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="sessile-bench-"))
    store = ("PostgreSQL" if args.postgres else "SQLite") + (" + Redis" if args.redis else "")
    try:
        if args.anchor:
            report_anchor(run_anchor(args, workdir), store)
        elif args.idle:
            print(f"idle: {run_idle(args, workdir) * 1000:.1f} ms of CPU a second")
            print(f"store: {store}; {args.workers} workers")
        elif args.routes:
            import logins  # it imports this module

            if args.seconds == parser.get_default("seconds"):
                args.seconds = 8.0
            logins.report(logins.run(args), args)
        else:
            results = run_throughput(args, workdir)
            report(results)
            print(f"store: {store}; {args.workers} workers")
            ratio = results["sessile"]["rps"] / results["crypto-only"]["rps"]
            print(f"throughput sessile / crypto-only: {ratio:.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
