"""A user's identifiers (DESIGN §6): adding one, proving one, and removing one, either
by the operator or from inside a session (DESIGN §12), where the last one stays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile import event_types as event
from sessile.errors import IdentifierAlreadyExists
from sessile.store.audit import record_audit
from sessile.store.events import record_event
from sessile.store.schema import identifiers, users

__all__ = ["Identifier", "IdentifierStore", "Removal", "identifier_doc"]

Removal = Literal["removed", "last", "missing"]


@dataclass(frozen=True)
class Identifier:
    type: str
    value: str


def identifier_doc(identifier: Identifier, verified: bool) -> dict[str, Any]:
    """An identifier as the lifecycle events carry it."""
    return {"type": identifier.type, "value": identifier.value, "verified": verified}


async def _record_removed(
    conn: AsyncConnection, user_id: str, identifier: Identifier, *, verified: bool, now: float
) -> None:
    """The event and the audit row of a removed identifier, in the removal's transaction."""
    await record_event(
        conn,
        event.IDENTIFIER_DELETED,
        user_id=user_id,
        payload={"identifier": identifier_doc(identifier, verified)},
        now=now,
    )
    await record_audit(
        conn, "identifier.removed", now=now, user_id=user_id, data={"type": identifier.type}
    )


class IdentifierStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, user_id: str, identifier: Identifier, *, now: float, proven: bool) -> bool:
        """Give the user another identifier; False when there is no such user, and
        IdentifierAlreadyExists when someone holds it."""
        try:
            async with self._engine.begin() as conn:
                touched = await conn.execute(
                    users.update().where(users.c.id == user_id).values(updated_at=now)
                )
                if touched.rowcount != 1:
                    return False
                await record_event(
                    conn,
                    event.IDENTIFIER_CREATED,
                    user_id=user_id,
                    payload={"identifier": identifier_doc(identifier, proven)},
                    now=now,
                )
                await record_audit(
                    conn,
                    "identifier.added",
                    now=now,
                    user_id=user_id,
                    data={"type": identifier.type, "verified": proven},
                )
                await conn.execute(
                    identifiers.insert().values(
                        type=identifier.type,
                        value=identifier.value,
                        user_id=user_id,
                        created_at=now,
                        verified_at=now if proven else None,
                    )
                )
        except IntegrityError as exc:
            raise IdentifierAlreadyExists() from exc
        return True

    async def prove(self, user_id: str, identifier: Identifier, *, now: float) -> bool:
        """Mark the user's identifier proven; True only for its first proof."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                identifiers.update()
                .where(
                    identifiers.c.type == identifier.type,
                    identifiers.c.value == identifier.value,
                    identifiers.c.user_id == user_id,
                    identifiers.c.verified_at.is_(None),
                )
                .values(verified_at=now)
            )
            if result.rowcount == 1:
                await record_audit(
                    conn,
                    "identifier.proven",
                    now=now,
                    user_id=user_id,
                    data={"type": identifier.type},
                )
        return result.rowcount == 1

    async def oldest_proven(self, user_id: str) -> Identifier | None:
        """The identifier the user proved first: the account's anchor, which a session
        removes only under a grant that proved that very identifier (stepup/account.py)."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(identifiers.c.type, identifiers.c.value)
                    .where(identifiers.c.user_id == user_id, identifiers.c.verified_at.is_not(None))
                    .order_by(
                        identifiers.c.verified_at,
                        identifiers.c.created_at,
                        identifiers.c.type,
                        identifiers.c.value,
                    )
                    .limit(1)
                )
            ).first()
        return None if row is None else Identifier(row.type, row.value)

    async def remove(self, user_id: str, identifier: Identifier, *, now: float) -> bool:
        """Take an identifier from the user; False when the user does not hold it."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                identifiers.delete()
                .where(
                    identifiers.c.type == identifier.type,
                    identifiers.c.value == identifier.value,
                    identifiers.c.user_id == user_id,
                )
                .returning(identifiers.c.verified_at)
            )
            removed = result.first()
            if removed is None:
                return False
            await conn.execute(users.update().where(users.c.id == user_id).values(updated_at=now))
            await _record_removed(
                conn, user_id, identifier, verified=removed[0] is not None, now=now
            )
        return True

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
            await _record_removed(
                conn, user_id, identifier, verified=verified_at is not None, now=now
            )
        return "removed"
