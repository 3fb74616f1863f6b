"""Consecutive failed checks per identifier (DESIGN §6), counted in the database so that
every worker and node sees one count."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from sessile.store.schema import login_failures
from sessile.store.sql import Store, prepared, shaped
from sessile.store.user_identifiers import Identifier

__all__ = ["FailureCount", "LoginFailureStore"]


@dataclass(frozen=True)
class FailureCount:
    failures: int
    locked_until: float | None


_KEY = sa.and_(
    login_failures.c.identifier_type == sa.bindparam("type"),
    login_failures.c.identifier_value == sa.bindparam("value"),
)


def _add(dialect_name: str) -> sa.ClauseElement:
    """Count one more failure of an identifier (binds ``type``, ``value`` and ``now``)."""
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(login_failures).values(
        identifier_type=sa.bindparam("type"),
        identifier_value=sa.bindparam("value"),
        failures=1,
        updated_at=sa.bindparam("now"),
    )
    return statement.on_conflict_do_update(
        index_elements=[login_failures.c.identifier_type, login_failures.c.identifier_value],
        set_={"failures": login_failures.c.failures + 1, "updated_at": sa.bindparam("now")},
    ).returning(login_failures.c.failures)


class LoginFailureStore(Store):
    _get = prepared(
        lambda: sa.select(login_failures.c.failures, login_failures.c.locked_until).where(_KEY)
    )
    _lock = prepared(
        lambda: (
            login_failures.update()
            .where(
                _KEY,
                sa.or_(
                    login_failures.c.locked_until.is_(None),
                    login_failures.c.locked_until < sa.bindparam("until"),
                ),
            )
            .values(locked_until=sa.bindparam("until"))
        )
    )
    _clear = prepared(
        lambda: login_failures.delete().where(_KEY).returning(login_failures.c.identifier_type)
    )

    async def get(self, identifier: Identifier) -> FailureCount | None:
        record = await self._record(self._get, type=identifier.type, value=identifier.value)
        return None if record is None else FailureCount(record["failures"], record["locked_until"])

    async def add(self, identifier: Identifier, *, now: float) -> int:
        """Count one more failure, atomically across processes; the new count."""
        statement = shaped(self.dialect, ("login_failures.add",), lambda: _add(self.dialect.name))
        record = await self._record(
            statement, type=identifier.type, value=identifier.value, now=now
        )
        assert record is not None
        return int(record["failures"])

    async def lock(self, identifier: Identifier, *, until: float) -> None:
        """Lock until ``until``, never shortening a lock already longer."""
        await self._records(self._lock, type=identifier.type, value=identifier.value, until=until)

    async def clear(self, identifier: Identifier) -> bool:
        return await self._changed(self._clear, type=identifier.type, value=identifier.value) == 1
