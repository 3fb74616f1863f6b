"""Provider identities: which (provider, subject) is which user (social login), and which
of them were linked without a proof of the account's address (``login/ownership.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import identities

__all__ = ["Identity", "IdentityStore"]


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    user_id: str
    email: str | None
    email_verified: bool
    created_at: float
    last_login_at: float
    #: Linked to an account made around its unproven address: the address's first proof
    #: by its owner unlinks it.
    unproven: bool = False


class IdentityStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, provider: str, subject: str) -> Identity | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    identities.select().where(
                        identities.c.provider == provider, identities.c.subject == subject
                    )
                )
            ).first()
        return None if row is None else Identity(**row._asdict())

    async def for_users(self, user_ids: list[str]) -> dict[str, list[Identity]]:
        found: dict[str, list[Identity]] = {user_id: [] for user_id in user_ids}
        if not user_ids:
            return found
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                identities.select()
                .where(identities.c.user_id.in_(user_ids))
                .order_by(identities.c.provider, identities.c.subject)
            )
            for row in rows:
                found[row.user_id].append(Identity(**row._asdict()))
        return found

    async def link(
        self,
        *,
        provider: str,
        subject: str,
        user_id: str,
        email: str | None,
        email_verified: bool,
        now: float,
        unproven: bool = False,
    ) -> bool:
        """Attach the identity to the user; False when it already belongs to someone.
        ``unproven``: the user was made around the identity's address, which nobody has
        proven yet."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    identities.insert().values(
                        provider=provider,
                        subject=subject,
                        user_id=user_id,
                        email=email,
                        email_verified=email_verified,
                        created_at=now,
                        last_login_at=now,
                        unproven=unproven,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def touch(self, provider: str, subject: str, *, now: float) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                identities.update()
                .where(identities.c.provider == provider, identities.c.subject == subject)
                .values(last_login_at=now)
            )

    async def unlink(self, user_id: str, provider: str, subject: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                identities.delete().where(
                    identities.c.user_id == user_id,
                    identities.c.provider == provider,
                    identities.c.subject == subject,
                )
            )
        return result.rowcount == 1

    async def has_unproven(self, user_id: str) -> bool:
        """Whether an identity linked without a proof of its address reaches the user."""
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                sa.select(identities.c.provider)
                .where(identities.c.user_id == user_id, identities.c.unproven.is_(True))
                .limit(1)
            )
        return found is not None

    async def unlink_unproven(self, user_id: str, *, keep: tuple[str, str] | None) -> list[str]:
        """Unlink the user's unproven identities, but ``keep`` (provider, subject); the
        providers unlinked, sorted."""
        condition = sa.and_(identities.c.user_id == user_id, identities.c.unproven.is_(True))
        if keep is not None:
            condition = sa.and_(
                condition,
                sa.not_(sa.and_(identities.c.provider == keep[0], identities.c.subject == keep[1])),
            )
        async with self._engine.begin() as conn:
            result = await conn.execute(
                identities.delete().where(condition).returning(identities.c.provider)
            )
            providers = sorted(str(p) for p in result.scalars())
        return providers

    async def count(self, user_id: str) -> int:
        async with self._engine.connect() as conn:
            total = await conn.scalar(
                sa.select(sa.func.count())
                .select_from(identities)
                .where(identities.c.user_id == user_id)
            )
        return int(total or 0)
