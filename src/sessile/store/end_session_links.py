"""The links in account notices that end every session (``sessile.notices``): stored as
the SHA-256 of their token, spent once by a conditional update, dead after ``expires_at``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import end_session_links

__all__ = ["EndSessionLinkStore"]


class EndSessionLinkStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, token_hash: str, user_id: str, *, now: float, expires_at: float) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                end_session_links.insert().values(
                    token_hash=token_hash,
                    user_id=user_id,
                    created_at=now,
                    expires_at=expires_at,
                    used_at=None,
                )
            )

    def _live(self, token_hash: str, now: float) -> sa.ColumnElement[bool]:
        return sa.and_(
            end_session_links.c.token_hash == token_hash,
            end_session_links.c.used_at.is_(None),
            end_session_links.c.expires_at > now,
        )

    async def is_live(self, token_hash: str, *, now: float) -> bool:
        """Whether the link is known, unused and unexpired (nothing is spent)."""
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                sa.select(end_session_links.c.user_id).where(self._live(token_hash, now))
            )
        return found is not None

    async def spend(self, token_hash: str, *, now: float) -> str | None:
        """Use the link: its user's id, or None when it is unknown, used or expired. Of
        two spends at once, one wins."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                end_session_links.update()
                .where(self._live(token_hash, now))
                .values(used_at=now)
                .returning(end_session_links.c.user_id)
            )
            user_id = result.scalar()
        return None if user_id is None else str(user_id)
