"""An optional breached-password check by k-anonymity range query (ASVS 5.0 V6.2.12).

The shape is Have I Been Pwned's range API: ``GET {url}/{first 5 hex of SHA-1}`` answers
``SUFFIX:COUNT`` lines, one per known hash with that prefix. Only the 5-character prefix
leaves the server, never the password or its full hash. ``Add-Padding`` asks for decoy
lines (count 0), so the answer's size says nothing either.

When the service can't be asked (down, slow, a non-200 answer), ``fail_closed`` decides:
refuse to set the password for now (503), or accept it and log a warning.
"""

from __future__ import annotations

import hashlib
import logging

import httpx

from sessile.errors import InvalidPassword, ServiceUnavailable

__all__ = ["BreachedPasswords"]

log = logging.getLogger("sessile.passwords")


class BreachedPasswords:
    def __init__(self, url: str, *, timeout: float, fail_closed: bool) -> None:
        self._url = url.rstrip("/")
        self._timeout = timeout
        self._fail_closed = fail_closed

    async def times_seen(self, password: str) -> int:
        """How often the service has seen the password in breaches; 0 when never."""
        digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.get(f"{self._url}/{prefix}", headers={"Add-Padding": "true"})
        response.raise_for_status()
        for line in response.text.splitlines():
            found, _, count = line.strip().partition(":")
            if found.upper() == suffix:
                return int(count) if count.strip().isdigit() else 1
        return 0

    async def refuse_breached(self, password: str) -> None:
        """InvalidPassword when the password appears in a breach."""
        try:
            seen = await self.times_seen(password)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning(
                "breached-password check unavailable",
                extra={"error": type(exc).__name__, "fail_closed": self._fail_closed},
            )
            if self._fail_closed:
                raise ServiceUnavailable(
                    "The password can't be checked against known breaches right now; "
                    "try again in a moment."
                ) from exc
            return
        if seen > 0:
            raise InvalidPassword(
                "This password has appeared in a data breach, so attackers try it; choose another."
            )
