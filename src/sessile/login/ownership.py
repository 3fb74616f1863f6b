"""Who owns an account (DESIGN §12, "identifiers are proven").

An e-mail address or phone number joins an account unproven when a sign-up, a social login
whose provider doesn't vouch for it (``SESSILE_OAUTH_VERIFY_EMAIL=false``), or the operator
names it. A code sent to it proves it. The first proof of an address ends what an unproven
claim could have planted on its account: a password set by a self-service sign-up before
any proof, every provider identity linked to the account on the strength of its unproven
address, every session made with them (reason ``unproven_signup``) and every login by them
not yet finalized. So an account made by someone else's claim never absorbs the real
owner: it stays, and becomes the owner's.

Until then such an account is *unproven*: it can't gain what would outlive that proof, so
step-up refuses it the scopes that change identifiers and passwords (``stepup/service.py``),
and another provider joins it only by a code to the address (``login/oauth/accounts.py``).
"""

from __future__ import annotations

import logging

from sessile.clock import Clock
from sessile.login.oauth.known import session_auth_method
from sessile.sessions import SessionService
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

__all__ = ["UNPROVEN_SIGNUP", "Ownership"]

log = logging.getLogger("sessile.login")

#: The revocation reason of sessions ended by the owner's first proof.
UNPROVEN_SIGNUP = "unproven_signup"


class Ownership:
    def __init__(self, db: Database, sessions: SessionService, clock: Clock) -> None:
        self._db = db
        self._sessions = sessions
        self._clock = clock

    async def unproven(self, user: User) -> bool:
        """Whether a login method that no proof backs reaches the account: a sign-up's
        password or a provider identity linked on its unproven address."""
        return user.password_unproven or await self._db.identities.has_unproven(user.id)

    async def prove(
        self, user: User, identifier: Identifier, *, keep: tuple[str, str] | None = None
    ) -> None:
        """Record that the user proved ``identifier``. On its first proof, remove every
        login method that was not proven with it, but ``keep`` (the provider identity this
        very proof links), and end the sessions they made."""
        now = self._clock.now()
        if not await self._db.identifiers.prove(user.id, identifier, now=now):
            return
        methods = [
            session_auth_method(provider)
            for provider in await self._db.identities.unlink_unproven(user.id, keep=keep)
        ]
        if await self._db.passwords.drop_unproven(user.id, now=now):
            methods.append("password")
        if not methods:
            return
        methods = sorted(set(methods))
        # A login by such a method, checked but not yet finalized, ends with it too.
        await self._db.challenges.void_unused(user.id, methods, now=now)
        ended = 0
        for method in methods:
            ended += await self._sessions.revoke_user(
                user.id, reason=UNPROVEN_SIGNUP, auth_method=method
            )
        log.warning(
            "first proof of an identifier removed the login methods no proof backed",
            extra={
                "user_id": user.id,
                "identifier_type": identifier.type,
                "methods": methods,
                "sessions": ended,
            },
        )
