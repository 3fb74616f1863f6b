"""The audit trail: security events with their actor, IP, user agent and time, kept for
``audit_retention`` and listed by the management API (``GET …/audit``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from sessile.audit import current_facts
from sessile.store.drivers import One, Steps
from sessile.store.schema import audit_events
from sessile.store.sql import Store, bound, prepared, shaped

__all__ = ["AuditEvent", "AuditStore", "audit_steps"]


@dataclass(frozen=True)
class AuditEvent:
    id: int
    type: str
    user_id: str | None
    actor: str
    ip: str | None
    user_agent: str | None
    at: float
    data: Mapping[str, Any]


_INSERT = prepared(
    lambda: audit_events.insert().values(
        bound("type", "user_id", "actor", "ip", "user_agent", "at", "data")
    )
)


def audit_steps(
    dialect: Dialect,
    event_type: str,
    *,
    now: float,
    user_id: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Steps[None]:
    """The step that writes an audit event in the caller's transaction, with the current
    actor's facts."""
    facts = current_facts()
    yield One(
        _INSERT.on(dialect),
        {
            "type": event_type,
            "user_id": user_id,
            "actor": facts.actor,
            "ip": facts.ip,
            "user_agent": facts.user_agent,
            "at": now,
            "data": dict(data or {}),
        },
    )


def _listing(user_id: bool, event_type: bool) -> sa.Select[Any]:
    query = sa.select(audit_events).where(audit_events.c.id > sa.bindparam("after"))
    if user_id:
        query = query.where(audit_events.c.user_id == sa.bindparam("user_id"))
    if event_type:
        query = query.where(audit_events.c.type == sa.bindparam("event_type"))
    return query.order_by(audit_events.c.id).limit(sa.bindparam("limit"))


class AuditStore(Store):
    async def add(
        self,
        event_type: str,
        *,
        now: float,
        user_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        await self.transaction(
            audit_steps(self.dialect, event_type, now=now, user_id=user_id, data=data)
        )

    async def list(
        self,
        *,
        user_id: str | None = None,
        event_type: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Events after the cursor ``after`` (an event id), oldest first."""
        by_user, by_type = user_id is not None, event_type is not None
        statement = shaped(
            self.dialect, ("audit.list", by_user, by_type), lambda: _listing(by_user, by_type)
        )
        records = await self._records(
            statement, after=after, limit=limit, user_id=user_id, event_type=event_type
        )
        return [AuditEvent(**record) for record in records]
