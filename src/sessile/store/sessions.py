"""Session rows: creation, conditional rotation, revocation, listing (DESIGN §5)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile.events import types as event
from sessile.store.audit import record_audit
from sessile.store.events import record_event
from sessile.store.schema import revocations, sessions

__all__ = ["SessionRow", "SessionStore"]


@dataclass(frozen=True)
class SessionRow:
    id: str
    user_id: str
    jkt: str
    auth_method: str
    refresh_hash: str
    generation: int
    previous_hash: str | None
    rotated_at: float | None
    created_at: float
    last_seen_at: float
    expires_at: float
    revoked_at: float | None
    revoked_reason: str | None
    device_type: str
    device_model: str | None
    os_version: str | None
    browser: str | None
    country_code: str | None
    ip: str | None
    user_agent: str | None


def _row(r: sa.Row[tuple[object, ...]]) -> SessionRow:
    return SessionRow(**r._asdict())


def _active(*, now: float, idle_since: float) -> sa.ColumnElement[bool]:
    return sa.and_(
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > now,
        sessions.c.last_seen_at > idle_since,
    )


async def _revoked_event(
    conn: AsyncConnection, user_id: str, session_id: str, reason: str, now: float
) -> None:
    await record_event(
        conn,
        event.SESSION_REVOKED,
        user_id=user_id,
        payload={"session_id": session_id, "reason": reason},
        now=now,
    )
    await record_audit(
        conn,
        "session.revoked",
        now=now,
        user_id=user_id,
        data={"session_id": session_id, "reason": reason},
    )


# Built once: every refresh runs it.
_ROTATE_LIVE = (
    sessions.update()
    .where(
        sessions.c.id == sa.bindparam("p_id"),
        sessions.c.generation == sa.bindparam("p_generation"),
        sessions.c.refresh_hash == sa.bindparam("p_hash"),
        sessions.c.jkt == sa.bindparam("p_jkt"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > sa.bindparam("p_now"),
        sessions.c.last_seen_at > sa.bindparam("p_idle_since"),
    )
    .values(
        generation=sa.bindparam("p_next_generation"),
        previous_hash=sa.bindparam("p_hash"),
        refresh_hash=sa.bindparam("p_new_hash"),
        rotated_at=sa.bindparam("p_now"),
        last_seen_at=sa.bindparam("p_now"),
    )
    .returning(*sessions.c)
)


class SessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def create(self, row: SessionRow) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(sessions.insert().values(**row.__dict__))
            await record_event(
                conn,
                event.SESSION_CREATED,
                user_id=row.user_id,
                payload={
                    "session_id": row.id,
                    "auth_method": row.auth_method,
                    "device_type": row.device_type,
                    "country_code": row.country_code,
                },
                now=row.created_at,
            )
            await record_audit(
                conn,
                "login.succeeded",
                now=row.created_at,
                user_id=row.user_id,
                data={"method": row.auth_method, "session_id": row.id},
            )

    async def get(self, session_id: str) -> SessionRow | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sessions.select().where(sessions.c.id == session_id))).first()
        return None if row is None else _row(row)

    async def rotate_live(
        self,
        session_id: str,
        *,
        generation: int,
        current_hash: str,
        new_hash: str,
        jkt: str,
        now: float,
        idle_since: float,
    ) -> SessionRow | None:
        """The refresh hot path in one statement: rotate a live session whose current token
        and key these are, and return the updated row; None when anything differs."""
        values = {
            "p_id": session_id,
            "p_generation": generation,
            "p_next_generation": generation + 1,
            "p_hash": current_hash,
            "p_new_hash": new_hash,
            "p_jkt": jkt,
            "p_now": now,
            "p_idle_since": idle_since,
        }
        # One statement is atomic by itself: no BEGIN/COMMIT round trips on the hot path.
        async with self._autocommit.connect() as conn:
            row = (await conn.execute(_ROTATE_LIVE, values)).first()
        return None if row is None else _row(row)

    async def touch(self, session_id: str, *, now: float) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sessions.update()
                .where(sessions.c.id == session_id, sessions.c.last_seen_at < now)
                .values(last_seen_at=now)
            )

    async def revoke(
        self, session_id: str, *, reason: str, now: float, user_id: str | None = None
    ) -> bool:
        """Revoke one live session (of ``user_id`` when given); True if it was live.

        The revocation feed gets its row in the same transaction.
        """
        condition = sa.and_(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        if user_id is not None:
            condition = sa.and_(condition, sessions.c.user_id == user_id)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sessions.update()
                .where(condition)
                .values(revoked_at=now, revoked_reason=reason)
                .returning(sessions.c.user_id)
            )
            owner = result.scalar()
            if owner is not None:
                await conn.execute(
                    revocations.insert().values(
                        user_id=owner, session_id=session_id, revoked_at=now
                    )
                )
                await _revoked_event(conn, owner, session_id, reason, now)
        return owner is not None

    async def revoke_user(
        self,
        user_id: str,
        *,
        reason: str,
        now: float,
        except_id: str | None = None,
        auth_method: str | None = None,
    ) -> int:
        """Revoke a user's live sessions but ``except_id`` (only those made by
        ``auth_method`` when given); the feed gets a row per session, and a user-wide row
        when all of them go."""
        condition = sa.and_(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        if except_id is not None:
            condition = sa.and_(condition, sessions.c.id != except_id)
        if auth_method is not None:
            condition = sa.and_(condition, sessions.c.auth_method == auth_method)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sessions.update()
                .where(condition)
                .values(revoked_at=now, revoked_reason=reason)
                .returning(sessions.c.id)
            )
            revoked = list(result.scalars())
            rows = [{"user_id": user_id, "session_id": sid, "revoked_at": now} for sid in revoked]
            if except_id is None and auth_method is None:
                # Also a user-wide row: it covers a token minted while this ran.
                rows.append({"user_id": user_id, "session_id": None, "revoked_at": now})
            if rows:
                await conn.execute(revocations.insert(), rows)
            for session_id in revoked:
                await _revoked_event(conn, user_id, session_id, reason, now)
        return len(revoked)

    async def list_active(
        self, user_id: str, *, now: float, idle_since: float, limit: int, offset: int
    ) -> tuple[list[SessionRow], int]:
        """Live sessions of a user, newest first, and how many there are in all."""
        condition = sa.and_(sessions.c.user_id == user_id, _active(now=now, idle_since=idle_since))
        async with self._engine.connect() as conn:
            total = await conn.scalar(
                sa.select(sa.func.count()).select_from(sessions).where(condition)
            )
            rows = (
                await conn.execute(
                    sessions.select()
                    .where(condition)
                    .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        return [_row(r) for r in rows], int(total or 0)
