"""Who owns an account (DESIGN §12, "identifiers are proven").

An e-mail address or phone number joins an account unproven when a sign-up, or the
operator, names it. A code sent to it proves it. The first proof on an account ends what
an unproven claim could have planted there: a password set by a self-service sign-up
before any proof, and every session made with that password. So an account made by
someone else's claim never absorbs the real owner.
"""

from __future__ import annotations

import logging

from sessile.clock import Clock
from sessile.sessions import SessionService
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

__all__ = ["Ownership"]

log = logging.getLogger("sessile.login")

#: The revocation reason of sessions ended by the owner's first proof.
UNPROVEN_SIGNUP = "unproven_signup"


class Ownership:
    def __init__(self, db: Database, sessions: SessionService, clock: Clock) -> None:
        self._db = db
        self._sessions = sessions
        self._clock = clock

    async def prove(self, user: User, identifier: Identifier) -> None:
        """Record that the user proved ``identifier``; on the account's first proof, drop an
        unproven sign-up's password and end the sessions it made."""
        now = self._clock.now()
        if not await self._db.identifiers.prove(user.id, identifier, now=now):
            return
        if not await self._db.passwords.drop_unproven(user.id, now=now):
            return
        ended = await self._sessions.revoke_user(
            user.id, reason=UNPROVEN_SIGNUP, auth_method="password"
        )
        log.warning(
            "first proof of an identifier removed an unproven sign-up's password",
            extra={"user_id": user.id, "identifier_type": identifier.type, "sessions": ended},
        )
