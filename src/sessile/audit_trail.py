"""The audit trail of security events (DESIGN §12): written by the services that act, read
by ``GET …/audit``. Who acted, and from where, comes from ``sessile.audit``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessile.clock import Clock
from sessile.store.audit import AuditEvent, AuditStore

__all__ = ["AuditEvent", "AuditTrail"]


class AuditTrail:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self, event_type: str, *, user_id: str | None = None, data: Mapping[str, Any] | None = None
    ) -> None:
        await self._store.add(event_type, now=self._clock.now(), user_id=user_id, data=data)

    async def page(
        self, *, user_id: str | None, event_type: str | None, after: int, limit: int
    ) -> list[AuditEvent]:
        """Events after the cursor ``after`` (an event id), oldest first."""
        return await self._store.list(
            user_id=user_id, event_type=event_type, after=after, limit=limit
        )
