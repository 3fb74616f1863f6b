"""Single-use challenge tokens, stored by hash (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import challenge_tokens

__all__ = ["Challenge", "ChallengeStore"]


@dataclass(frozen=True)
class Challenge:
    user_id: str
    auth_method: str
    #: The client's PKCE S256 challenge, when the login was started with one (social login).
    code_challenge: str | None = None
    #: The OTP login config a code login ran under.
    login_config_id: str | None = None


class ChallengeStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        token_hash: str,
        *,
        user_id: str,
        auth_method: str,
        now: float,
        expires_at: float,
        code_challenge: str | None = None,
        login_config_id: str | None = None,
    ) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                challenge_tokens.insert().values(
                    token_hash=token_hash,
                    user_id=user_id,
                    auth_method=auth_method,
                    created_at=now,
                    expires_at=expires_at,
                    code_challenge=code_challenge,
                    login_config_id=login_config_id,
                )
            )

    async def consume(self, token_hash: str, *, now: float) -> Challenge | None:
        """Mark the challenge used and return it, once; None if unknown, used or expired."""
        condition = sa.and_(
            challenge_tokens.c.token_hash == token_hash,
            challenge_tokens.c.used_at.is_(None),
            challenge_tokens.c.expires_at > now,
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(
                challenge_tokens.update()
                .where(condition)
                .values(used_at=now)
                .returning(
                    challenge_tokens.c.user_id,
                    challenge_tokens.c.auth_method,
                    challenge_tokens.c.code_challenge,
                    challenge_tokens.c.login_config_id,
                )
            )
            row = result.first()
        if row is None:
            return None
        return Challenge(row.user_id, row.auth_method, row.code_challenge, row.login_config_id)

    async def spent(self, token_hash: str) -> bool:
        """Whether a challenge with this hash was used already (a replay, not a forgery)."""
        async with self._engine.connect() as conn:
            used = await conn.scalar(
                sa.select(challenge_tokens.c.used_at).where(
                    challenge_tokens.c.token_hash == token_hash
                )
            )
        return used is not None

    async def void_unused(self, user_id: str, auth_methods: list[str], *, now: float) -> int:
        """Spend the user's unused challenge tokens of ``auth_methods``: logins by a method
        just taken away, not yet finalized, end with it. How many there were."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                challenge_tokens.update()
                .where(
                    challenge_tokens.c.user_id == user_id,
                    challenge_tokens.c.auth_method.in_(auth_methods),
                    challenge_tokens.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
        return int(result.rowcount)
