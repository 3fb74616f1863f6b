"""The audit trail: security events with their actor, IP, user agent and time, kept for
``audit_retention`` and listed by the management API (``GET …/audit``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sessile.audit import current_facts
from sessile.store.schema import audit_events

__all__ = ["AuditEvent", "AuditStore", "record_audit"]


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


async def record_audit(
    conn: AsyncConnection,
    event_type: str,
    *,
    now: float,
    user_id: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Write an audit event inside the caller's transaction, with the current actor's facts."""
    facts = current_facts()
    await conn.execute(
        audit_events.insert().values(
            type=event_type,
            user_id=user_id,
            actor=facts.actor,
            ip=facts.ip,
            user_agent=facts.user_agent,
            at=now,
            data=dict(data or {}),
        )
    )


class AuditStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self,
        event_type: str,
        *,
        now: float,
        user_id: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        async with self._engine.begin() as conn:
            await record_audit(conn, event_type, now=now, user_id=user_id, data=data)

    async def list(
        self,
        *,
        user_id: str | None = None,
        event_type: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[AuditEvent]:
        """Events after the cursor ``after`` (an event id), oldest first."""
        query = sa.select(audit_events).where(audit_events.c.id > after)
        if user_id is not None:
            query = query.where(audit_events.c.user_id == user_id)
        if event_type is not None:
            query = query.where(audit_events.c.type == event_type)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query.order_by(audit_events.c.id).limit(limit))
            return [AuditEvent(**r._asdict()) for r in rows]
