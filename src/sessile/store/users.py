"""Users and their identifiers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.errors import IdentifierAlreadyExists
from sessile.ids import new_id
from sessile.store.schema import identifiers, users

__all__ = ["Identifier", "User", "UserStore"]


@dataclass(frozen=True)
class Identifier:
    type: str
    value: str


@dataclass(frozen=True)
class User:
    id: str
    profile: Mapping[str, Any]
    password_hash: str | None
    created_at: float
    updated_at: float
    disabled_at: float | None
    identifiers: tuple[Identifier, ...]


class UserStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        *,
        now: float,
        identifiers_: Sequence[Identifier] = (),
        profile: Mapping[str, Any] | None = None,
        password_hash: str | None = None,
    ) -> User:
        """Create a user; raise IdentifierAlreadyExists if an identifier is taken."""
        user_id = new_id("usr")
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    users.insert().values(
                        id=user_id,
                        profile=dict(profile or {}),
                        password_hash=password_hash,
                        created_at=now,
                        updated_at=now,
                    )
                )
                if identifiers_:
                    await conn.execute(
                        identifiers.insert(),
                        [
                            {
                                "type": i.type,
                                "value": i.value,
                                "user_id": user_id,
                                "created_at": now,
                            }
                            for i in identifiers_
                        ],
                    )
        except IntegrityError as exc:
            raise IdentifierAlreadyExists() from exc
        return User(
            user_id, dict(profile or {}), password_hash, now, now, None, tuple(identifiers_)
        )

    async def get(self, user_id: str) -> User | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(users.select().where(users.c.id == user_id))).first()
            if row is None:
                return None
            idents = (
                await conn.execute(
                    sa.select(identifiers.c.type, identifiers.c.value)
                    .where(identifiers.c.user_id == user_id)
                    .order_by(identifiers.c.type, identifiers.c.value)
                )
            ).all()
        return User(
            id=row.id,
            profile=row.profile,
            password_hash=row.password_hash,
            created_at=row.created_at,
            updated_at=row.updated_at,
            disabled_at=row.disabled_at,
            identifiers=tuple(Identifier(i.type, i.value) for i in idents),
        )

    async def find_by_identifier(self, identifier: Identifier) -> User | None:
        async with self._engine.connect() as conn:
            user_id = await conn.scalar(
                sa.select(identifiers.c.user_id).where(
                    identifiers.c.type == identifier.type, identifiers.c.value == identifier.value
                )
            )
        return None if user_id is None else await self.get(user_id)

    async def set_disabled(self, user_id: str, *, now: float, disabled: bool) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(disabled_at=now if disabled else None, updated_at=now)
            )
        return result.rowcount == 1

    async def delete(self, user_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(users.delete().where(users.c.id == user_id))
        return result.rowcount == 1
