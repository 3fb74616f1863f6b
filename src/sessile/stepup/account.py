"""Account changes inside a session, each behind a reserved scope granted by a step-up
(DESIGN §12): a new password (``prld:pwd:write``, spent by the change), and removing an
e-mail address or phone number (with its type's register scope). Adding one is the
register step-up itself (``stepup/service.py``).

A leaked access token must not be enough to take the account over (the HTTP layer also
asks the session's DPoP key for a removal):
- The account's oldest proven identifier, its anchor, is removed only under a grant whose
  code went to that very identifier, never under the grant that added another one: else
  whoever adds their own address could drop the owner's in the same breath.
- Every proven address is told of each change (``sessile.notices``), with a link that ends
  every session of the account.
- An account that an unproven claim made can't change its password until its address is
  proven (``login/ownership.py``).
"""

from __future__ import annotations

import logging

from sessile.clock import Clock
from sessile.config import Settings
from sessile.errors import AuthBlocked, Conflict, InsufficientScope, NotFound
from sessile.login.ownership import Ownership
from sessile.login.passwords import Passwords
from sessile.notices import AccountChange, AccountNotices
from sessile.sessions import SessionService
from sessile.stepup.policy import IDENTIFIER_KEY
from sessile.store.database import Database
from sessile.store.session_rows import SessionRow
from sessile.store.user_identifiers import Identifier

__all__ = ["AccountChanges", "scope_for_identifier"]

log = logging.getLogger("sessile.stepup")

#: The revocation reason of the sessions a password change ends.
PASSWORD_CHANGED = "password_changed"
#: The scope a password change needs, and spends.
PASSWORD_SCOPE = "prld:pwd:write"


def scope_for_identifier(identifier_type: str) -> str:
    return "prld:email:register" if identifier_type == "email_address" else "prld:phone:register"


def require_grant(
    session: SessionRow, token_scopes: frozenset[str], scope: str, now: float
) -> None:
    """The access token carries ``scope`` and the session's grant of it still lasts."""
    if scope not in token_scopes or scope not in (session.granted(now) or "").split():
        raise InsufficientScope(f"This needs a step-up for the scope {scope}, still valid.")


class AccountChanges:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        sessions: SessionService,
        ownership: Ownership,
        notices: AccountNotices,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._sessions = sessions
        self._ownership = ownership
        self._notices = notices
        self._clock = clock
        self._settings = settings

    async def change_password(self, session: SessionRow, password: str) -> int:
        """Set the password (policy enforced) and spend the session's ``prld:pwd:write``
        grant, so one grant makes one change; end the other sessions when so configured;
        tell the user. Returns how many sessions ended."""
        user = await self._db.users.get(session.user_id)
        if user is None:
            raise NotFound("No such user.")
        if await self._ownership.unproven(user):
            # A grant given at login (a login config's granted_scopes) reaches here too.
            raise AuthBlocked("Prove this account's address first: log in with a code sent to it.")
        password_hash = await self._passwords.hash(password)
        if not await self._db.sessions.clear_grant(session.id, scope=PASSWORD_SCOPE):
            # Spent by a change made a moment ago with the same grant.
            raise InsufficientScope(f"This needs a step-up for the scope {PASSWORD_SCOPE}.")
        if not await self._db.passwords.set_hash(
            session.user_id, password_hash, now=self._clock.now()
        ):
            raise NotFound("No such user.")
        ended = 0
        if self._settings.stepup_password_revokes_others:
            ended = await self._sessions.revoke_user(
                session.user_id, reason=PASSWORD_CHANGED, except_id=session.id
            )
        log.info(
            "password changed in a session",
            extra={"user_id": session.user_id, "session_id": session.id, "sessions": ended},
        )
        await self._notices.tell(session.user_id, AccountChange.password_changed())
        return ended

    async def remove_identifier(self, session: SessionRow, identifier: Identifier) -> None:
        """Remove one of the user's identifiers under its type's register grant (checked
        by the caller); never the last, and the anchor only as the module says."""
        user = await self._db.users.get(session.user_id)
        if user is None:
            raise NotFound("No such user.")
        if user.identifiers == (identifier,):
            raise Conflict("This is your last way to log in; add another one first.")
        if identifier == await self._db.identifiers.oldest_proven(user.id):
            await self._require_anchor_proof(session, identifier)
        outcome = await self._db.identifiers.remove_unless_last(
            session.user_id, identifier, now=self._clock.now()
        )
        if outcome == "missing":
            raise NotFound("This identifier is not on your account.")
        if outcome == "last":
            raise Conflict("This is your last way to log in; add another one first.")
        log.info(
            "identifier removed in a session",
            extra={"user_id": session.user_id, "identifier_type": identifier.type},
        )
        change = AccountChange.identifier_removed(identifier, was_proven=identifier in user.proven)
        await self._notices.tell(session.user_id, change)

    async def _require_anchor_proof(self, session: SessionRow, identifier: Identifier) -> None:
        """The session's grant came from a register step-up whose code went to
        ``identifier`` itself (it named the identifier the account already holds)."""
        scope = scope_for_identifier(identifier.type)
        granted_by = await self._db.stepup.last_redeemed(session.id, scope)
        if granted_by is None or granted_by.metadata.get(IDENTIFIER_KEY) != identifier.value:
            raise InsufficientScope(
                f"{identifier.value} is the account's first proven identifier: remove it "
                f"with a grant of {scope} whose code went to it (metadata.identifier), "
                "not the one that added another."
            )
