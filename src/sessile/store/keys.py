"""Signing keys: public JWK in clear, private JWK encrypted (DESIGN §4).

Each algorithm has a ring of its own in the one table: the ES256 keys that sign tokens,
the PS256 keys that sign outgoing request bodies. A rotation retires, and an expiry
drops, only keys of its own algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import signing_keys

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


class SigningKeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def rotate(
        self, new_key: SigningKeyRow, *, unless_newer_than: float | None = None
    ) -> bool:
        """Insert ``new_key`` and retire every other key of its algorithm when the new one
        starts signing.

        With ``unless_newer_than``, do nothing (and return False) when a key of its
        algorithm created after that time exists: another node has just rotated, or made
        the first key.
        """
        same_alg = signing_keys.c.alg == new_key.alg
        async with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_ROTATION_LOCK)))
            else:
                # Take SQLite's write lock now, so the check below and the insert are one step.
                await conn.execute(
                    signing_keys.update().where(sa.false()).values(kid=signing_keys.c.kid)
                )
            if unless_newer_than is not None:
                newest = await conn.scalar(
                    sa.select(sa.func.max(signing_keys.c.created_at)).where(same_alg)
                )
                if newest is not None and newest > unless_newer_than:
                    return False
            await conn.execute(
                signing_keys.update()
                .where(same_alg, signing_keys.c.retired_at.is_(None))
                .values(retired_at=new_key.active_at)
            )
            await conn.execute(
                signing_keys.insert().values(
                    kid=new_key.kid,
                    alg=new_key.alg,
                    public_jwk=dict(new_key.public_jwk),
                    private_jwk_encrypted=new_key.private_jwk_encrypted,
                    created_at=new_key.created_at,
                    active_at=new_key.active_at,
                    retired_at=new_key.retired_at,
                )
            )
        return True

    async def all(self, alg: str) -> list[SigningKeyRow]:
        """The keys of one algorithm, oldest first."""
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    signing_keys.select()
                    .where(signing_keys.c.alg == alg)
                    .order_by(signing_keys.c.created_at)
                )
            ).all()
        return [
            SigningKeyRow(
                kid=r.kid,
                alg=r.alg,
                public_jwk=r.public_jwk,
                private_jwk_encrypted=r.private_jwk_encrypted,
                created_at=r.created_at,
                active_at=r.active_at,
                retired_at=r.retired_at,
            )
            for r in rows
        ]

    async def delete_expired(self, alg: str, *, before: float) -> int:
        """Drop keys of ``alg`` retired before ``before``: nothing live can carry them."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                signing_keys.delete().where(
                    signing_keys.c.alg == alg,
                    signing_keys.c.retired_at.is_not(None),
                    signing_keys.c.retired_at < before,
                )
            )
        return result.rowcount
