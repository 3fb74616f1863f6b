"""Follow sessile's revocation feed, so a revoked session's access tokens are refused within
seconds instead of living out their lifetime.

The feed (``GET /v2/session/apps/{app_id}/revocations?after=<cursor>``, with a
management API key) lists revoked sessions and user-wide revocations. A
:class:`RevocationFeed` polls it and keeps what it says for ``retention``
seconds, longer than any access token lives. When the feed can't be reached,
verification goes on with signatures and expiry alone; the feed says so in its
log, in :attr:`RevocationFeed.healthy` and in its counters.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from sessile.verify.claims import Claims

__all__ = ["FeedStats", "RevocationFeed"]

log = logging.getLogger("sessile.verify.revocations")


@dataclass
class FeedStats:
    """Counters for monitoring: successful and failed polls, and rows taken in."""

    polls: int = 0
    failures: int = 0
    rows: int = 0
    last_success: float | None = None
    last_error: str | None = None


class RevocationFeed:
    def __init__(
        self,
        issuer: str,
        api_key: str,
        *,
        app_id: str = "default",
        url: str | None = None,
        interval: float = 2.0,
        retention: float = 86_400.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url or f"{issuer.rstrip('/')}/v2/session/apps/{app_id}/revocations"
        self.interval = interval
        self.retention = retention
        self.stats = FeedStats()
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._timeout = timeout
        self._clock = clock
        self._cursor = 0
        self._sessions: dict[str, float] = {}
        self._users: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # What the feed said ---------------------------------------------------------------------
    @property
    def healthy(self) -> bool:
        """True while the last poll succeeded within a few intervals."""
        last = self.stats.last_success
        return last is not None and self._clock() - last < max(3 * self.interval, 10.0)

    def is_revoked(self, claims: Claims) -> bool:
        with self._lock:
            if claims.sid is not None and claims.sid in self._sessions:
                return True
            not_before = self._users.get(claims.sub)
        # Whole seconds: a token from the second of the revocation gets the benefit of the
        # doubt (its session, if revoked, is listed by id anyway).
        return (
            not_before is not None
            and claims.iat is not None
            and claims.iat < math.floor(not_before)
        )

    def _apply(self, body: Mapping[str, Any]) -> None:
        rows = body.get("revocations")
        cursor = body.get("cursor")
        if not isinstance(rows, list) or not isinstance(cursor, int):
            raise ValueError("not a revocation feed answer")
        now = self._clock()
        with self._lock:
            for row in rows:
                revoked_at = float(row["revoked_at"])
                if row.get("session_id"):
                    self._sessions[str(row["session_id"])] = revoked_at
                else:
                    user = str(row["user_id"])
                    self._users[user] = max(self._users.get(user, 0.0), revoked_at)
            horizon = now - self.retention
            self._sessions = {k: v for k, v in self._sessions.items() if v > horizon}
            self._users = {k: v for k, v in self._users.items() if v > horizon}
            self._cursor = max(self._cursor, cursor)
        self.stats.rows += len(rows)

    def _succeeded(self) -> None:
        self.stats.polls += 1
        self.stats.last_success = self._clock()
        self.stats.last_error = None

    def _failed(self, exc: Exception) -> None:
        self.stats.failures += 1
        self.stats.last_error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "revocation feed unreachable; verifying by signature and expiry only",
            extra={"url": self.url, "error": self.stats.last_error},
        )

    # Polling --------------------------------------------------------------------------------
    def poll(self) -> bool:
        """Fetch what is new once; False (and logged) when the feed can't be read."""
        try:
            response = httpx.get(
                self.url,
                params={"after": self._cursor},
                headers=self._headers,
                timeout=self._timeout,
            )
            response.raise_for_status()
            self._apply(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self._failed(exc)
            return False
        self._succeeded()
        return True

    async def apoll(self) -> bool:
        """:meth:`poll` for async code."""
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(
                    self.url, params={"after": self._cursor}, headers=self._headers
                )
            response.raise_for_status()
            self._apply(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self._failed(exc)
            return False
        self._succeeded()
        return True

    def start(self) -> None:
        """Poll every ``interval`` seconds in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sessile-revocations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + self.interval)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    async def run(self) -> None:
        """Poll forever from an asyncio task (cancel it to stop)."""
        while True:
            await self.apoll()
            await asyncio.sleep(self.interval)
