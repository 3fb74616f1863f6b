"""A user's password hash: replaced or removed by the operator or the user, or dropped
when it came from a sign-up that no proof backed."""

from __future__ import annotations

import sqlalchemy as sa

from sessile.store.audit import audit_steps
from sessile.store.drivers import One, Steps
from sessile.store.schema import users
from sessile.store.sql import Store, prepared

__all__ = ["PasswordStore"]


class PasswordStore(Store):
    _set_hash = prepared(
        lambda: (
            users.update()
            .where(users.c.id == sa.bindparam("id"))
            .values(
                password_hash=sa.bindparam("password_hash"),
                password_unproven=False,
                updated_at=sa.bindparam("now"),
            )
            .returning(users.c.id)
        )
    )
    _drop_unproven = prepared(
        lambda: (
            users.update()
            .where(users.c.id == sa.bindparam("id"), users.c.password_unproven.is_(sa.true()))
            .values(password_hash=None, password_unproven=False, updated_at=sa.bindparam("now"))
            .returning(users.c.id)
        )
    )

    async def set_hash(self, user_id: str, password_hash: str | None, *, now: float) -> bool:
        """Replace (or, with None, remove) the password hash; False when there is no such user.

        A password set here (by the operator, or by the user inside a session) is the
        account's own, so it is no longer an unproven sign-up's.
        """

        def steps() -> Steps[bool]:
            changed = yield One(
                self._set_hash, {"id": user_id, "password_hash": password_hash, "now": now}
            )
            if not changed:
                return False
            kind = "password.changed" if password_hash else "password.removed"
            yield from audit_steps(self.dialect, kind, now=now, user_id=user_id)
            return True

        return await self.transaction(steps())

    async def drop_unproven(self, user_id: str, *, now: float) -> bool:
        """Remove a password that an unproven sign-up set; True if there was one."""

        def steps() -> Steps[bool]:
            dropped = yield One(self._drop_unproven, {"id": user_id, "now": now})
            if not dropped:
                return False
            yield from audit_steps(
                self.dialect, "password.removed", now=now, user_id=user_id, data={"unproven": True}
            )
            return True

        return await self.transaction(steps())
