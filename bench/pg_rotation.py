"""What one refresh rotation costs on PostgreSQL: sessile's process and the backend apart.

    .venv/bin/python bench/pg_rotation.py [--postgres URL] [--socket DIR] [--rounds 3]

A database of its own (created on the server ``--postgres`` names, dropped at the end)
holds ``--sessions`` sessions of one user; one task rotates them in turn through
``SessionStore.rotate_live`` with a proof, the common refresh's one write, on the
driver and event loop sessile serves with (asyncpg, uvloop). It prints the CPU per
rotation of this process and of the PostgreSQL backends, each read around the loop.

It compares, in alternating rounds:

- ``tcp``: the URL as given (loopback TCP);
- ``socket``: the same server through its Unix socket in ``--socket``, when given;
- ``no flush``: TCP with ``synchronous_commit = off`` on the database, only to show
  what waiting for the WAL flush costs. sessile never sets it: a refresh answered
  before its rotation is durable could be lost with the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import asyncpg
import uvloop
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import refresh  # noqa: E402

from sessile.store import migrate  # noqa: E402
from sessile.store.database import Database  # noqa: E402
from sessile.store.drivers.postgres import _dsn  # noqa: E402
from sessile.store.session_rows import SessionRow  # noqa: E402


def _backend_cpu(pids: list[int]) -> float:
    """The backends' CPU so far, in seconds, read as the refresh bench reads a server's."""
    ticks = 0
    for pid in pids:
        fields = refresh._stat(pid)
        if fields is not None:
            ticks += sum(refresh._ticks(fields))
    return ticks / refresh.TICKS


def _session(user_id: str, n: int, now: float) -> SessionRow:
    return SessionRow(
        id=f"bench-{n:05d}", user_id=user_id, jkt=f"jkt-{n:05d}", auth_method="otp",
        refresh_hash="h0", generation=0, previous_hash=None, rotated_at=None,
        created_at=now, last_seen_at=now, expires_at=now + 86_400, revoked_at=None,
        revoked_reason=None, device_type="desktop", device_model=None, os_version="Linux",
        browser="Chrome 120", country_code="FR", ip="127.0.0.1", user_agent="Mozilla/5.0",
    )  # fmt: skip


async def _rotations(url: str, sessions: int, rotations: int) -> tuple[float, float]:
    """(process, backends) CPU seconds per rotation."""
    database = Database.from_url(url)
    try:
        await migrate.upgrade(database.engine)
        now = time.time()
        user_id = (await database.users.create(now=now)).id
        rows = [_session(user_id, n, now) for n in range(sessions)]
        for row in rows:
            await database.sessions.create(row)
        state = {row.id: (row.jkt, 0, "h0") for row in rows}
        await database.sessions.rotate_live(  # opens the driver's connection: not measured
            rows[0].id, generation=0, current_hash="h0", new_hash="w", jkt=rows[0].jkt,
            now=now, idle_since=now - 3600, proof=(now, "warm-up"),
        )  # fmt: skip
        state[rows[0].id] = (rows[0].jkt, 1, "w")
        name = make_url(url).database
        admin = await asyncpg.connect(_dsn(url))
        try:
            pids = [
                int(r["pid"])
                for r in await admin.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1"
                    " AND pid <> pg_backend_pid()",
                    name,
                )
            ]
        finally:
            await admin.close()
        before, backends_before = time.process_time(), _backend_cpu(pids)
        for n in range(rotations):
            session_id = rows[n % sessions].id
            jkt, generation, current = state[session_id]
            iat = now + (n + 1) / 1000
            rotated = await database.sessions.rotate_live(
                session_id, generation=generation, current_hash=current, new_hash=f"h{n}",
                jkt=jkt, now=iat, idle_since=iat - 3600, proof=(iat, f"j{n}"),
            )  # fmt: skip
            assert rotated is not None, "every rotation must succeed"
            state[session_id] = (jkt, generation + 1, f"h{n}")
        process = time.process_time() - before
        backends = _backend_cpu(pids) - backends_before
        return process / rotations, backends / rotations
    finally:
        await database.close()


async def _round(
    admin_url: str, variant: str, socket: str | None, args: argparse.Namespace
) -> tuple[float, float]:
    name = f"sessile_bench_rotation_{os.getpid()}"
    admin = await asyncpg.connect(_dsn(admin_url))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name}")
        await admin.execute(f"CREATE DATABASE {name}")
        if variant == "no flush":
            await admin.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
        url = make_url(admin_url).set(database=name)
        if variant == "socket":
            url = url.set(host=None, port=None).update_query_dict({"host": socket or ""})
        try:
            return await _rotations(
                url.render_as_string(hide_password=False), args.sessions, args.rotations
            )
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        help="a server's URL; its user must be able to create databases",
    )  # fmt: skip
    parser.add_argument("--socket", help="the server's Unix socket directory, to compare")
    parser.add_argument("--rotations", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    variants = ["tcp"] + (["socket"] if args.socket else []) + ["no flush"]
    figures: dict[str, list[tuple[float, float]]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for variant in variants:
            figures[variant].append(uvloop.run(_round(args.postgres, variant, args.socket, args)))
    print(f"{'':10} {'sessile µs':>11} {'backend µs':>11} {'both µs':>9}   per rotation")
    for variant, rounds in figures.items():
        process = statistics.median(p for p, _ in rounds) * 1e6
        backend = statistics.median(b for _, b in rounds) * 1e6
        both = statistics.median(p + b for p, b in rounds) * 1e6
        print(f"{variant:10} {process:11.1f} {backend:11.1f} {both:9.1f}")
    print(f"medians of {args.rounds} rounds of {args.rotations} rotations")


if __name__ == "__main__":
    main()
