"""The replay cache a DPoP check needs, RFC 9449 §11.1: what it asks of a store. The stores
themselves (the database, Redis) live in ``sessile.store.replay``."""

from __future__ import annotations

from typing import Protocol

__all__ = ["ReplayStore"]


class ReplayStore(Protocol):
    async def remember(self, jkt: str, jti: str, *, expires_at: float, now: float) -> bool:
        """Record ``(jkt, jti)`` until ``expires_at``.

        Return True when the pair is new (or its record has expired), False
        when it was already recorded: the proof is a replay. Atomic across
        processes.
        """
        ...
