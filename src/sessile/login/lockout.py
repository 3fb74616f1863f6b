"""A growing lockout per identifier (DESIGN §6, OWASP ASVS V6.3.1, NIST SP 800-63B §5.2.2).

Failed code checks and failed passwords count against the identifier they were for,
across challenges and across processes, whether or not an account exists (so the lockout
says nothing about that). After ``threshold`` consecutive failures each further one locks
the identifier for ``base`` seconds, doubling up to ``longest``; at ``hard_cap`` it stays
locked until an operator clears it. A success resets the count. Keycloak's brute-force
detection works the same way.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from sessile.clock import Clock
from sessile.config import Settings
from sessile.errors import RateLimited
from sessile.store.login_failures import LoginFailureStore
from sessile.store.user_identifiers import Identifier

__all__ = ["Lockout", "LockoutPolicy"]

log = logging.getLogger("sessile.login")

#: How long a hard lock lasts: until an operator clears it, in practice.
_FOREVER = 100 * 365 * 86_400.0


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int
    base: float
    longest: float
    hard_cap: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            settings.lockout_threshold,
            settings.lockout_base,
            settings.lockout_max,
            settings.lockout_hard_cap,
        )

    def lock_for(self, failures: int) -> float:
        """Seconds to lock after the ``failures``-th consecutive failure (0: no lock)."""
        if failures >= self.hard_cap:
            return _FOREVER
        if failures <= self.threshold:
            return 0.0
        doublings = min(failures - self.threshold - 1, 32)
        return float(min(self.base * 2.0**doublings, self.longest))


class Lockout:
    def __init__(self, store: LoginFailureStore, clock: Clock, policy: LockoutPolicy) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy

    async def check(self, identifier: Identifier) -> bool:
        """Raise RateLimited, with the wait, while the identifier is locked; else whether
        failures of it are counted (for :meth:`succeeded`)."""
        count = await self._store.get(identifier)
        now = self._clock.now()
        if count is not None and count.locked_until is not None and count.locked_until > now:
            raise RateLimited(
                max(1, math.ceil(min(count.locked_until - now, 86_400))),
                "Too many failed attempts for this account; try again later.",
            )
        return count is not None

    async def failed(self, identifier: Identifier) -> None:
        now = self._clock.now()
        failures = await self._store.add(identifier, now=now)
        wait = self._policy.lock_for(failures)
        if wait > 0:
            await self._store.lock(identifier, until=now + wait)
            log.warning(
                "identifier locked after failed checks",
                extra={
                    "identifier_type": identifier.type,
                    "failures": failures,
                    "seconds": wait,
                },
            )

    async def succeeded(self, identifier: Identifier, *, counted: bool) -> None:
        """Clear the identifier's failures; nothing to do when :meth:`check` found none
        (``counted``), which spares a success its write."""
        if counted:
            await self._store.clear(identifier)

    async def unlock(self, identifier: Identifier) -> bool:
        """Clear the count and any lock (the operator's way out of a hard lock)."""
        return await self._store.clear(identifier)
