"""Step-up challenges, advanced only by conditional updates (DESIGN §8, §12).

A challenge moves from step to step as each is proven; the current challenge token's
``jti`` is kept with it, so only the newest token of a challenge counts and every step
counts once, whichever node answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from sessile.store.schema import sessions
from sessile.store.schema import stepup_challenges as table
from sessile.store.sql import Store, bound, prepared

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


def _challenge(record: Mapping[str, Any]) -> StepUpChallenge:
    return StepUpChallenge(
        **{
            **record,
            "steps": tuple(
                ChallengeStep(s["key"], int(s["expiration_duration"])) for s in record["steps"]
            ),
            "metadata": dict(record["metadata"]),
        }
    )


_COLUMNS = [field.name for field in fields(StepUpChallenge)]
_SELECT = sa.select(*[table.c[name] for name in _COLUMNS])
#: The challenge is still in the state it was read in (binds ``token_jti`` and
#: ``position``), and alive.
_CURRENT = sa.and_(
    table.c.id == sa.bindparam("id"),
    table.c.token_jti == sa.bindparam("token_jti"),
    table.c.position == sa.bindparam("position"),
    table.c.expires_at > sa.bindparam("now"),
    table.c.redeemed_at.is_(None),
)


class StepUpStore(Store):
    _insert = prepared(lambda: table.insert().values(bound(*_COLUMNS)))
    _get = prepared(lambda: _SELECT.where(table.c.id == sa.bindparam("id")))
    _set_otp = prepared(
        lambda: (
            table.update()
            .where(_CURRENT)
            .values(otp_id=sa.bindparam("otp_id"))
            .returning(table.c.id)
        )
    )
    _advance = prepared(
        lambda: (
            table.update()
            .where(_CURRENT)
            .values(
                position=sa.bindparam("next_position"),
                token_jti=sa.bindparam("jti"),
                otp_id=None,
                step_started_at=sa.bindparam("now"),
            )
            .returning(table.c.id)
        )
    )
    _redeem = prepared(
        lambda: (
            table.update()
            .where(
                table.c.id == sa.bindparam("id"),
                table.c.session_id == sa.bindparam("session_id"),
                table.c.position == sa.bindparam("steps"),
                table.c.redeemed_at.is_(None),
                table.c.expires_at > sa.bindparam("now"),
                sa.exists().where(
                    sessions.c.id == table.c.session_id,
                    sessions.c.user_id == table.c.user_id,
                    sessions.c.jkt == sa.bindparam("jkt"),
                    sessions.c.revoked_at.is_(None),
                    sessions.c.expires_at > sa.bindparam("now"),
                ),
            )
            .values(redeemed_at=sa.bindparam("now"))
            .returning(table.c.id)
        )
    )
    _last_redeemed = prepared(
        lambda: (
            _SELECT.where(
                table.c.session_id == sa.bindparam("session_id"),
                table.c.scope == sa.bindparam("scope"),
                table.c.redeemed_at.is_not(None),
            )
            .order_by(table.c.redeemed_at.desc())
            .limit(1)
        )
    )

    async def create(self, challenge: StepUpChallenge) -> None:
        await self._records(self._insert, **_row(challenge))

    async def get(self, challenge_id: str) -> StepUpChallenge | None:
        record = await self._record(self._get, id=challenge_id)
        return None if record is None else _challenge(record)

    def _current(self, c: StepUpChallenge, now: float) -> dict[str, Any]:
        """What :data:`_CURRENT` binds for ``c``."""
        return {"id": c.id, "token_jti": c.token_jti, "position": c.position, "now": now}

    async def set_otp(self, c: StepUpChallenge, otp_id: str, *, now: float) -> bool:
        """The current code step's code was sent under ``otp_id``."""
        return await self._changed(self._set_otp, **self._current(c, now), otp_id=otp_id) == 1

    async def advance(self, c: StepUpChallenge, *, jti: str, now: float) -> bool:
        """The current step is proven: the next one is current, under a new token."""
        changed = await self._changed(
            self._advance, **self._current(c, now), next_position=c.position + 1, jti=jti
        )
        return changed == 1

    async def redeem(self, c: StepUpChallenge, *, jkt: str, now: float) -> bool:
        """Spend a completed challenge's grant, once, and only while the session it was
        asked in is live and held by ``jkt``: the key is part of the spending statement,
        so no check of it made before can go stale before the spend."""
        spent = await self._changed(
            self._redeem, id=c.id, session_id=c.session_id, steps=len(c.steps), jkt=jkt, now=now
        )
        return spent == 1

    async def last_redeemed(self, session_id: str, scope: str) -> StepUpChallenge | None:
        """The challenge of ``scope`` the session redeemed last: the one its grant of that
        scope came from, while the row lives."""
        record = await self._record(self._last_redeemed, session_id=session_id, scope=scope)
        return None if record is None else _challenge(record)
