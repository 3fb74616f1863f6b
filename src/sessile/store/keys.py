"""Signing keys: public JWK in clear, private JWK encrypted (DESIGN §4).

Each algorithm has a ring of its own in the one table: the ES256 keys that sign tokens,
the PS256 keys that sign outgoing request bodies. A rotation retires, and an expiry
drops, only keys of its own algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from sessile.store.drivers import One, Steps
from sessile.store.schema import signing_keys
from sessile.store.sql import Store, bound, fetch, prepared

__all__ = ["SigningKeyRow", "SigningKeyStore"]

#: Serialises rotations across nodes on one PostgreSQL.
_ROTATION_LOCK = 0x5E551F


@dataclass(frozen=True)
class SigningKeyRow:
    kid: str
    alg: str
    public_jwk: Mapping[str, Any]
    private_jwk_encrypted: str
    created_at: float
    active_at: float
    retired_at: float | None


_COLUMNS = [field.name for field in fields(SigningKeyRow)]
_SAME_ALG = signing_keys.c.alg == sa.bindparam("alg")

_LOCK = prepared(
    lambda: sa.select(sa.func.pg_advisory_xact_lock(sa.literal(_ROTATION_LOCK, sa.BigInteger)))
)
_NEWEST = prepared(
    lambda: sa.select(sa.func.max(signing_keys.c.created_at).label("newest")).where(_SAME_ALG)
)
_RETIRE = prepared(
    lambda: (
        signing_keys.update()
        .where(_SAME_ALG, signing_keys.c.retired_at.is_(None))
        .values(retired_at=sa.bindparam("active_at"))
    )
)
_INSERT = prepared(lambda: signing_keys.insert().values(bound(*_COLUMNS)))
_ALL = prepared(
    lambda: (
        sa.select(*[signing_keys.c[name] for name in _COLUMNS])
        .where(_SAME_ALG)
        .order_by(signing_keys.c.created_at)
    )
)
_DELETE_EXPIRED = prepared(
    lambda: (
        signing_keys.delete()
        .where(
            _SAME_ALG,
            signing_keys.c.retired_at.is_not(None),
            signing_keys.c.retired_at < sa.bindparam("before"),
        )
        .returning(signing_keys.c.kid)
    )
)


class SigningKeyStore(Store):
    async def rotate(
        self, new_key: SigningKeyRow, *, unless_newer_than: float | None = None
    ) -> bool:
        """Insert ``new_key`` and retire every other key of its algorithm when the new one
        starts signing.

        With ``unless_newer_than``, do nothing (and return False) when a key of its
        algorithm created after that time exists: another node has just rotated, or made
        the first key.
        """
        dialect = self.dialect

        def steps() -> Steps[bool]:
            # SQLite's transaction holds the write lock from its start, so the check below
            # and the insert are one step; PostgreSQL's rotations wait for each other.
            if dialect.name == "postgresql":
                yield One(_LOCK.on(dialect), {})
            if unless_newer_than is not None:
                newest = (yield from fetch(_NEWEST.on(dialect), alg=new_key.alg))[0]["newest"]
                if newest is not None and newest > unless_newer_than:
                    return False
            yield One(_RETIRE.on(dialect), {"alg": new_key.alg, "active_at": new_key.active_at})
            yield One(
                _INSERT.on(dialect), {**new_key.__dict__, "public_jwk": dict(new_key.public_jwk)}
            )
            return True

        return await self.transaction(steps())

    async def all(self, alg: str) -> list[SigningKeyRow]:
        """The keys of one algorithm, oldest first."""
        records = await self._records(_ALL.on(self.dialect), alg=alg)
        return [SigningKeyRow(**record) for record in records]

    async def delete_expired(self, alg: str, *, before: float) -> int:
        """Drop keys of ``alg`` retired before ``before``: nothing live can carry them."""
        return await self._changed(_DELETE_EXPIRED.on(self.dialect), alg=alg, before=before)
