"""The links in account notices that end every session (``sessile.notices``): stored as
the SHA-256 of their token, spent once by a conditional update, dead after ``expires_at``."""

from __future__ import annotations

import sqlalchemy as sa

from sessile.store.schema import end_session_links
from sessile.store.sql import Store, prepared

__all__ = ["EndSessionLinkStore"]

#: The link named by ``token_hash``, unused and unexpired at ``now``.
_LIVE = sa.and_(
    end_session_links.c.token_hash == sa.bindparam("token_hash"),
    end_session_links.c.used_at.is_(None),
    end_session_links.c.expires_at > sa.bindparam("now"),
)


class EndSessionLinkStore(Store):
    _insert = prepared(
        lambda: end_session_links.insert().values(
            token_hash=sa.bindparam("token_hash"),
            user_id=sa.bindparam("user_id"),
            created_at=sa.bindparam("now"),
            expires_at=sa.bindparam("expires_at"),
            used_at=None,
        )
    )
    _is_live = prepared(lambda: sa.select(end_session_links.c.user_id).where(_LIVE))
    _spend = prepared(
        lambda: (
            end_session_links.update()
            .where(_LIVE)
            .values(used_at=sa.bindparam("now"))
            .returning(end_session_links.c.user_id)
        )
    )

    async def create(self, token_hash: str, user_id: str, *, now: float, expires_at: float) -> None:
        await self._records(
            self._insert, token_hash=token_hash, user_id=user_id, now=now, expires_at=expires_at
        )

    async def is_live(self, token_hash: str, *, now: float) -> bool:
        """Whether the link is known, unused and unexpired (nothing is spent)."""
        return await self._record(self._is_live, token_hash=token_hash, now=now) is not None

    async def spend(self, token_hash: str, *, now: float) -> str | None:
        """Use the link: its user's id, or None when it is unknown, used or expired. Of
        two spends at once, one wins."""
        spent = await self._record(self._spend, token_hash=token_hash, now=now)
        return None if spent is None else str(spent["user_id"])
