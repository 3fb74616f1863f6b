"""A user's password hash: replaced or removed by the operator or the user, or dropped
when it came from a sign-up that no proof backed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.audit import record_audit
from sessile.store.schema import users

__all__ = ["PasswordStore"]


class PasswordStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def set_hash(self, user_id: str, password_hash: str | None, *, now: float) -> bool:
        """Replace (or, with None, remove) the password hash; False when there is no such user.

        A password set here (by the operator, or by the user inside a session) is the
        account's own, so it is no longer an unproven sign-up's.
        """
        async with self._engine.begin() as conn:
            result = await conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, password_unproven=False, updated_at=now)
            )
            if result.rowcount == 1:
                kind = "password.changed" if password_hash else "password.removed"
                await record_audit(conn, kind, now=now, user_id=user_id)
        return result.rowcount == 1

    async def drop_unproven(self, user_id: str, *, now: float) -> bool:
        """Remove a password that an unproven sign-up set; True if there was one."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                users.update()
                .where(users.c.id == user_id, users.c.password_unproven.is_(True))
                .values(password_hash=None, password_unproven=False, updated_at=now)
            )
            if result.rowcount == 1:
                await record_audit(
                    conn, "password.removed", now=now, user_id=user_id, data={"unproven": True}
                )
        return result.rowcount == 1
