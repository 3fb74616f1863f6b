"""Step-up challenges, advanced only by conditional updates (DESIGN §8, §12).

A challenge moves from step to step as each is proven; the current challenge token's
``jti`` is kept with it, so only the newest token of a challenge counts and every step
counts once, whichever node answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.schema import sessions
from sessile.store.schema import stepup_challenges as table

__all__ = ["ChallengeStep", "StepUpChallenge", "StepUpStore"]


@dataclass(frozen=True)
class ChallengeStep:
    key: str
    #: Seconds the step may take once current; 0: as long as the challenge lasts.
    expiration_duration: int = 0


@dataclass(frozen=True)
class StepUpChallenge:
    id: str
    user_id: str
    session_id: str
    scope: str
    steps: Sequence[ChallengeStep]
    metadata: Mapping[str, Any]
    #: ``single-use``, ``session-bound`` or ``profile-bound``.
    grant_mode: str
    #: Seconds the grant lasts once redeemed.
    granted_for: int
    #: Steps proven so far; ``len(steps)`` when completed.
    position: int
    token_jti: str
    otp_id: str | None
    created_at: float
    #: When the current step became current.
    step_started_at: float
    expires_at: float
    redeemed_at: float | None = None

    @property
    def completed(self) -> bool:
        return self.position >= len(self.steps)

    @property
    def current_step(self) -> str:
        return "completed" if self.completed else self.steps[self.position].key

    def step_deadline(self) -> float:
        """When the current step runs out: its own duration, within the challenge's."""
        if self.completed:
            return self.expires_at
        duration = self.steps[self.position].expiration_duration
        if duration <= 0:
            return self.expires_at
        return min(self.expires_at, self.step_started_at + duration)


def _row(challenge: StepUpChallenge) -> dict[str, Any]:
    return {
        "id": challenge.id,
        "user_id": challenge.user_id,
        "session_id": challenge.session_id,
        "scope": challenge.scope,
        "steps": [
            {"key": s.key, "expiration_duration": s.expiration_duration} for s in challenge.steps
        ],
        "metadata": dict(challenge.metadata),
        "grant_mode": challenge.grant_mode,
        "granted_for": challenge.granted_for,
        "position": challenge.position,
        "token_jti": challenge.token_jti,
        "otp_id": challenge.otp_id,
        "created_at": challenge.created_at,
        "step_started_at": challenge.step_started_at,
        "expires_at": challenge.expires_at,
        "redeemed_at": challenge.redeemed_at,
    }


def _challenge(row: Any) -> StepUpChallenge:
    return StepUpChallenge(
        id=row.id,
        user_id=row.user_id,
        session_id=row.session_id,
        scope=row.scope,
        steps=tuple(ChallengeStep(s["key"], int(s["expiration_duration"])) for s in row.steps),
        metadata=dict(row.metadata),
        grant_mode=row.grant_mode,
        granted_for=row.granted_for,
        position=row.position,
        token_jti=row.token_jti,
        otp_id=row.otp_id,
        created_at=row.created_at,
        step_started_at=row.step_started_at,
        expires_at=row.expires_at,
        redeemed_at=row.redeemed_at,
    )


class StepUpStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, challenge: StepUpChallenge) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(table.insert().values(**_row(challenge)))

    async def get(self, challenge_id: str) -> StepUpChallenge | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(table.select().where(table.c.id == challenge_id))).first()
        return None if row is None else _challenge(row)

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
            table.c.expires_at > now,
            table.c.redeemed_at.is_(None),
        )

    async def set_otp(self, c: StepUpChallenge, otp_id: str, *, now: float) -> bool:
        """The current code step's code was sent under ``otp_id``."""
        return await self._update(self._current(c, now), otp_id=otp_id)

    async def advance(self, c: StepUpChallenge, *, jti: str, now: float) -> bool:
        """The current step is proven: the next one is current, under a new token."""
        return await self._update(
            self._current(c, now),
            position=c.position + 1,
            token_jti=jti,
            otp_id=None,
            step_started_at=now,
        )

    async def redeem(self, c: StepUpChallenge, *, jkt: str, now: float) -> bool:
        """Spend a completed challenge's grant, once, and only while the session it was
        asked in is live and held by ``jkt``: the key is part of the spending statement,
        so no check of it made before can go stale before the spend."""
        held = sa.exists().where(
            sessions.c.id == table.c.session_id,
            sessions.c.user_id == table.c.user_id,
            sessions.c.jkt == jkt,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
        )
        return await self._update(
            sa.and_(
                table.c.id == c.id,
                table.c.session_id == c.session_id,
                table.c.position == len(c.steps),
                table.c.redeemed_at.is_(None),
                table.c.expires_at > now,
                held,
            ),
            redeemed_at=now,
        )

    async def last_redeemed(self, session_id: str, scope: str) -> StepUpChallenge | None:
        """The challenge of ``scope`` the session redeemed last: the one its grant of that
        scope came from, while the row lives."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    table.select()
                    .where(
                        table.c.session_id == session_id,
                        table.c.scope == scope,
                        table.c.redeemed_at.is_not(None),
                    )
                    .order_by(table.c.redeemed_at.desc())
                    .limit(1)
                )
            ).first()
        return None if row is None else _challenge(row)
