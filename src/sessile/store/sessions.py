"""Session rows: creation, conditional rotation, revocation, listing (DESIGN §5).

The statements a refresh, a list or a revoke runs on every call go through the
database driver itself (:mod:`sessile.store.drivers`); creation and the refresh's
slow path stay on the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile import event_types as event
from sessile.store.audit import record_audit
from sessile.store.drivers import Driver, Row, Statement
from sessile.store.drivers.base import One, Steps, compile_statement
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
    last_proof_iat: float | None = None
    last_proof_jti: str | None = None
    prev_proof_iat: float | None = None
    prev_proof_jti: str | None = None
    #: A scope granted by a step-up, and until when (DESIGN §12).
    granted_scope: str | None = None
    granted_until: float | None = None

    def granted(self, now: float) -> str | None:
        """The granted scope while it lasts, else None."""
        if self.granted_scope and self.granted_until is not None and self.granted_until > now:
            return self.granted_scope
        return None


#: What the statements that read or rotate a session return, named from SessionRow:
#: a column added to both is returned by all of them.
RETURNED = tuple(sessions.c[f.name] for f in fields(SessionRow))


def _session(row: Row) -> SessionRow:
    return SessionRow(*row)


def _p(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name)


def _live() -> sa.ColumnElement[bool]:
    return sa.and_(
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > _p("now"),
        sessions.c.last_seen_at > _p("idle_since"),
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


def _rotation(*conditions: sa.ColumnElement[bool], **values: Any) -> sa.Update:
    """Rotate a live session whose current token and key these are; return the new row."""
    return (
        sessions.update()
        .where(
            sessions.c.id == _p("id"),
            sessions.c.generation == _p("generation"),
            sessions.c.refresh_hash == _p("hash"),
            sessions.c.jkt == _p("jkt"),
            _live(),
            *conditions,
        )
        .values(
            generation=_p("next_generation"),
            previous_hash=_p("hash"),
            refresh_hash=_p("new_hash"),
            rotated_at=_p("now"),
            last_seen_at=_p("now"),
            **values,
        )
        .returning(*RETURNED)
    )


# A proof becomes a session's newest; the newest before it is kept too.
_TAKE_PROOF = {
    "prev_proof_iat": sessions.c.last_proof_iat,
    "prev_proof_jti": sessions.c.last_proof_jti,
    "last_proof_iat": _p("iat"),
    "last_proof_jti": _p("jti"),
}
# The rows of a proof's key, locked in one order (PostgreSQL; SQLite has one writer at a
# time): a statement that reads the key's proofs after this waits for any rotation of
# the key still in flight, and reads what it wrote. Without the lock, two rotations
# of two sessions of one key could each take the same proof, neither seeing the other.
LOCK_KEY = (
    sa.select(sessions.c.id, sessions.c.last_proof_iat)
    .where(sessions.c.jkt == _p("jkt"))
    .order_by(sessions.c.id)
    .with_for_update()
)
_key_rows = LOCK_KEY.cte("key_rows")
# The common refresh: the proof must be newer than every refresh proof its key's
# sessions took, and becomes this session's newest. One write carries the rotation
# and the proof's replay check (DESIGN §3.7, §11).
ROTATE_WITH_PROOF = _rotation(
    ~sa.exists().where(_key_rows.c.last_proof_iat >= _p("iat")),
    **_TAKE_PROOF,
)
# The slow path's rotation, once the proof went through the replay store.
ROTATE = _rotation()
GET = sa.select(*RETURNED).where(sessions.c.id == _p("id"))
# A page and the total in one statement; an empty page counts apart.
LIST_PAGE = (
    sa.select(*RETURNED, sa.func.count().over().label("total"))
    .where(sessions.c.user_id == _p("user_id"), _live())
    .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
    .limit(_p("limit"))
    .offset(_p("offset"))
)
LIST_COUNT = (
    sa.select(sa.func.count())
    .select_from(sessions)
    .where(sessions.c.user_id == _p("user_id"), _live())
)
# The rotation's proofs are strictly newer each time, so of those a session took, the
# ones not older than its previous are exactly its last two. Did one of the key's
# sessions take this proof (the jti), or may it have (older than the previous)?
PROOF_SEEN = sa.select(
    sa.or_(sessions.c.last_proof_jti == _p("jti"), sessions.c.prev_proof_jti == _p("jti"))
).where(
    sessions.c.jkt == _p("jkt"),
    sa.or_(
        sessions.c.last_proof_jti == _p("jti"),
        sessions.c.prev_proof_jti == _p("jti"),
        sessions.c.prev_proof_iat > _p("iat"),
    ),
)
# A proof the slow path took becomes the newest of its key's sessions that had none
# as new, so the rotation never takes it again.
PROOF_TAKEN = (
    sessions.update()
    .where(
        sessions.c.jkt == _p("jkt"),
        sa.or_(sessions.c.last_proof_iat.is_(None), sessions.c.last_proof_iat < _p("iat")),
    )
    .values(**_TAKE_PROOF)
)


class _Compiled:
    """Every statement above, compiled once for the driver's dialect."""

    def __init__(self, driver: Driver) -> None:
        def c(statement: sa.ClauseElement) -> Statement:
            return compile_statement(statement, driver.dialect)

        self.rotate_with_proof = c(ROTATE_WITH_PROOF)
        self.rotate = c(ROTATE)
        self.get = c(GET)
        self.list_page = c(LIST_PAGE)
        self.list_count = c(LIST_COUNT)
        self.lock_key = c(LOCK_KEY)
        self.proof_seen = c(PROOF_SEEN)
        self.proof_taken = c(PROOF_TAKEN)


class SessionStore:
    def __init__(self, engine: AsyncEngine, driver: Driver) -> None:
        self._engine = engine
        self._driver = driver
        self._sql = _Compiled(driver)

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
        rows = await self._driver.rows(self._sql.get, {"id": session_id})
        return _session(rows[0]) if rows else None

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
        proof: tuple[float, str] | None = None,
    ) -> SessionRow | None:
        """Rotate a live session whose current token and key these are, and return the
        updated row; None when anything differs.

        With ``proof`` (its ``iat`` and ``jti``), the refresh's common case: the proof
        must also be newer than every refresh proof of its key, and becomes the newest.
        Without it, the caller has checked the proof against the replay store.
        """
        params = {
            "id": session_id,
            "generation": generation,
            "next_generation": generation + 1,
            "hash": current_hash,
            "new_hash": new_hash,
            "jkt": jkt,
            "now": now,
            "idle_since": idle_since,
        }
        statement = self._sql.rotate
        if proof is not None:
            params["iat"], params["jti"] = proof
            statement = self._sql.rotate_with_proof
        rows = await self._driver.rows(statement, params)
        return _session(rows[0]) if rows else None

    async def take_proof(self, jkt: str, *, iat: float, jti: str) -> bool | None:
        """The slow path's proof: None once it is the newest of ``jkt``'s sessions, so no
        rotation takes it again; or, taking nothing, True when one of them took it, and
        False when one may have (it is older than a session's previous).

        One transaction, under the key's lock: a rotation of the key in flight commits
        first, and what it took is seen.
        """
        sql = self._sql
        params = {"jkt": jkt, "iat": iat, "jti": jti}

        def steps() -> Steps[bool | None]:
            yield One(sql.lock_key, params)
            seen = yield One(sql.proof_seen, params)
            if seen:
                return any(bool(row[0]) for row in seen)
            yield One(sql.proof_taken, params)
            return None

        return await self._driver.transaction(steps())

    async def grant(
        self, session_id: str, *, scope: str, until: float, jkt: str, now: float
    ) -> bool:
        """Put a step-up's scope on a live session held by ``jkt``; False if it isn't one."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sessions.update()
                .where(
                    sessions.c.id == session_id,
                    sessions.c.jkt == jkt,
                    sessions.c.revoked_at.is_(None),
                    sessions.c.expires_at > now,
                )
                .values(granted_scope=scope, granted_until=until)
            )
        return result.rowcount == 1

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
        # On the engine, not the driver: the webhook event and the audit row are written
        # by SQLAlchemy in the same transaction as the revocation.
        condition = sa.and_(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
        if user_id is not None:
            condition = sa.and_(condition, sessions.c.user_id == user_id)
        async with self._engine.begin() as conn:
            owner = (
                await conn.execute(
                    sessions.update()
                    .where(condition)
                    .values(revoked_at=now, revoked_reason=reason)
                    .returning(sessions.c.user_id)
                )
            ).scalar()
            if owner is None:
                return False
            await conn.execute(
                revocations.insert().values(user_id=owner, session_id=session_id, revoked_at=now)
            )
            await _revoked_event(conn, owner, session_id, reason, now)
        return True

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
            revoked = list(
                (
                    await conn.execute(
                        sessions.update()
                        .where(condition)
                        .values(revoked_at=now, revoked_reason=reason)
                        .returning(sessions.c.id)
                    )
                ).scalars()
            )
            rows: list[dict[str, Any]] = [
                {"user_id": user_id, "session_id": sid, "revoked_at": now} for sid in revoked
            ]
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
        params = {
            "user_id": user_id,
            "now": now,
            "idle_since": idle_since,
            "limit": limit,
            "offset": offset,
        }
        rows = await self._driver.rows(self._sql.list_page, params)
        if rows:
            return [_session(row[:-1]) for row in rows], int(rows[0][-1])
        if offset == 0:
            return [], 0
        counted = await self._driver.rows(self._sql.list_count, params)
        return [], int(counted[0][0])

    async def end_oldest(
        self, user_id: str, *, keep: int, reason: str, now: float, idle_since: float
    ) -> list[str]:
        """Revoke a user's live sessions past the newest ``keep``; return their ids.

        The revocation feed gets a row per session, in the same transaction.
        """
        live = sa.and_(sessions.c.user_id == user_id, _live())
        async with self._engine.begin() as conn:
            surplus = (
                await conn.execute(
                    sa.select(sessions.c.id)
                    .where(live)
                    .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
                    .offset(keep),
                    {"now": now, "idle_since": idle_since},
                )
            ).scalars()
            ids = list(surplus)
            if not ids:
                return []
            result = await conn.execute(
                sessions.update()
                .where(sessions.c.id.in_(ids), sessions.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=reason)
                .returning(sessions.c.id)
            )
            ended = list(result.scalars())
            if ended:
                await conn.execute(
                    revocations.insert(),
                    [{"user_id": user_id, "session_id": sid, "revoked_at": now} for sid in ended],
                )
            for session_id in ended:
                await _revoked_event(conn, user_id, session_id, reason, now)
        return ended

    async def purge_ended(
        self, *, before: float, idle_timeout: float, batch_size: int, max_batches: int
    ) -> int:
        """Delete sessions that ended (revoked, past their absolute end, or idle) before
        ``before``: at most ``batch_size`` rows per statement and ``max_batches`` statements,
        so a large backlog drains over several runs without long locks. Returns the count."""
        ended = sa.or_(
            sessions.c.revoked_at < before,
            sessions.c.expires_at < before,
            sessions.c.last_seen_at < before - idle_timeout,
        )
        batch = sa.select(sessions.c.id).where(ended).limit(batch_size).scalar_subquery()
        statement = sessions.delete().where(sessions.c.id.in_(batch))
        purged = 0
        for _ in range(max_batches):
            async with self._engine.begin() as conn:
                deleted = (await conn.execute(statement)).rowcount
            purged += deleted
            if deleted < batch_size:
                break
        return purged
