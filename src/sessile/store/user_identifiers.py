"""Removing a user's own identifier from inside a session (DESIGN §12), never the last.

Adding one goes through ``UserStore.add_identifier``, like the management API's."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import identifiers, users
from sessile.store.users import Identifier, record_identifier_removed

__all__ = ["IdentifierStore", "Removal"]

Removal = Literal["removed", "last", "missing"]


class IdentifierStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def remove_unless_last(
        self, user_id: str, identifier: Identifier, *, now: float
    ) -> Removal:
        """Remove the user's identifier unless it is their last way to log in."""
        async with self._engine.begin() as conn:
            # Writing the user row first serialises concurrent removals (the row lock on
            # PostgreSQL, the write lock on SQLite), so two can't each leave the other last.
            touched = await conn.execute(
                users.update().where(users.c.id == user_id).values(updated_at=now)
            )
            if touched.rowcount != 1:
                return "missing"
            count = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(identifiers)
                .where(identifiers.c.user_id == user_id)
            )
            mine = sa.and_(
                identifiers.c.user_id == user_id,
                identifiers.c.type == identifier.type,
                identifiers.c.value == identifier.value,
            )
            if (
                await conn.scalar(sa.select(sa.func.count()).select_from(identifiers).where(mine))
                == 0
            ):
                return "missing"
            if int(count or 0) <= 1:
                return "last"
            removed = await conn.execute(
                identifiers.delete().where(mine).returning(identifiers.c.verified_at)
            )
            verified_at = removed.scalar()
            await record_identifier_removed(
                conn, user_id, identifier, verified=verified_at is not None, now=now
            )
        return "removed"
