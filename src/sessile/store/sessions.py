"""Session rows: creation, conditional rotation, revocation, listing (DESIGN §5).

The statements a refresh or a list runs on every call, and the refresh's proof checks
on its slow path (:mod:`sessile.store.session_statements`), go through the database
driver itself (:mod:`sessile.store.drivers`). Creation, revocations (whose event and
audit rows commit with them), the grace's touch and step-up grants stay on the engine.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile import event_types as event
from sessile.store.audit import record_audit
from sessile.store.drivers import Driver, Row
from sessile.store.drivers.base import One, Steps
from sessile.store.drivers.sqlite import SqliteDriver
from sessile.store.events import record_event
from sessile.store.rotation_batches import RotationBatches
from sessile.store.schema import identifiers, revocations, sessions
from sessile.store.session_rows import Rotation, SessionRow
from sessile.store.session_statements import Compiled, live_condition
from sessile.store.turn_batches import TurnBatches
from sessile.store.user_identifiers import Identifier, identifier_doc

__all__ = ["SessionStore", "lock_in_order"]


def _session(row: Row) -> SessionRow:
    return SessionRow(*row)


async def lock_in_order(conn: AsyncConnection, condition: sa.ColumnElement[bool]) -> None:
    """Lock the sessions ``condition`` picks in the order the rotations lock their keys'
    rows, before a statement that changes or deletes several of them (a cascade too). In
    another order it could deadlock with a batch of rotations, which locks the rows of
    many keys (:mod:`sessile.store.rotation_batches`). SQLite has one writer at a time."""
    if conn.dialect.name != "sqlite":
        lock = sa.select(sessions.c.id).where(condition).order_by(sessions.c.id)
        await conn.execute(lock.with_for_update())


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


async def _created_payload(conn: AsyncConnection, row: SessionRow) -> dict[str, Any]:
    """``user.session.created``'s fields: the session, the identifier it was opened with
    (the one the login method goes by, proven first; ``{}`` when the user has none), and
    its client as ``metadata``."""
    wanted = "phone_number" if row.auth_method == "otp_sms" else "email_address"
    rows = await conn.execute(
        sa.select(identifiers.c.type, identifiers.c.value, identifiers.c.verified_at)
        .where(identifiers.c.user_id == row.user_id)
        .order_by(
            (identifiers.c.type != wanted),
            identifiers.c.verified_at.is_(None),
            identifiers.c.created_at,
            identifiers.c.value,
        )
        .limit(1)
    )
    found = rows.first()
    identifier = (
        {}
        if found is None
        else identifier_doc(Identifier(found.type, found.value), found.verified_at is not None)
    )
    return {
        "session_id": row.id,
        "identifier": identifier,
        "metadata": {
            "auth_method": row.auth_method,
            "device_type": row.device_type,
            "device_model": row.device_model,
            "os_version": row.os_version,
            "browser": row.browser,
            "country_code": row.country_code,
            "ip": row.ip,
            "user_agent": row.user_agent,
        },
    }


class SessionStore:
    def __init__(self, engine: AsyncEngine, driver: Driver) -> None:
        self._engine = engine
        self._driver = driver
        self._sql = Compiled(driver)
        # PostgreSQL: rotations that arrive while one is in flight share one commit. One
        # statement of rotations at a time leaves the rest of the pool to the hot path,
        # and lets those waiting make the largest batches.
        # SQLite: the rotations of one turn of the event loop share one transaction.
        self._batches: RotationBatches | TurnBatches | None = None
        if self._sql.rotate_batch is not None:
            self._batches = RotationBatches(
                driver,
                self._sql.rotate_with_proof,
                self._sql.rotate_batch,
                running=1,
            )
        elif isinstance(driver, SqliteDriver):
            self._batches = TurnBatches(driver, self._sql.rotate_with_proof)

    async def create(self, row: SessionRow) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(sessions.insert().values(**row.__dict__))
            await record_event(
                conn,
                event.SESSION_CREATED,
                user_id=row.user_id,
                payload=lambda: _created_payload(conn, row),
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
    ) -> Rotation | None:
        """Rotate a live session whose current token and key these are, and return what
        its new tokens need of it; None when anything differs.

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
        if proof is None:
            rows = await self._driver.rows(self._sql.rotate, params)
            return Rotation(*rows[0]) if rows else None
        params["iat"], params["jti"] = proof
        if self._batches is not None:
            row = await self._batches.rotate(params)
            return Rotation(*row) if row is not None else None
        rows = await self._driver.rows(self._sql.rotate_with_proof, params)
        return Rotation(*rows[0]) if rows else None

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

    async def grant_user(self, user_id: str, *, scope: str, until: float, now: float) -> int:
        """Put a scope on every live session of the user (a profile-bound grant)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sessions.update()
                .where(
                    sessions.c.user_id == user_id,
                    sessions.c.revoked_at.is_(None),
                    sessions.c.expires_at > now,
                )
                .values(granted_scope=scope, granted_until=until)
            )
        return int(result.rowcount)

    async def clear_grant(self, session_id: str, *, scope: str) -> bool:
        """Take ``scope`` off the session's granted scopes, if it still holds it (spent, or
        single-use); the others stay. False when it held none."""
        async with self._engine.begin() as conn:
            held = await conn.scalar(
                sa.select(sessions.c.granted_scope).where(sessions.c.id == session_id)
            )
            scopes = (held or "").split()
            if scope not in scopes:
                return False
            rest = " ".join(s for s in scopes if s != scope) or None
            values: dict[str, object] = {"granted_scope": rest}
            if rest is None:
                values["granted_until"] = None
            # Conditional on what was read, so two spends of one grant can't both succeed.
            result = await conn.execute(
                sessions.update()
                .where(sessions.c.id == session_id, sessions.c.granted_scope == held)
                .values(**values)
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
            await lock_in_order(conn, condition)
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
        live = sa.and_(sessions.c.user_id == user_id, live_condition())
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
            await lock_in_order(conn, sessions.c.id.in_(ids))
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
        # A row a rotation holds is left for a later run: the purge never waits for one,
        # so it can't wait on a rotation that waits on it.
        batch = (
            sa.select(sessions.c.id)
            .where(ended)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        statement = sessions.delete().where(sessions.c.id.in_(batch))
        purged = 0
        for _ in range(max_batches):
            async with self._engine.begin() as conn:
                deleted = (await conn.execute(statement)).rowcount
            purged += deleted
            if deleted < batch_size:
                break
        return purged
