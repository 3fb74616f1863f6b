"""One-time-code challenges, changed only by conditional updates (DESIGN §8)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from sessile.store.audit import audit_steps
from sessile.store.deliveries import Delivery, delivery_steps
from sessile.store.drivers import One, Statement, Steps
from sessile.store.schema import otp_challenges
from sessile.store.sql import Store, bound, prepared

__all__ = ["OtpChallenge", "OtpStore"]


@dataclass(frozen=True)
class OtpChallenge:
    id: str
    verification_hash: str
    identifier_type: str
    identifier_value: str
    code_hash: str
    deliverable: bool
    attempts: int
    sends: int
    created_at: float
    last_sent_at: float
    expires_at: float
    consumed_at: float | None
    #: ``login``, ``signup`` (a pending password sign-up holding ``password_hash``),
    #: ``oauth_link`` (a provider identity waiting for its e-mail address to be proven),
    #: ``stepup`` (a step of a step-up) or ``register`` (a new identifier for ``user_id``).
    purpose: str = "login"
    password_hash: str | None = None
    #: ``oauth_link``: the client's PKCE challenge, and the provider identity (JSON) to attach.
    code_challenge: str | None = None
    pending_identity: str | None = None
    #: The user a ``stepup`` or ``register`` code was sent for.
    user_id: str | None = None
    #: ``login``: the OTP login config it was started under (``login/configs/otp.py``).
    login_config_id: str | None = None


_COLUMNS = [field.name for field in fields(OtpChallenge)]
_LIVE = sa.and_(
    otp_challenges.c.id == sa.bindparam("id"),
    otp_challenges.c.consumed_at.is_(None),
    otp_challenges.c.expires_at > sa.bindparam("now"),
)


def _challenge(record: Mapping[str, Any]) -> OtpChallenge:
    return OtpChallenge(**record)


class OtpStore(Store):
    _insert = prepared(lambda: otp_challenges.insert().values(bound(*_COLUMNS)))
    _get = prepared(
        lambda: sa.select(*[otp_challenges.c[name] for name in _COLUMNS]).where(
            otp_challenges.c.id == sa.bindparam("id")
        )
    )
    _delete = prepared(
        lambda: otp_challenges.delete().where(otp_challenges.c.id == sa.bindparam("id"))
    )
    _count_attempt = prepared(
        lambda: (
            otp_challenges.update()
            .where(_LIVE, otp_challenges.c.attempts < sa.bindparam("max_attempts"))
            .values(attempts=otp_challenges.c.attempts + 1)
            .returning(otp_challenges.c.id)
        )
    )
    _spend_right_code = prepared(
        lambda: (
            otp_challenges.update()
            .where(_LIVE, otp_challenges.c.attempts < sa.bindparam("max_attempts"))
            .values(attempts=otp_challenges.c.attempts + 1, consumed_at=sa.bindparam("now"))
            .returning(otp_challenges.c.id)
        )
    )
    _replace_code = prepared(
        lambda: (
            otp_challenges.update()
            .where(
                _LIVE,
                otp_challenges.c.sends < sa.bindparam("max_sends"),
                otp_challenges.c.last_sent_at <= sa.bindparam("sent_before"),
            )
            .values(
                code_hash=sa.bindparam("code_hash"),
                sends=otp_challenges.c.sends + 1,
                last_sent_at=sa.bindparam("now"),
            )
            .returning(otp_challenges.c.id)
        )
    )
    _arm = prepared(
        lambda: (
            otp_challenges.update()
            .where(_LIVE, otp_challenges.c.sends == 0)
            .values(code_hash=sa.bindparam("code_hash"), sends=1, last_sent_at=sa.bindparam("now"))
            .returning(otp_challenges.c.id)
        )
    )

    async def create(self, challenge: OtpChallenge, message: Delivery) -> None:
        """Store the challenge, queue its message and record ``code.sent``, in one
        transaction."""

        def steps() -> Steps[None]:
            yield One(self._insert, challenge.__dict__)
            yield from delivery_steps(self.dialect, message)
            yield from self._recorded(challenge.identifier_type, message, challenge.created_at)

        await self.transaction(steps())

    def _recorded(self, identifier_type: str, message: Delivery, now: float) -> Steps[None]:
        """``code.sent`` in the audit trail; ``delivered`` is false when nobody gets it."""
        data = {"identifier_type": identifier_type, "delivered": not message.suppressed}
        yield from audit_steps(self.dialect, "code.sent", now=now, data=data)

    async def get(self, challenge_id: str) -> OtpChallenge | None:
        record = await self._record(self._get, id=challenge_id)
        return None if record is None else _challenge(record)

    async def delete(self, challenge_id: str) -> None:
        await self._records(self._delete, id=challenge_id)

    async def count_attempt(
        self, challenge_id: str, *, max_attempts: int, now: float, right: bool
    ) -> bool:
        """Spend one check, and with the ``right`` code the challenge too; False when no
        check is left, or the challenge is used or expired."""
        statement = self._spend_right_code if right else self._count_attempt
        spent = await self._changed(statement, id=challenge_id, max_attempts=max_attempts, now=now)
        return spent == 1

    async def replace_code(
        self,
        challenge_id: str,
        *,
        code_hash: str,
        now: float,
        max_sends: int,
        sent_before: float,
        message: Delivery,
        identifier_type: str,
    ) -> bool:
        """A new code for a resend, if the cooldown has passed and sends are left; its
        message is queued and ``code.sent`` recorded in the same transaction."""
        params = {
            "id": challenge_id,
            "code_hash": code_hash,
            "now": now,
            "max_sends": max_sends,
            "sent_before": sent_before,
        }
        return await self.transaction(
            self._changed_then_sent(self._replace_code, params, message, identifier_type)
        )

    async def arm(
        self, challenge_id: str, *, code_hash: str, now: float, message: Delivery
    ) -> bool:
        """The first code of a challenge opened unsent (``oauth_link``), its message queued in
        the same transaction; True once."""
        params = {"id": challenge_id, "code_hash": code_hash, "now": now}
        return await self.transaction(self._changed_then_sent(self._arm, params, message))

    def _changed_then_sent(
        self,
        change: Statement,
        params: Mapping[str, Any],
        message: Delivery,
        recorded_as: str | None = None,
    ) -> Steps[bool]:
        """``change``, then, if it changed the challenge, its message queued (and recorded
        as sent to an identifier of type ``recorded_as``)."""
        changed = yield One(change, params)
        if not changed:
            return False
        yield from delivery_steps(self.dialect, message)
        if recorded_as is not None:
            yield from self._recorded(recorded_as, message, params["now"])
        return True
