"""Session rows: creation, conditional rotation, revocation, listing (DESIGN §5).

The statements a refresh or a list runs on every call, and the refresh's proof checks
on its slow path, are compiled apart (:mod:`sessile.store.session_statements`); the
others are the store's own. A creation or a revocation commits with its event and audit
rows, in one transaction.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import sqlalchemy as sa

from sessile import event_types as event
from sessile.errors import IdentifierAlreadyExists
from sessile.store.audit import audit_steps
from sessile.store.drivers import Driver, IntegrityViolation, Row
from sessile.store.drivers.base import One, Statement, Steps
from sessile.store.drivers.sqlite import SqliteDriver
from sessile.store.events import event_steps, subscribers_steps
from sessile.store.locking import in_order, lock_steps
from sessile.store.purge import PurgeBounds, run_in_batches
from sessile.store.rotation_batches import RotationBatches
from sessile.store.schema import identifiers, revocations, sessions
from sessile.store.session_rows import Rotation, SessionRow
from sessile.store.session_statements import Compiled, live_condition
from sessile.store.sql import Store, bound, each, fetch, names, numbered, prepared, shaped
from sessile.store.turn_batches import TurnBatches
from sessile.store.user_identifiers import Identifier, identifier_doc
from sessile.store.users import NewUser, new_user_steps

__all__ = ["SessionStore"]


def _session(row: Row) -> SessionRow:
    return SessionRow(*row)


def _p(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name)


_COLUMNS = [field.name for field in fields(SessionRow)]


def _revoking(condition: sa.ColumnElement[bool], returned: sa.ColumnElement[Any]) -> sa.Update:
    """Revoke the sessions ``condition`` picks (binds ``now`` and ``reason``)."""
    return (
        sessions.update()
        .where(condition)
        .values(revoked_at=_p("now"), revoked_reason=_p("reason"))
        .returning(returned)
    )


def _one(of_user: bool) -> sa.ColumnElement[bool]:
    """A live session (binds ``id``), of the user ``user_id`` when ``of_user``."""
    condition = sa.and_(sessions.c.id == _p("id"), sessions.c.revoked_at.is_(None))
    if of_user:
        condition = sa.and_(condition, sessions.c.user_id == _p("user_id"))
    return condition


def _of_user(but_one: bool, of_method: bool) -> sa.ColumnElement[bool]:
    """A user's live sessions (binds ``user_id``), but ``except_id`` when ``but_one``,
    only those made by ``auth_method`` when ``of_method``."""
    condition = sa.and_(sessions.c.user_id == _p("user_id"), sessions.c.revoked_at.is_(None))
    if but_one:
        condition = sa.and_(condition, sessions.c.id != _p("except_id"))
    if of_method:
        condition = sa.and_(condition, sessions.c.auth_method == _p("auth_method"))
    return condition


def _listed(count: int) -> sa.ColumnElement[bool]:
    """The sessions of ``count`` ids (binds ``id0``…)."""
    return sessions.c.id.in_(names("id", count))


class SessionStore(Store):
    _insert = prepared(lambda: sessions.insert().values(bound(*_COLUMNS)))
    # The identifier a session was opened with: the one its login method goes by
    # (``wanted``), proven first.
    _opened_with = prepared(
        lambda: (
            sa.select(identifiers.c.type, identifiers.c.value, identifiers.c.verified_at)
            .where(identifiers.c.user_id == _p("user_id"))
            .order_by(
                (identifiers.c.type != _p("wanted")),
                identifiers.c.verified_at.is_(None),
                identifiers.c.created_at,
                identifiers.c.value,
            )
            .limit(1)
        )
    )
    _grant = prepared(
        lambda: (
            sessions.update()
            .where(
                sessions.c.id == _p("id"),
                sessions.c.jkt == _p("jkt"),
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > _p("now"),
            )
            .values(granted_scope=_p("scope"), granted_until=_p("until"))
            .returning(sessions.c.id)
        )
    )
    _grant_user = prepared(
        lambda: (
            sessions.update()
            .where(
                sessions.c.user_id == _p("user_id"),
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > _p("now"),
            )
            .values(granted_scope=_p("scope"), granted_until=_p("until"))
            .returning(sessions.c.id)
        )
    )
    _granted = prepared(
        lambda: sa.select(sessions.c.granted_scope).where(sessions.c.id == _p("id"))
    )
    # Conditional on what was read, so two spends of one grant can't both succeed.
    _keep_granted = prepared(
        lambda: (
            sessions.update()
            .where(sessions.c.id == _p("id"), sessions.c.granted_scope == _p("held"))
            .values(granted_scope=_p("rest"))
            .returning(sessions.c.id)
        )
    )
    _end_grant = prepared(
        lambda: (
            sessions.update()
            .where(sessions.c.id == _p("id"), sessions.c.granted_scope == _p("held"))
            .values(granted_scope=None, granted_until=None)
            .returning(sessions.c.id)
        )
    )
    _touch = prepared(
        lambda: (
            sessions.update()
            .where(sessions.c.id == _p("id"), sessions.c.last_seen_at < _p("now"))
            .values(last_seen_at=_p("now"))
        )
    )
    _revoke = prepared(lambda: _revoking(_one(of_user=False), sessions.c.user_id))
    _revoke_of_user = prepared(lambda: _revoking(_one(of_user=True), sessions.c.user_id))
    _feed = prepared(
        lambda: revocations.insert().values(
            user_id=_p("user_id"), session_id=_p("session_id"), revoked_at=_p("revoked_at")
        )
    )
    # A user's live sessions past the newest ``keep``.
    _surplus = prepared(
        lambda: (
            sa.select(sessions.c.id)
            .where(sessions.c.user_id == _p("user_id"), live_condition())
            .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
            .offset(_p("keep"))
        )
    )
    # A row a rotation holds is left for a later run: the purge never waits for one, so
    # it can't wait on a rotation that waits on it.
    _purge = prepared(
        lambda: (
            sessions.delete()
            .where(
                sessions.c.id.in_(
                    sa.select(sessions.c.id)
                    .where(
                        sa.or_(
                            sessions.c.revoked_at < _p("before"),
                            sessions.c.expires_at < _p("before"),
                            sessions.c.last_seen_at < _p("idle_before"),
                        )
                    )
                    .limit(_p("batch"))
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
            )
            .returning(sessions.c.id)
        )
    )

    def __init__(self, driver: Driver) -> None:
        super().__init__(driver)
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

    async def create(
        self,
        row: SessionRow,
        *,
        keep: int | None = None,
        idle_since: float = 0.0,
        new_user: NewUser | None = None,
    ) -> list[str]:
        """Store a new session with its event and audit rows. With ``keep``, in the same
        transaction, revoke the user's sessions live since ``idle_since`` past the newest
        ``keep`` (the new one among them), for ``session_limit``; the ids of those revoked.

        With ``new_user``, the session's user is made in the same transaction, first: a
        user's first session has no other to end. IdentifierAlreadyExists when another
        user holds one of its identifiers, and then neither is made."""

        def steps() -> Steps[list[str]]:
            subscribers = yield from subscribers_steps(self.dialect)
            if new_user is not None:
                yield from new_user_steps(self.dialect, new_user, subscribers=subscribers)
            yield One(self._insert, row.__dict__)
            yield from event_steps(
                self.dialect,
                event.SESSION_CREATED,
                user_id=row.user_id,
                payload=lambda: self._created_payload(row),
                now=row.created_at,
                subscribers=subscribers,
            )
            yield from audit_steps(
                self.dialect,
                "login.succeeded",
                now=row.created_at,
                user_id=row.user_id,
                data={"method": row.auth_method, "session_id": row.id},
            )
            if keep is None or new_user is not None:
                return []
            return (
                yield from self._end_surplus(
                    row.user_id, keep=keep, now=row.created_at, idle_since=idle_since
                )
            )

        try:
            return await self.transaction(steps())
        except IntegrityViolation as exc:
            if new_user is None:
                raise
            raise IdentifierAlreadyExists() from exc

    def _created_payload(self, row: SessionRow) -> Steps[dict[str, Any]]:
        """``user.session.created``'s fields: the session, the identifier it was opened
        with (the one the login method goes by, proven first; ``{}`` when the user has
        none), and its client as ``metadata``."""
        wanted = "phone_number" if row.auth_method == "otp_sms" else "email_address"
        found = yield from fetch(self._opened_with, user_id=row.user_id, wanted=wanted)
        identifier = (
            {}
            if not found
            else identifier_doc(
                Identifier(found[0]["type"], found[0]["value"]),
                found[0]["verified_at"] is not None,
            )
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

    async def get(self, session_id: str) -> SessionRow | None:
        rows = await self.driver.rows(self._sql.get, {"id": session_id})
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
            rows = await self.driver.rows(self._sql.rotate, params)
            return Rotation(*rows[0]) if rows else None
        params["iat"], params["jti"] = proof
        if self._batches is not None:
            row = await self._batches.rotate(params)
            return Rotation(*row) if row is not None else None
        rows = await self.driver.rows(self._sql.rotate_with_proof, params)
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

        return await self.driver.transaction(steps())

    async def grant(
        self, session_id: str, *, scope: str, until: float, jkt: str, now: float
    ) -> bool:
        """Put a step-up's scope on a live session held by ``jkt``; False if it isn't one."""
        granted = await self._changed(
            self._grant, id=session_id, jkt=jkt, scope=scope, until=until, now=now
        )
        return granted == 1

    async def grant_user(self, user_id: str, *, scope: str, until: float, now: float) -> int:
        """Put a scope on every live session of the user (a profile-bound grant)."""
        return await self._changed(
            self._grant_user, user_id=user_id, scope=scope, until=until, now=now
        )

    async def clear_grant(self, session_id: str, *, scope: str) -> bool:
        """Take ``scope`` off the session's granted scopes, if it still holds it (spent, or
        single-use); the others stay. False when it held none."""

        def steps() -> Steps[bool]:
            read = yield from fetch(self._granted, id=session_id)
            held = read[0]["granted_scope"] if read else None
            scopes = (held or "").split()
            if scope not in scopes:
                return False
            rest = " ".join(s for s in scopes if s != scope) or None
            change = self._end_grant if rest is None else self._keep_granted
            changed = yield One(change, {"id": session_id, "held": held, "rest": rest})
            return bool(changed)

        return await self.transaction(steps())

    async def touch(self, session_id: str, *, now: float) -> None:
        await self._records(self._touch, id=session_id, now=now)

    async def revoke(
        self, session_id: str, *, reason: str, now: float, user_id: str | None = None
    ) -> bool:
        """Revoke one live session (of ``user_id`` when given); True if it was live.

        The revocation feed gets its row in the same transaction.
        """
        revoke = self._revoke if user_id is None else self._revoke_of_user
        params = {"id": session_id, "user_id": user_id, "now": now, "reason": reason}

        def steps() -> Steps[bool]:
            owners = yield from fetch(revoke, **params)
            if not owners:
                return False
            yield from self._ended(owners[0]["user_id"], [session_id], reason, now)
            return True

        return await self.transaction(steps())

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
        shape = (except_id is not None, auth_method is not None)
        lock = shaped(
            self.dialect, ("sessions.lock_user", *shape), lambda: in_order(_of_user(*shape))
        )
        revoke = shaped(
            self.dialect,
            ("sessions.revoke_user", *shape),
            lambda: _revoking(_of_user(*shape), sessions.c.id),
        )
        params = {
            "user_id": user_id,
            "except_id": except_id,
            "auth_method": auth_method,
            "now": now,
            "reason": reason,
        }

        def steps() -> Steps[int]:
            yield from lock_steps(self.dialect, lock, params)
            revoked = [record["id"] for record in (yield from fetch(revoke, **params))]
            # All of them: also a user-wide row, which covers a token minted while this ran.
            every = except_id is None and auth_method is None
            yield from self._ended(user_id, revoked, reason, now, user_wide=every)
            return len(revoked)

        return await self.transaction(steps())

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
        rows = await self.driver.rows(self._sql.list_page, params)
        if rows:
            return [_session(row[:-1]) for row in rows], int(rows[0][-1])
        if offset == 0:
            return [], 0
        counted = await self.driver.rows(self._sql.list_count, params)
        return [], int(counted[0][0])

    def _end_surplus(
        self, user_id: str, *, keep: int, now: float, idle_since: float
    ) -> Steps[list[str]]:
        """Revoke a user's live sessions past the newest ``keep``, each with its row in the
        revocation feed; their ids."""
        surplus = yield from fetch(
            self._surplus, user_id=user_id, keep=keep, now=now, idle_since=idle_since
        )
        ids = [record["id"] for record in surplus]
        if not ids:
            return []
        lock, revoke = self._ending(len(ids))
        listed = numbered("id", ids)
        yield from lock_steps(self.dialect, lock, listed)
        reason = "session_limit"
        ended = yield from fetch(revoke, **listed, now=now, reason=reason)
        ended_ids = [record["id"] for record in ended]
        yield from self._ended(user_id, ended_ids, reason, now)
        return ended_ids

    def _ended(
        self,
        user_id: str,
        session_ids: list[str],
        reason: str,
        now: float,
        *,
        user_wide: bool = False,
    ) -> Steps[None]:
        """What follows revoking a user's sessions, in its transaction: a row per session in
        the revocation feed (and one for the whole user when ``user_wide``), and each
        one's event and audit row."""
        rows: list[dict[str, Any]] = [
            {"user_id": user_id, "session_id": sid, "revoked_at": now} for sid in session_ids
        ]
        if user_wide:
            rows.append({"user_id": user_id, "session_id": None, "revoked_at": now})
        yield from each(self._feed, rows)
        if not session_ids:
            return
        # One read of the webhook endpoints for every session's event.
        subscribers = yield from subscribers_steps(self.dialect)
        for session_id in session_ids:
            payload = {"session_id": session_id, "reason": reason}
            yield from event_steps(
                self.dialect,
                event.SESSION_REVOKED,
                user_id=user_id,
                payload=payload,
                now=now,
                subscribers=subscribers,
            )
            yield from audit_steps(
                self.dialect, "session.revoked", now=now, user_id=user_id, data=payload
            )

    def _ending(self, count: int) -> tuple[Statement, Statement]:
        """The statements that lock, then revoke, the live sessions of ``count`` ids."""
        lock = shaped(
            self.dialect, ("sessions.lock_listed", count), lambda: in_order(_listed(count))
        )
        revoke = shaped(
            self.dialect,
            ("sessions.end_listed", count),
            lambda: _revoking(
                sa.and_(_listed(count), sessions.c.revoked_at.is_(None)), sessions.c.id
            ),
        )
        return lock, revoke

    async def purge_ended(
        self, *, before: float, idle_timeout: float, batch_size: int, max_batches: int
    ) -> int:
        """Delete sessions that ended (revoked, past their absolute end, or idle) before
        ``before``: at most ``batch_size`` rows per statement and ``max_batches`` statements,
        so a large backlog drains over several runs without long locks. Returns the count."""
        return await run_in_batches(
            self.driver,
            self._purge,
            PurgeBounds(batch_size, max_batches),
            {"before": before, "idle_before": before - idle_timeout},
        )
