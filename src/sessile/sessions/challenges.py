"""Challenge tokens (DESIGN §6): single use, short-lived, stored hashed; finalize redeems one."""

from __future__ import annotations

import secrets

from sessile.clock import Clock
from sessile.crypto import secret_hash
from sessile.errors import InvalidChallengeToken
from sessile.pkce import verifier_matches
from sessile.store.challenges import Challenge, ChallengeStore

__all__ = ["ChallengeTokens"]

_MAX_LENGTH = 128


class ChallengeTokens:
    def __init__(self, store: ChallengeStore, clock: Clock, *, ttl: float = 120.0) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl

    async def issue(
        self, *, user_id: str, auth_method: str, code_challenge: str | None = None
    ) -> str:
        """A token the client trades at ``/login/finalize`` for a session; with
        ``code_challenge`` (PKCE S256), only together with its verifier."""
        token = "chl_" + secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.create(
            secret_hash(token),
            user_id=user_id,
            auth_method=auth_method,
            now=now,
            expires_at=now + self._ttl,
            code_challenge=code_challenge,
        )
        return token

    async def redeem(self, token: str, code_verifier: str | None = None) -> Challenge | None:
        """Spend the token. A wrong verifier spends it too: whoever holds a stolen token
        gets one guess, and the owner starts again."""
        if not token or len(token) > _MAX_LENGTH:
            return None
        challenge = await self._store.consume(secret_hash(token), now=self._clock.now())
        pkce = challenge.code_challenge if challenge is not None else None
        if pkce is not None and not verifier_matches(code_verifier, pkce):
            raise InvalidChallengeToken("The code_verifier does not match this login.")
        return challenge
