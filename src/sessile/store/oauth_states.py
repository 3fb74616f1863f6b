"""Social logins under way, keyed by the hash of their ``state``; used at most once."""

from __future__ import annotations

from dataclasses import dataclass, fields

import sqlalchemy as sa

from sessile.store.schema import oauth_states
from sessile.store.sql import Store, bound, prepared

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


_COLUMNS = [field.name for field in fields(OAuthState)]


class OAuthStateStore(Store):
    _insert = prepared(lambda: oauth_states.insert().values(bound(*_COLUMNS)))
    _get = prepared(
        lambda: sa.select(*[oauth_states.c[name] for name in _COLUMNS]).where(
            oauth_states.c.state_hash == sa.bindparam("state_hash")
        )
    )
    _consume = prepared(
        lambda: (
            oauth_states.update()
            .where(
                oauth_states.c.state_hash == sa.bindparam("state_hash"),
                oauth_states.c.consumed_at.is_(None),
                oauth_states.c.expires_at > sa.bindparam("now"),
            )
            .values(consumed_at=sa.bindparam("now"))
            .returning(oauth_states.c.state_hash)
        )
    )

    async def create(self, state: OAuthState) -> None:
        await self._records(self._insert, **state.__dict__)

    async def get(self, state_hash: str) -> OAuthState | None:
        record = await self._record(self._get, state_hash=state_hash)
        return None if record is None else OAuthState(**record)

    async def consume(self, state_hash: str, *, now: float) -> bool:
        """Spend the state; True once, while it is live."""
        return await self._changed(self._consume, state_hash=state_hash, now=now) == 1
