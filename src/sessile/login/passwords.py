"""Passwords (DESIGN §6): argon2id with OWASP parameters, hashed off the event loop, and the
policy that ``/password/compliancy`` serves and the server enforces."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sessile.config import Settings
from sessile.errors import BadRequest, InvalidPassword
from sessile.login.breached_passwords import BreachedPasswords
from sessile.login.common_passwords import is_common

__all__ = ["PasswordPolicy", "Passwords", "PolicySource"]

_KIND = {"Lu": "uppercase", "Ll": "lowercase", "Nd": "numbers"}
_LABELS = {
    "uppercase": "uppercase letter(s)",
    "lowercase": "lowercase letter(s)",
    "numbers": "digit(s)",
    "symbols": "symbol(s)",
}

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    max_length: int = 128
    #: The least number of characters of each kind.
    uppercase: int = 0
    lowercase: int = 0
    numbers: int = 0
    symbols: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordPolicy:
        return cls(
            min_length=settings.password_min_length,
            max_length=settings.password_max_length,
            uppercase=settings.password_uppercase,
            lowercase=settings.password_lowercase,
            numbers=settings.password_numbers,
            symbols=settings.password_symbols,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self, password: str) -> list[str]:
        """What the password lacks; empty when it complies.

        Characters are counted as Prelude's SDK counts them: uppercase (Lu),
        lowercase (Ll), numbers (Nd), and everything else as symbols.
        """
        kinds = {"uppercase": 0, "lowercase": 0, "numbers": 0, "symbols": 0}
        for char in password:
            kinds[_KIND.get(unicodedata.category(char), "symbols")] += 1
        found = []
        if len(password) < self.min_length:
            found.append(f"at least {self.min_length} characters")
        # 0 is Prelude's "no maximum"; the request bodies still stop at 1024 characters.
        if self.max_length and len(password) > self.max_length:
            found.append(f"at most {self.max_length} characters")
        for kind, label in _LABELS.items():
            needed = getattr(self, kind)
            if kinds[kind] < needed:
                found.append(f"at least {needed} {label}")
        return found

    def enforce(self, password: str) -> None:
        problems = self.problems(password)
        if problems:
            raise BadRequest("The password needs " + ", ".join(problems) + ".")


#: The policy in force now (the password login config, ``login/configs/password.py``).
PolicySource = Callable[[], Awaitable[PasswordPolicy]]


class Passwords:
    def __init__(
        self,
        policy: PasswordPolicy,
        breached: BreachedPasswords | None = None,
        *,
        current: PolicySource | None = None,
    ) -> None:
        """``policy`` is the settings'; ``current``, when given, says what is in force."""
        self.policy = policy
        self._current = current
        self._breached = breached
        self._dummy: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, current: PolicySource | None = None) -> Passwords:
        breached = None
        if settings.password_breached_url:
            breached = BreachedPasswords(
                settings.password_breached_url,
                timeout=settings.password_breached_timeout,
                fail_closed=settings.password_breached_fail == "closed",
            )
        return cls(PasswordPolicy.from_settings(settings), breached, current=current)

    async def current_policy(self) -> PasswordPolicy:
        """The policy ``/password/compliancy`` serves and :meth:`hash` enforces now."""
        return self.policy if self._current is None else await self._current()

    async def hash(self, password: str) -> str:
        """Check the policy, the common-password list and (when configured) known breaches,
        then hash in a worker thread. Every password that is set comes through here."""
        (await self.current_policy()).enforce(password)
        if is_common(password):
            raise InvalidPassword(
                "This password is too common: it is on the list of passwords attackers "
                "try first. Choose another."
            )
        if self._breached is not None:
            await self._breached.refuse_breached(password)
        return await asyncio.to_thread(_HASHER.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Constant work whether or not there is a hash: unknown users check a dummy."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await asyncio.to_thread(_HASHER.hash, "sessile dummy password")
            password_hash = self._dummy
            await asyncio.to_thread(_verify, password_hash, password)
            return False
        return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
