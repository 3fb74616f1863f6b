"""Sessions to rotate, and rotations started as tasks, for the rotation batches' tests."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from sessile.store.database import Database
from sessile.store.session_rows import Rotation, SessionRow
from sessile.store.sessions import SessionStore


async def sessions(database: Database, count: int, **changes: Any) -> list[SessionRow]:
    user_id = (await database.users.create(now=0.0)).id
    rows = []
    for n in range(count):
        row = SessionRow(
            id=f"ses_{n}", user_id=user_id, jkt=f"jkt-{n}", auth_method="otp",
            refresh_hash=f"h0-{n}", generation=0, previous_hash=None, rotated_at=None,
            created_at=10.0, last_seen_at=10.0, expires_at=1000.0, revoked_at=None,
            revoked_reason=None, device_type="desktop", device_model=None, os_version=None,
            browser=None, country_code=None, ip=None, user_agent=None,
        )  # fmt: skip
        row = dataclasses.replace(row, **changes.get(row.id, {}))
        await database.sessions.create(row)
        rows.append(row)
    # A watched driver notes the rotations only: each creation is a transaction too.
    noted = getattr(database.driver, "carried", None)
    if isinstance(noted, list):
        noted.clear()
    return rows


def rotate(
    store: SessionStore,
    row: SessionRow,
    *,
    iat: float = 20.0,
    jti: str | None = None,
    **changes: Any,
) -> asyncio.Task[Rotation | None]:
    args: dict[str, Any] = {
        "generation": row.generation, "current_hash": row.refresh_hash, "jkt": row.jkt,
        "new_hash": f"h1-{row.id}", "now": 20.0, "idle_since": 0.0,
    }  # fmt: skip
    args.update(changes)
    proof = (iat, jti or f"jti-{row.id}")
    return asyncio.create_task(store.rotate_live(row.id, proof=proof, **args))


async def rotated_as_asked(
    database: Database, rows: list[SessionRow], results: list[Rotation | None]
) -> None:
    """Each of ``rows`` rotated by :func:`rotate` with its defaults, and each caller got
    its own session's rotation back."""
    for row, rotated in zip(rows, results, strict=True):
        after = await database.sessions.get(row.id)
        assert after is not None
        assert (after.generation, after.refresh_hash, after.previous_hash) == (
            1, f"h1-{row.id}", row.refresh_hash,
        )  # fmt: skip
        assert (after.last_proof_iat, after.last_proof_jti) == (20.0, f"jti-{row.id}")
        assert rotated == Rotation(row.id, row.user_id, row.expires_at, None, None)


async def untouched(database: Database, rows: list[SessionRow]) -> None:
    """Each of ``rows`` as it was made: not rotated, its key's newest proof unchanged."""
    for row in rows:
        after = await database.sessions.get(row.id)
        assert after is not None
        assert (after.generation, after.refresh_hash) == (0, row.refresh_hash)
        assert after.last_proof_jti == row.last_proof_jti


def carried(database: Database) -> list[int]:
    """How many rotations each statement (or transaction) of a watched driver carried."""
    noted = getattr(database.driver, "carried", None)
    assert isinstance(noted, list)
    return noted
