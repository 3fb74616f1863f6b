"""Step-up challenges, advanced only by conditional updates (DESIGN §8, §12)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import stepup_challenges as table

__all__ = ["StepUpChallenge", "StepUpStore"]


@dataclass(frozen=True)
class StepUpChallenge:
    id: str
    user_id: str
    session_id: str
    scope: str
    steps: list[str]
    metadata: Mapping[str, Any]
    decision: str
    #: Steps advanced past (``/stepup/continue``); ``len(steps)`` when completed.
    position: int
    #: Steps whose factor was proven; ``position`` or ``position + 1``.
    checked: int
    token_jti: str
    otp_id: str | None
    created_at: float
    expires_at: float
    redeemed_at: float | None

    @property
    def completed(self) -> bool:
        return self.position >= len(self.steps)

    @property
    def current_step(self) -> str:
        return "completed" if self.completed else self.steps[self.position]


class StepUpStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, challenge: StepUpChallenge) -> None:
        values = dict(challenge.__dict__)
        values["metadata"] = dict(challenge.metadata)
        async with self._engine.begin() as conn:
            await conn.execute(table.insert().values(**values))

    async def get(self, challenge_id: str) -> StepUpChallenge | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(table.select().where(table.c.id == challenge_id))).first()
        return None if row is None else StepUpChallenge(**row._asdict())

    async def _update(self, condition: sa.ColumnElement[bool], **values: Any) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(table.update().where(condition).values(**values))
        return result.rowcount == 1

    def _current(self, c: StepUpChallenge, now: float) -> sa.ColumnElement[bool]:
        """The challenge is still in the state ``c`` was read in, and alive."""
        return sa.and_(
            table.c.id == c.id,
            table.c.token_jti == c.token_jti,
            table.c.position == c.position,
            table.c.checked == c.checked,
            table.c.expires_at > now,
            table.c.redeemed_at.is_(None),
        )

    async def set_otp(self, c: StepUpChallenge, otp_id: str, *, now: float) -> bool:
        return await self._update(self._current(c, now), otp_id=otp_id)

    async def mark_checked(self, c: StepUpChallenge, *, jti: str, now: float) -> bool:
        """The current step's factor is proven: a new current token."""
        return await self._update(
            sa.and_(self._current(c, now), table.c.checked == table.c.position),
            checked=c.position + 1,
            token_jti=jti,
            otp_id=None,
        )

    async def advance(self, c: StepUpChallenge, *, jti: str, now: float) -> bool:
        """Move past a proven step: a new current token."""
        return await self._update(
            sa.and_(self._current(c, now), table.c.checked == table.c.position + 1),
            position=c.position + 1,
            token_jti=jti,
        )

    async def redeem(self, c: StepUpChallenge, *, now: float) -> bool:
        """Spend a completed challenge's grant, once."""
        return await self._update(
            sa.and_(
                table.c.id == c.id,
                table.c.position == len(c.steps),
                table.c.redeemed_at.is_(None),
                table.c.expires_at > now,
            ),
            redeemed_at=now,
        )
