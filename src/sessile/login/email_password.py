"""Login and sign-up by e-mail and password (DESIGN §6): both end in a challenge token."""

from __future__ import annotations

import logging

from sessile.clock import Clock
from sessile.config import Settings
from sessile.errors import Forbidden, InvalidPassword
from sessile.login.passwords import Passwords
from sessile.login.ratelimit import RateLimits
from sessile.sessions import ChallengeTokens
from sessile.store.database import Database
from sessile.store.users import Identifier

__all__ = ["EmailPasswordLogin"]

log = logging.getLogger("sessile.login")


class EmailPasswordLogin:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        challenges: ChallengeTokens,
        limits: RateLimits,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._challenges = challenges
        self._limits = limits
        self._clock = clock
        self._settings = settings

    async def login(self, identifier: Identifier, password: str, *, ip: str | None) -> str:
        """A challenge token for the right password; InvalidPassword for anything else."""
        await self._limits.hit(self._settings.password_rate_per_ip, "pw-ip", ip or "-")
        await self._limits.hit(
            self._settings.password_rate_per_identifier, "pw-id", identifier.value
        )
        user = await self._db.users.find_by_identifier(identifier)
        # Unknown users check a dummy hash, so the answer takes as long either way.
        ok = await self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled_at is not None:
            raise InvalidPassword()
        await self._limits.clear(
            self._settings.password_rate_per_identifier, "pw-id", identifier.value
        )
        return await self._challenges.issue(user_id=user.id, auth_method="password")

    async def sign_up(self, identifier: Identifier, password: str, *, ip: str | None) -> str:
        if not self._settings.password_signup:
            raise Forbidden("Sign-up is closed.")
        await self._limits.hit(self._settings.password_rate_per_ip, "pw-ip", ip or "-")
        password_hash = await self._passwords.hash(password)
        user = await self._db.users.create(
            now=self._clock.now(), identifiers_=[identifier], password_hash=password_hash
        )
        log.info("user signed up", extra={"user_id": user.id})
        return await self._challenges.issue(user_id=user.id, auth_method="password")
