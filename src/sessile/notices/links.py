"""The link in a notice that ends every session of the account.

Its token is 256 random bits, kept only as its SHA-256, bound to one account, usable once
(a conditional update spends it) and only until it expires. Opening the link shows a page
and changes nothing, since mail scanners follow links; the page's button posts the token
back, and that ends the sessions (``http/routes/end_sessions.py``).
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from sessile.clock import Clock
from sessile.crypto import secret_hash

__all__ = ["ENDED_FROM_NOTICE", "END_SESSIONS_PATH", "EndSessionLinks", "LinkPolicy"]

log = logging.getLogger("sessile.notices")

#: Where the link points, under the public URL.
END_SESSIONS_PATH = "/v1/session/end-sessions"
#: The revocation reason of the sessions a link ends.
ENDED_FROM_NOTICE = "ended_from_notice"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


class LinkStore(Protocol):
    async def create(
        self, token_hash: str, user_id: str, *, now: float, expires_at: float
    ) -> None: ...

    async def is_live(self, token_hash: str, *, now: float) -> bool: ...

    async def spend(self, token_hash: str, *, now: float) -> str | None: ...


class SessionEnder(Protocol):
    async def revoke_user(self, user_id: str, *, reason: str) -> int: ...


@dataclass(frozen=True)
class LinkPolicy:
    #: The page's absolute URL (the public URL and ``END_SESSIONS_PATH``).
    page_url: str
    #: Seconds a link works.
    ttl: int


class EndSessionLinks:
    def __init__(
        self, store: LinkStore, sessions: SessionEnder, clock: Clock, policy: LinkPolicy
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._clock = clock
        self._policy = policy

    async def issue(self, user_id: str) -> str:
        """A new link for ``user_id``'s account: the URL to put in one notice."""
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.create(
            secret_hash(token), user_id, now=now, expires_at=now + self._policy.ttl
        )
        return f"{self._policy.page_url}?{urlencode({'token': token})}"

    async def is_live(self, token: str) -> bool:
        """Whether ``token`` would still end the sessions (nothing is spent)."""
        if not _TOKEN.match(token):
            return False
        return await self._store.is_live(secret_hash(token), now=self._clock.now())

    async def end_sessions(self, token: str) -> int | None:
        """Spend ``token`` and end every session of its account: how many ended, or None
        when the token is malformed, unknown, used or expired."""
        if not _TOKEN.match(token):
            return None
        user_id = await self._store.spend(secret_hash(token), now=self._clock.now())
        if user_id is None:
            return None
        ended = await self._sessions.revoke_user(user_id, reason=ENDED_FROM_NOTICE)
        log.warning(
            "every session ended from an account notice",
            extra={"user_id": user_id, "sessions": ended},
        )
        return ended
