"""sessile at 10 million sessions on PostgreSQL: load time, refresh cost, list and feed pages.

    .venv/bin/python bench/scale.py [--rows 10000000] [--seconds 8]

It starts a PostgreSQL of its own (``deploy/local``: initdb in a temporary folder, a
free port), migrates it, and:

1. fills ``sessions`` to 10,000 rows with ``COPY`` and measures refresh (server CPU per
   refresh and p50, through ``bench/refresh.py``'s load generator, one worker);
2. fills it to ``--rows`` with ``COPY`` (secondary indexes and the foreign key are
   dropped first and rebuilt after, as a bulk load does), timed, and measures refresh
   again: the ratio of the two is the cost of size;
3. lists a user who has 1,000 sessions, page by page (``/v1/session/me/list``);
4. adds 1,000,000 revocation-feed rows and reads feed pages at its start, middle and end.

Every process it starts is stopped, and its folders removed, before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import refresh  # noqa: E402
from deploy.local.services import Postgres  # noqa: E402

from sessile.api_keys import ApiKeys  # noqa: E402
from sessile.audit_trail import AuditTrail  # noqa: E402
from sessile.client import SessionClient  # noqa: E402
from sessile.clock import SystemClock  # noqa: E402
from sessile.sessions import ChallengeTokens  # noqa: E402
from sessile.store.database import Database  # noqa: E402

SESSIONS_PER_USER = 10
MANY = 1_000
CHUNK = 200_000
SESSION_COLUMNS = (
    "id", "user_id", "jkt", "auth_method", "refresh_hash", "generation", "created_at",
    "last_seen_at", "expires_at", "device_type", "ip", "user_agent",
)  # fmt: skip


def _session_rows(
    start: int, stop: int, now: float, user: str | None = None
) -> Iterator[tuple[Any, ...]]:
    tag = "m" if user else ""
    for n in range(start, stop):
        jkt = f"{n:042d}{tag}"  # a key of its own: the rotation looks up the key's sessions
        owner = user or f"usr_scale{n // SESSIONS_PER_USER:09d}"
        yield (
            f"ses_scale{n:010d}{tag}", owner, jkt, "password",
            f"{n:064x}", 1, now - n % 86_400, now - n % 3_600, now + 86_400 * 60, "desktop",
            "127.0.0.1", "Mozilla/5.0 (X11; Linux x86_64) bench",
        )  # fmt: skip


async def _fill(dsn: str, start: int, stop: int) -> None:
    """Sessions ``start``..``stop`` and their users (ten sessions each), by COPY."""
    conn = await asyncpg.connect(dsn)
    now = time.time()
    try:
        await conn.set_type_codec(
            "json", encoder=str.encode, decoder=bytes.decode, schema="pg_catalog", format="binary"
        )
        first_user = (start + SESSIONS_PER_USER - 1) // SESSIONS_PER_USER
        last_user = (stop + SESSIONS_PER_USER - 1) // SESSIONS_PER_USER
        for lo in range(first_user, last_user, CHUNK):
            users = [(f"usr_scale{u:09d}", "{}", now, now)
                     for u in range(lo, min(lo + CHUNK, last_user))]  # fmt: skip
            await conn.copy_records_to_table(
                "users", records=users, columns=["id", "profile", "created_at", "updated_at"]
            )
        for lo in range(start, stop, CHUNK):
            await conn.copy_records_to_table(
                "sessions", records=_session_rows(lo, min(lo + CHUNK, stop), now),
                columns=SESSION_COLUMNS,
            )  # fmt: skip
    finally:
        await conn.close()


async def _bulk(dsn: str, start: int, stop: int) -> None:
    """A bulk load: drop the sessions' secondary indexes and foreign key, COPY, rebuild."""
    conn = await asyncpg.connect(dsn)
    try:
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'sessions'"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        fks = await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
            " WHERE conrelid = 'sessions'::regclass AND contype = 'f'"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["indexname"]}"')
        for fk in fks:
            await conn.execute(f'ALTER TABLE sessions DROP CONSTRAINT "{fk["conname"]}"')
        await _fill(dsn, start, stop)
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            await conn.execute(index["indexdef"])
        for fk in fks:
            await conn.execute(f'ALTER TABLE sessions ADD CONSTRAINT "{fk["conname"]}" {fk["def"]}')
        await conn.execute("ANALYZE users")
        await conn.execute("ANALYZE sessions")
    finally:
        await conn.close()


def measure_refresh(args: argparse.Namespace, workdir: Path, url: str) -> dict[str, Any]:
    """Refresh on one worker, on the database at ``url``."""
    options = argparse.Namespace(postgres=url, redis=None, src=None)
    server = refresh.start_sessile(options, workdir, 1)
    env = refresh.sessile_env(options, workdir, server.base)
    try:
        n = refresh.per_slot(argparse.Namespace(sessions=args.sessions), args.seconds)
        refresh.load(server, refresh.sessile_sessions(server, env, args.sessions, n), 2, 1)
        slots = refresh.sessile_sessions(server, env, args.sessions, n)
        return refresh.load(server, slots, args.seconds, 1)
    finally:
        server.stop()


async def _many_and_feed(dsn: str, url: str) -> tuple[str, str]:
    """A user with 1,000 sessions, an API key, a challenge to log that user in."""
    conn = await asyncpg.connect(dsn)
    now = time.time()
    try:
        await conn.set_type_codec(
            "json", encoder=str.encode, decoder=bytes.decode, schema="pg_catalog", format="binary"
        )
        await conn.execute(
            "INSERT INTO users (id, profile, created_at, updated_at) VALUES ($1, '{}', $2, $2)",
            "usr_scalemany", now,
        )  # fmt: skip
        await conn.copy_records_to_table(
            "sessions", records=_session_rows(0, MANY, now, "usr_scalemany"),
            columns=SESSION_COLUMNS,
        )  # fmt: skip
    finally:
        await conn.close()
    db = Database.from_url(url)
    try:
        clock = SystemClock()
        keys = ApiKeys(db.api_keys, AuditTrail(db.audit, clock), clock)
        api_key = (await keys.create("scale"))[1]
        challenge = await ChallengeTokens(db.challenges, clock).issue(
            user_id="usr_scalemany", auth_method="password"
        )
    finally:
        await db.close()
    return api_key, challenge


async def _feed_rows(dsn: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    now = time.time() - 120  # settled, and still younger than the purge's horizon
    try:
        for lo in range(0, count, CHUNK):
            rows = [(f"usr_scale{n:09d}", f"ses_scale{n:010d}", now + n / count)
                    for n in range(lo, min(lo + CHUNK, count))]  # fmt: skip
            await conn.copy_records_to_table(
                "revocations", records=rows, columns=["user_id", "session_id", "revoked_at"]
            )
        await conn.execute("ANALYZE revocations")
    finally:
        await conn.close()


def _timed(http: httpx.Client, url: str, headers: dict[str, str], times: int = 5) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        response = http.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(samples)


def measure_pages(args: argparse.Namespace, workdir: Path) -> None:
    api_key, challenge = asyncio.run(_many_and_feed(args.dsn, args.url))
    asyncio.run(_feed_rows(args.dsn, 1_000_000))
    options = argparse.Namespace(postgres=args.url, redis=None, src=None)
    os.environ["SESSILE_MAX_SESSIONS_PER_USER"] = str(MANY + 10)
    server = refresh.start_sessile(options, workdir, 1)
    try:
        with httpx.Client(timeout=30) as http:
            client = SessionClient(server.base, http=http)
            bearer = {"Authorization": f"Bearer {client.finalize(challenge).access_token}"}
            pages = [
                _timed(http, f"{server.base}/v1/session/me/list?limit=100&offset={offset}", bearer)
                for offset in range(0, MANY, 100)
            ]
            total = http.get(f"{server.base}/v1/session/me/list?limit=1", headers=bearer)
            median, worst = statistics.median(pages), max(pages)
            print(f"list of a user with {total.json()['total']} sessions, 100 a page:"
                  f" median {median:.1f} ms, worst page {worst:.1f} ms")  # fmt: skip
            feed = f"{server.base}/v2/session/apps/default/revocations"
            key = {"Authorization": f"Bearer {api_key}"}
            for after in (0, 500_000, 999_000):
                ms = _timed(http, f"{feed}?after={after}&limit=500", key)
                print(f"revocation feed over 1,000,000 rows, 500 from {after}: {ms:.1f} ms")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--sessions", type=int, default=50, help="load clients")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sessile-scale-"))
    pg = Postgres("scale")
    try:
        pg.init()
        pg.start(max_wal_size="8GB", checkpoint_timeout="30min", shared_buffers="1GB")
        pg.psql("CREATE DATABASE scale")
        args.url = pg.url("scale")
        args.dsn = args.url.replace("postgresql+asyncpg://", "postgresql://")
        os.environ["SESSILE_SECRET_KEY"] = refresh.SECRET
        pg.psql("CREATE DATABASE small")
        small_url = pg.url("small")
        for url in (small_url, args.url):
            asyncio.run(_upgrade(url))
        asyncio.run(_fill(small_url.replace("+asyncpg", ""), 0, 10_000))
        started = time.monotonic()
        asyncio.run(_bulk(args.dsn, 0, args.rows))
        minutes = (time.monotonic() - started) / 60
        size = pg.psql("SELECT pg_size_pretty(pg_total_relation_size('sessions'))", "scale")
        print(f"loaded {args.rows:,} sessions by COPY in {minutes:.1f} min (sessions: {size})",
              flush=True)  # fmt: skip
        # Alternate the two databases, so that the machine's load weighs on both alike.
        runs: dict[str, list[dict[str, Any]]] = {"10,000": [], f"{args.rows:,}": []}
        for _ in range(args.repeat):
            for label, url in zip(runs, (small_url, args.url), strict=True):
                result = measure_refresh(args, workdir, url)
                runs[label].append(result)
                print(f"refresh at {label} rows: {result['cpu_ms']:.3f} ms CPU/refresh,"
                      f" p50 {result['p50']:.2f} ms, {result['rps']:.0f}/s,"
                      f" errors {result['errors']}", flush=True)  # fmt: skip
        small, large = (min(r["cpu_ms"] for r in results) for results in runs.values())
        print(f"refresh CPU at {args.rows:,} / at 10,000 (best of {args.repeat} each):"
              f" {large / small:.2f} (goal <= 1.2)")  # fmt: skip
        measure_pages(args, workdir)
    finally:
        pg.remove()
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


async def _upgrade(url: str) -> None:
    from sessile.store.migrate import upgrade

    db = Database.from_url(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.close()


if __name__ == "__main__":
    main()
