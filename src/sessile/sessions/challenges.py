"""Challenge tokens (DESIGN §6): single use, short-lived, stored hashed; finalize redeems one."""

from __future__ import annotations

import hashlib
import secrets

from sessile.clock import Clock
from sessile.store.challenges import Challenge, ChallengeStore

__all__ = ["ChallengeTokens"]

_MAX_LENGTH = 128


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ChallengeTokens:
    def __init__(self, store: ChallengeStore, clock: Clock, *, ttl: float = 120.0) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl

    async def issue(self, *, user_id: str, auth_method: str) -> str:
        """A token the client trades at ``/login/finalize`` for a session."""
        token = "chl_" + secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.create(
            _hash(token),
            user_id=user_id,
            auth_method=auth_method,
            now=now,
            expires_at=now + self._ttl,
        )
        return token

    async def redeem(self, token: str) -> Challenge | None:
        if not token or len(token) > _MAX_LENGTH:
            return None
        return await self._store.consume(_hash(token), now=self._clock.now())
