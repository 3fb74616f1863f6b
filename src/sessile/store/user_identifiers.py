"""A user's identifiers (DESIGN §6): adding one, proving one, and removing one, either
by the operator or from inside a session (DESIGN §12), where the last one stays."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile import event_types as event
from sessile.errors import IdentifierAlreadyExists
from sessile.store.audit import audit_steps
from sessile.store.drivers import IntegrityViolation, One, Steps
from sessile.store.events import event_steps
from sessile.store.schema import identifiers, users
from sessile.store.sql import Store, bound, each, fetch, prepared

__all__ = ["Identifier", "IdentifierStore", "Removal", "held_steps", "identifier_doc"]

Removal = Literal["removed", "last", "missing"]


@dataclass(frozen=True)
class Identifier:
    type: str
    value: str


def identifier_doc(identifier: Identifier, verified: bool) -> dict[str, Any]:
    """An identifier as the lifecycle events carry it."""
    return {"type": identifier.type, "value": identifier.value, "verified": verified}


def _removed_steps(
    dialect: Dialect, user_id: str, identifier: Identifier, *, verified: bool, now: float
) -> Steps[None]:
    """The event and the audit row of a removed identifier, in the removal's transaction."""
    yield from event_steps(
        dialect,
        event.IDENTIFIER_DELETED,
        user_id=user_id,
        payload={"identifier": identifier_doc(identifier, verified)},
        now=now,
    )
    yield from audit_steps(
        dialect, "identifier.removed", now=now, user_id=user_id, data={"type": identifier.type}
    )


_INSERT = prepared(
    lambda: identifiers.insert().values(
        bound("type", "value", "user_id", "created_at", "verified_at")
    )
)


def held_steps(
    dialect: Dialect,
    user_id: str,
    held: Sequence[Identifier],
    *,
    proven: Collection[Identifier],
    now: float,
) -> Steps[None]:
    """The step that stores ``held`` as ``user_id``'s identifiers, those in ``proven``
    proven now. A taken one fails the transaction with an integrity violation."""
    yield from each(
        _INSERT.on(dialect),
        [
            {
                "type": i.type,
                "value": i.value,
                "user_id": user_id,
                "created_at": now,
                "verified_at": now if i in proven else None,
            }
            for i in held
        ],
    )


#: The user's identifier named by ``type`` and ``value``.
_MINE = sa.and_(
    identifiers.c.type == sa.bindparam("type"),
    identifiers.c.value == sa.bindparam("value"),
    identifiers.c.user_id == sa.bindparam("user_id"),
)


class IdentifierStore(Store):
    _touch_user = prepared(
        lambda: (
            users.update()
            .where(users.c.id == sa.bindparam("user_id"))
            .values(updated_at=sa.bindparam("now"))
            .returning(users.c.id)
        )
    )
    _prove = prepared(
        lambda: (
            identifiers.update()
            .where(_MINE, identifiers.c.verified_at.is_(None))
            .values(verified_at=sa.bindparam("now"))
            .returning(identifiers.c.type)
        )
    )
    _oldest_proven = prepared(
        lambda: (
            sa.select(identifiers.c.type, identifiers.c.value)
            .where(
                identifiers.c.user_id == sa.bindparam("user_id"),
                identifiers.c.verified_at.is_not(None),
            )
            .order_by(
                identifiers.c.verified_at,
                identifiers.c.created_at,
                identifiers.c.type,
                identifiers.c.value,
            )
            .limit(1)
        )
    )
    _of_user = prepared(
        lambda: sa.select(identifiers.c.type, identifiers.c.value).where(
            identifiers.c.user_id == sa.bindparam("user_id")
        )
    )
    _delete = prepared(
        lambda: identifiers.delete().where(_MINE).returning(identifiers.c.verified_at)
    )

    async def add(self, user_id: str, identifier: Identifier, *, now: float, proven: bool) -> bool:
        """Give the user another identifier; False when there is no such user, and
        IdentifierAlreadyExists when someone holds it."""

        def steps() -> Steps[bool]:
            touched = yield One(self._touch_user, {"user_id": user_id, "now": now})
            if not touched:
                return False
            yield from event_steps(
                self.dialect,
                event.IDENTIFIER_CREATED,
                user_id=user_id,
                payload={"identifier": identifier_doc(identifier, proven)},
                now=now,
            )
            yield from audit_steps(
                self.dialect,
                "identifier.added",
                now=now,
                user_id=user_id,
                data={"type": identifier.type, "verified": proven},
            )
            yield from held_steps(
                self.dialect, user_id, [identifier], proven={identifier} if proven else (), now=now
            )
            return True

        try:
            return await self.transaction(steps())
        except IntegrityViolation as exc:
            raise IdentifierAlreadyExists() from exc

    async def prove(self, user_id: str, identifier: Identifier, *, now: float) -> bool:
        """Mark the user's identifier proven; True only for its first proof."""

        def steps() -> Steps[bool]:
            proved = yield One(
                self._prove,
                {
                    "type": identifier.type,
                    "value": identifier.value,
                    "user_id": user_id,
                    "now": now,
                },
            )
            if not proved:
                return False
            yield from audit_steps(
                self.dialect,
                "identifier.proven",
                now=now,
                user_id=user_id,
                data={"type": identifier.type},
            )
            return True

        return await self.transaction(steps())

    async def oldest_proven(self, user_id: str) -> Identifier | None:
        """The identifier the user proved first: the account's anchor, which a session
        removes only under a grant that proved that very identifier (stepup/account.py)."""
        record = await self._record(self._oldest_proven, user_id=user_id)
        return None if record is None else Identifier(record["type"], record["value"])

    async def remove(self, user_id: str, identifier: Identifier, *, now: float) -> bool:
        """Take an identifier from the user; False when the user does not hold it."""

        def steps() -> Steps[bool]:
            removed = yield from fetch(
                self._delete, type=identifier.type, value=identifier.value, user_id=user_id
            )
            if not removed:
                return False
            yield One(self._touch_user, {"user_id": user_id, "now": now})
            yield from _removed_steps(
                self.dialect,
                user_id,
                identifier,
                verified=removed[0]["verified_at"] is not None,
                now=now,
            )
            return True

        return await self.transaction(steps())

    async def remove_unless_last(
        self, user_id: str, identifier: Identifier, *, now: float
    ) -> Removal:
        """Remove the user's identifier unless it is their last way to log in."""

        def steps() -> Steps[Removal]:
            # Writing the user row first serialises concurrent removals (the row lock on
            # PostgreSQL, the write lock on SQLite), so two can't each leave the other last.
            touched = yield One(self._touch_user, {"user_id": user_id, "now": now})
            if not touched:
                return "missing"
            held = yield from fetch(self._of_user, user_id=user_id)
            if identifier not in [Identifier(**record) for record in held]:
                return "missing"
            if len(held) <= 1:
                return "last"
            removed = yield from fetch(
                self._delete, type=identifier.type, value=identifier.value, user_id=user_id
            )
            yield from _removed_steps(
                self.dialect,
                user_id,
                identifier,
                verified=removed[0]["verified_at"] is not None,
                now=now,
            )
            return "removed"

        return await self.transaction(steps())
