"""Provider identities: which (provider, subject) is which user (social login), and which
of them were linked without a proof of the account's address (``login/ownership.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sessile.store.drivers import IntegrityViolation
from sessile.store.schema import identities
from sessile.store.sql import Store, bound, names, numbered, prepared, shaped

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


_NAMED = sa.and_(
    identities.c.provider == sa.bindparam("provider"),
    identities.c.subject == sa.bindparam("subject"),
)
_UNPROVEN = sa.and_(
    identities.c.user_id == sa.bindparam("user_id"), identities.c.unproven.is_(sa.true())
)


def _for_users(count: int) -> sa.Select[Any]:
    return (
        identities.select()
        .where(identities.c.user_id.in_(names("user", count)))
        .order_by(identities.c.provider, identities.c.subject)
    )


def _unproven_but(keep: bool) -> sa.ColumnElement[bool]:
    """The user's unproven identities, but the one ``keep_provider``/``keep_subject`` name."""
    if not keep:
        return _UNPROVEN
    kept = sa.and_(
        identities.c.provider == sa.bindparam("keep_provider"),
        identities.c.subject == sa.bindparam("keep_subject"),
    )
    return sa.and_(_UNPROVEN, sa.not_(kept))


class IdentityStore(Store):
    _find = prepared(lambda: identities.select().where(_NAMED))
    _link = prepared(
        lambda: identities.insert().values(
            bound(
                "provider", "subject", "user_id", "email", "email_verified", "created_at",
                "last_login_at", "unproven",
            )
        )
    )  # fmt: skip
    _touch = prepared(
        lambda: identities.update().where(_NAMED).values(last_login_at=sa.bindparam("now"))
    )
    _has_unproven = prepared(lambda: sa.select(identities.c.provider).where(_UNPROVEN).limit(1))

    async def find(self, provider: str, subject: str) -> Identity | None:
        record = await self._record(self._find, provider=provider, subject=subject)
        return None if record is None else Identity(**record)

    async def for_users(self, user_ids: list[str]) -> dict[str, list[Identity]]:
        found: dict[str, list[Identity]] = {user_id: [] for user_id in user_ids}
        if not user_ids:
            return found
        count = len(user_ids)
        statement = shaped(self.dialect, ("identities.for_users", count), lambda: _for_users(count))
        for record in await self._records(statement, **numbered("user", user_ids)):
            found[record["user_id"]].append(Identity(**record))
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
            await self._records(
                self._link,
                provider=provider,
                subject=subject,
                user_id=user_id,
                email=email,
                email_verified=email_verified,
                created_at=now,
                last_login_at=now,
                unproven=unproven,
            )
        except IntegrityViolation:
            return False
        return True

    async def touch(self, provider: str, subject: str, *, now: float) -> None:
        await self._records(self._touch, provider=provider, subject=subject, now=now)

    async def has_unproven(self, user_id: str) -> bool:
        """Whether an identity linked without a proof of its address reaches the user."""
        return await self._record(self._has_unproven, user_id=user_id) is not None

    async def unlink_unproven(self, user_id: str, *, keep: tuple[str, str] | None) -> list[str]:
        """Unlink the user's unproven identities, but ``keep`` (provider, subject); the
        providers unlinked, sorted."""
        kept = keep is not None
        statement = shaped(
            self.dialect,
            ("identities.unlink_unproven", kept),
            lambda: identities.delete().where(_unproven_but(kept)).returning(identities.c.provider),
        )
        keep_provider, keep_subject = keep or (None, None)
        records = await self._records(
            statement, user_id=user_id, keep_provider=keep_provider, keep_subject=keep_subject
        )
        return sorted(str(record["provider"]) for record in records)
