"""Social logins under way, keyed by the hash of their ``state``; used at most once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import oauth_states

__all__ = ["OAuthState", "OAuthStateStore"]


@dataclass(frozen=True)
class OAuthState:
    state_hash: str
    provider: str
    binder_hash: str
    redirect_uri: str
    client_code_challenge: str
    code_verifier: str
    nonce: str | None
    created_at: float
    expires_at: float
    consumed_at: float | None = None


class OAuthStateStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, state: OAuthState) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(oauth_states.insert().values(**state.__dict__))

    async def get(self, state_hash: str) -> OAuthState | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    oauth_states.select().where(oauth_states.c.state_hash == state_hash)
                )
            ).first()
        return None if row is None else OAuthState(**row._asdict())

    async def consume(self, state_hash: str, *, now: float) -> bool:
        """Spend the state; True once, while it is live."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                oauth_states.update()
                .where(
                    oauth_states.c.state_hash == state_hash,
                    oauth_states.c.consumed_at.is_(None),
                    oauth_states.c.expires_at > now,
                )
                .values(consumed_at=now)
            )
        return result.rowcount == 1
