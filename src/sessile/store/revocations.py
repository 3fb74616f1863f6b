"""The revocation feed: what backends need to reject a revoked session's access tokens early."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from sessile.store.schema import revocations
from sessile.store.sql import Store, prepared

__all__ = ["Revocation", "RevocationStore"]


@dataclass(frozen=True)
class Revocation:
    seq: int
    user_id: str
    #: None: every session of the user, for tokens issued before ``revoked_at``.
    session_id: str | None
    revoked_at: float


class RevocationStore(Store):
    _after = prepared(
        lambda: (
            sa.select(
                revocations.c.seq,
                revocations.c.user_id,
                revocations.c.session_id,
                revocations.c.revoked_at,
            )
            .where(revocations.c.seq > sa.bindparam("seq"))
            .order_by(revocations.c.seq)
            .limit(sa.bindparam("limit"))
        )
    )

    async def after(self, seq: int, *, limit: int) -> list[Revocation]:
        records = await self._records(self._after, seq=seq, limit=limit)
        return [Revocation(**record) for record in records]
