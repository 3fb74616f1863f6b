"""``sessile keys`` over both rings: the token keys always, the body-signing keys once the
first body was signed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sessile.clock import SystemClock
from sessile.keys import BodyKeyRing, BodySigner
from sessile.store.database import Database

SECRET = "test-secret-" + "x" * 40


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SESSILE_DATA_DIR": str(data_dir), "SESSILE_SECRET_KEY": SECRET}
    return subprocess.run(
        [sys.executable, "-m", "sessile", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _sign_a_body(data_dir: Path) -> str:
    async def work() -> str:
        db = Database.from_url(f"sqlite+aiosqlite:///{data_dir / 'sessile.db'}")
        try:
            ring = BodyKeyRing(
                db.keys, SECRET.encode(), SystemClock(), publish_delay=600,
                rotation_interval=30 * 86400,
            )  # fmt: skip
            return (await BodySigner(ring).sign(b"{}")).kid
        finally:
            await db.close()

    return asyncio.run(work())


def test_keys_rotate_and_list_cover_the_body_ring_once_it_has_a_key(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    first = _cli(tmp_path, "keys", "rotate")
    assert first.returncode == 0, first.stderr
    assert [line.split()[3] for line in first.stdout.splitlines()] == ["(ES256)"], (
        "no body was signed yet: no RSA key is made"
    )

    kid = _sign_a_body(tmp_path)
    second = _cli(tmp_path, "keys", "rotate")
    assert [line.split()[3] for line in second.stdout.splitlines()] == ["(ES256)", "(PS256)"]
    listing = _cli(tmp_path, "keys", "list").stdout.splitlines()
    old = next(line for line in listing if line.startswith(kid))
    assert old.split()[1:3] == ["PS256", "signing"], "until the new key's publish delay"
    assert sum(" PS256 " in line for line in listing) == 2
    assert sum(" ES256 " in line for line in listing) == 2
