"""Signing keys: public JWK in clear, private JWK encrypted (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import signing_keys

__all__ = ["SigningKeyRow", "SigningKeyStore"]


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

    async def insert(self, key: SigningKeyRow) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                signing_keys.insert().values(
                    kid=key.kid,
                    alg=key.alg,
                    public_jwk=dict(key.public_jwk),
                    private_jwk_encrypted=key.private_jwk_encrypted,
                    created_at=key.created_at,
                    active_at=key.active_at,
                    retired_at=key.retired_at,
                )
            )

    async def rotate(self, new_key: SigningKeyRow) -> None:
        """Insert ``new_key`` and retire every other key when the new one starts signing."""
        async with self._engine.begin() as conn:
            await conn.execute(
                signing_keys.update()
                .where(signing_keys.c.retired_at.is_(None))
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
                    retired_at=None,
                )
            )

    async def all(self) -> list[SigningKeyRow]:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(signing_keys.select().order_by(signing_keys.c.created_at))
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

    async def delete_expired(self, *, before: float) -> int:
        """Drop keys retired before ``before``: no live token can carry them."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                signing_keys.delete().where(
                    signing_keys.c.retired_at.is_not(None), signing_keys.c.retired_at < before
                )
            )
        return result.rowcount
