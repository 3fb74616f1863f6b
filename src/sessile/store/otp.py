"""One-time-code challenges, changed only by conditional updates (DESIGN §8)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from sessile.store.deliveries import Delivery, DeliveryStore
from sessile.store.schema import otp_challenges

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


class OtpStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, challenge: OtpChallenge, message: Delivery) -> None:
        """Store the challenge and queue its message, in one transaction."""
        async with self._engine.begin() as conn:
            await conn.execute(otp_challenges.insert().values(**challenge.__dict__))
            await DeliveryStore.add(conn, message)

    async def get(self, challenge_id: str) -> OtpChallenge | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    otp_challenges.select().where(otp_challenges.c.id == challenge_id)
                )
            ).first()
        return None if row is None else OtpChallenge(**row._asdict())

    async def delete(self, challenge_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(otp_challenges.delete().where(otp_challenges.c.id == challenge_id))

    async def count_attempt(self, challenge_id: str, *, max_attempts: int, now: float) -> bool:
        """Spend one check; False when none is left, or the challenge is used or expired."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                otp_challenges.update()
                .where(
                    otp_challenges.c.id == challenge_id,
                    otp_challenges.c.attempts < max_attempts,
                    otp_challenges.c.consumed_at.is_(None),
                    otp_challenges.c.expires_at > now,
                )
                .values(attempts=otp_challenges.c.attempts + 1)
            )
        return result.rowcount == 1

    async def consume(self, challenge_id: str, *, now: float) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                otp_challenges.update()
                .where(otp_challenges.c.id == challenge_id, otp_challenges.c.consumed_at.is_(None))
                .values(consumed_at=now)
            )
        return result.rowcount == 1

    async def replace_code(
        self,
        challenge_id: str,
        *,
        code_hash: str,
        now: float,
        max_sends: int,
        sent_before: float,
        message: Delivery,
    ) -> bool:
        """A new code for a resend, if the cooldown has passed and sends are left; its
        message is queued in the same transaction."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                otp_challenges.update()
                .where(
                    otp_challenges.c.id == challenge_id,
                    otp_challenges.c.consumed_at.is_(None),
                    otp_challenges.c.expires_at > now,
                    otp_challenges.c.sends < max_sends,
                    otp_challenges.c.last_sent_at <= sent_before,
                )
                .values(code_hash=code_hash, sends=otp_challenges.c.sends + 1, last_sent_at=now)
            )
            if result.rowcount != 1:
                return False
            await DeliveryStore.add(conn, message)
        return True

    async def arm(
        self, challenge_id: str, *, code_hash: str, now: float, message: Delivery
    ) -> bool:
        """The first code of a challenge opened unsent (``oauth_link``), its message queued in
        the same transaction; True once."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                otp_challenges.update()
                .where(
                    otp_challenges.c.id == challenge_id,
                    otp_challenges.c.consumed_at.is_(None),
                    otp_challenges.c.expires_at > now,
                    otp_challenges.c.sends == 0,
                )
                .values(code_hash=code_hash, sends=1, last_sent_at=now)
            )
            if result.rowcount != 1:
                return False
            await DeliveryStore.add(conn, message)
        return True
