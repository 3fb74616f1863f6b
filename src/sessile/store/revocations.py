"""The revocation feed: what backends need to reject a revoked session's access tokens early."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import revocations

__all__ = ["Revocation", "RevocationStore"]


@dataclass(frozen=True)
class Revocation:
    seq: int
    user_id: str
    #: None: every session of the user, for tokens issued before ``revoked_at``.
    session_id: str | None
    revoked_at: float


class RevocationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def after(self, seq: int, *, limit: int) -> list[Revocation]:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    revocations.select()
                    .where(revocations.c.seq > seq)
                    .order_by(revocations.c.seq)
                    .limit(limit)
                )
            ).all()
        return [Revocation(r.seq, r.user_id, r.session_id, r.revoked_at) for r in rows]
