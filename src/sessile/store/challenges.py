"""Single-use challenge tokens, stored by hash (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from sessile.store.schema import challenge_tokens
from sessile.store.sql import Store, bound, names, numbered, prepared, shaped

__all__ = ["Challenge", "ChallengeStore"]


@dataclass(frozen=True)
class Challenge:
    user_id: str
    auth_method: str
    #: The client's PKCE S256 challenge, when the login was started with one (social login).
    code_challenge: str | None = None
    #: The OTP login config a code login ran under.
    login_config_id: str | None = None


def _void_unused(methods: int) -> sa.Update:
    return (
        challenge_tokens.update()
        .where(
            challenge_tokens.c.user_id == sa.bindparam("user_id"),
            challenge_tokens.c.auth_method.in_(names("method", methods)),
            challenge_tokens.c.used_at.is_(None),
        )
        .values(used_at=sa.bindparam("now"))
        .returning(challenge_tokens.c.token_hash)
    )


class ChallengeStore(Store):
    _insert = prepared(
        lambda: challenge_tokens.insert().values(
            bound(
                "token_hash", "user_id", "auth_method", "created_at", "expires_at",
                "code_challenge", "login_config_id",
            )
        )
    )  # fmt: skip
    _consume = prepared(
        lambda: (
            challenge_tokens.update()
            .where(
                challenge_tokens.c.token_hash == sa.bindparam("token_hash"),
                challenge_tokens.c.used_at.is_(None),
                challenge_tokens.c.expires_at > sa.bindparam("now"),
            )
            .values(used_at=sa.bindparam("now"))
            .returning(
                challenge_tokens.c.user_id,
                challenge_tokens.c.auth_method,
                challenge_tokens.c.code_challenge,
                challenge_tokens.c.login_config_id,
            )
        )
    )
    _used_at = prepared(
        lambda: sa.select(challenge_tokens.c.used_at).where(
            challenge_tokens.c.token_hash == sa.bindparam("token_hash")
        )
    )

    async def create(
        self,
        token_hash: str,
        *,
        user_id: str,
        auth_method: str,
        now: float,
        expires_at: float,
        code_challenge: str | None = None,
        login_config_id: str | None = None,
    ) -> None:
        await self._records(
            self._insert,
            token_hash=token_hash,
            user_id=user_id,
            auth_method=auth_method,
            created_at=now,
            expires_at=expires_at,
            code_challenge=code_challenge,
            login_config_id=login_config_id,
        )

    async def consume(self, token_hash: str, *, now: float) -> Challenge | None:
        """Mark the challenge used and return it, once; None if unknown, used or expired."""
        record = await self._record(self._consume, token_hash=token_hash, now=now)
        return None if record is None else Challenge(**record)

    async def spent(self, token_hash: str) -> bool:
        """Whether a challenge with this hash was used already (a replay, not a forgery)."""
        record = await self._record(self._used_at, token_hash=token_hash)
        return record is not None and record["used_at"] is not None

    async def void_unused(self, user_id: str, auth_methods: list[str], *, now: float) -> int:
        """Spend the user's unused challenge tokens of ``auth_methods``: logins by a method
        just taken away, not yet finalized, end with it. How many there were."""
        if not auth_methods:
            return 0
        count = len(auth_methods)
        statement = shaped(
            self.dialect, ("challenges.void_unused", count), lambda: _void_unused(count)
        )
        return await self._changed(
            statement, user_id=user_id, now=now, **numbered("method", auth_methods)
        )
