"""Account changes inside a session, each behind a reserved scope granted by a step-up
(DESIGN §12): a new password (``prld:pwd:write``, spent by the change), and removing an
e-mail address or phone number (with its type's register scope). Adding one is the
register step-up itself (``stepup/service.py``)."""

from __future__ import annotations

import html
import logging

from sessile.clock import Clock
from sessile.config import Settings
from sessile.delivery import Message, Sender
from sessile.errors import Conflict, DeliveryFailed, InsufficientScope, NotFound
from sessile.login.passwords import Passwords
from sessile.sessions import SessionService
from sessile.store.database import Database
from sessile.store.session_rows import SessionRow
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

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


def password_changed_notice(settings: Settings, user: User) -> Message | None:
    """The "your password was changed" notice, to a proven address, else a proven phone."""
    values = {"app_name": settings.app_name}
    text = settings.password_changed_text.format(**values)
    emails = sorted(i.value for i in user.proven if i.type == "email_address")
    if emails:
        page = f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>"
        subject = settings.password_changed_subject.format(**values)
        return Message("email", emails[0], "", text, subject, page)
    phones = sorted(i.value for i in user.proven if i.type == "phone_number")
    return Message("sms", phones[0], "", text) if phones else None


class AccountChanges:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        sessions: SessionService,
        sender: Sender,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._passwords = passwords
        self._sessions = sessions
        self._sender = sender
        self._clock = clock
        self._settings = settings

    async def change_password(self, session: SessionRow, password: str) -> int:
        """Set the password (policy enforced) and spend the session's ``prld:pwd:write``
        grant, so one grant makes one change; end the other sessions when so configured;
        tell the user. Returns how many sessions ended."""
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
        user = await self._db.users.get(session.user_id)
        notice = password_changed_notice(self._settings, user) if user else None
        if notice is not None:
            try:
                await self._sender.send(notice)
            except DeliveryFailed:
                # The change stands; only the notice is lost, and that is logged.
                log.warning(
                    "password-changed notice not delivered",
                    extra={"user_id": user.id if user else None},
                )
        return ended

    async def remove_identifier(self, session: SessionRow, identifier: Identifier) -> None:
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
