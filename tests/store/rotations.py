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
