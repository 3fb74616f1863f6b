"""Consecutive failed checks per identifier (DESIGN §6), counted in the database so that
every worker and node sees one count."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import login_failures
from sessile.store.user_identifiers import Identifier

__all__ = ["FailureCount", "LoginFailureStore"]


@dataclass(frozen=True)
class FailureCount:
    failures: int
    locked_until: float | None


def _key(identifier: Identifier) -> sa.ColumnElement[bool]:
    return sa.and_(
        login_failures.c.identifier_type == identifier.type,
        login_failures.c.identifier_value == identifier.value,
    )


class LoginFailureStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def get(self, identifier: Identifier) -> FailureCount | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(login_failures.c.failures, login_failures.c.locked_until).where(
                        _key(identifier)
                    )
                )
            ).first()
        return None if row is None else FailureCount(row.failures, row.locked_until)

    async def add(self, identifier: Identifier, *, now: float) -> int:
        """Count one more failure, atomically across processes; the new count."""
        statement = self._insert(login_failures).values(
            identifier_type=identifier.type,
            identifier_value=identifier.value,
            failures=1,
            updated_at=now,
        )
        upsert = statement.on_conflict_do_update(
            index_elements=["identifier_type", "identifier_value"],
            set_={"failures": login_failures.c.failures + 1, "updated_at": now},
        ).returning(login_failures.c.failures)
        async with self._engine.begin() as conn:
            return int((await conn.execute(upsert)).scalar_one())

    async def lock(self, identifier: Identifier, *, until: float) -> None:
        """Lock until ``until``, never shortening a lock already longer."""
        async with self._engine.begin() as conn:
            await conn.execute(
                login_failures.update()
                .where(
                    _key(identifier),
                    sa.or_(
                        login_failures.c.locked_until.is_(None),
                        login_failures.c.locked_until < until,
                    ),
                )
                .values(locked_until=until)
            )

    async def clear(self, identifier: Identifier) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(login_failures.delete().where(_key(identifier)))
        return result.rowcount == 1
