"""The revocation feed (DESIGN §5, §7): what backends poll to reject the access tokens of
revoked sessions and users before those tokens expire.

Rows are numbered when inserted but may commit out of order (PostgreSQL sequences), so
the cursor handed out stops short of rows younger than ``SETTLE_SECONDS``: a follower
re-reads them on its next poll instead of skipping a late commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessile.clock import Clock
from sessile.store.revocations import Revocation, RevocationStore

__all__ = ["SETTLE_SECONDS", "FeedPage", "RevocationFeed"]

SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class FeedPage:
    revocations: list[Revocation]
    #: Where the next poll starts: past every row old enough to have settled.
    cursor: int


def settled_cursor(rows: list[Revocation], after: int, *, settled_before: float) -> int:
    """The last ``seq`` of the leading rows revoked no later than ``settled_before``."""
    cursor = after
    for row in rows:
        if row.revoked_at > settled_before:
            break
        cursor = row.seq
    return cursor


class RevocationFeed:
    def __init__(self, store: RevocationStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def page(self, after: int, *, limit: int) -> FeedPage:
        """Revocations after the cursor ``after``, oldest first, and the next cursor."""
        rows = await self._store.after(after, limit=limit)
        settled = self._clock.now() - SETTLE_SECONDS
        return FeedPage(rows, settled_cursor(rows, after, settled_before=settled))
