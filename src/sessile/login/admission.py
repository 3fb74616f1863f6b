"""Who may log in (DESIGN §5): anyone but a disabled user. Every way in (password, code,
social login, finalize, step-up) asks here."""

from __future__ import annotations

from typing import TypeGuard

from sessile.errors import Unauthorized
from sessile.store.users import User

__all__ = ["CANT_LOG_IN", "admitted", "may_log_in"]

CANT_LOG_IN = "This account can't log in."


def may_log_in(user: User | None) -> TypeGuard[User]:
    return user is not None and user.disabled_at is None


def admitted(user: User | None) -> User:
    """``user`` if it may log in; ``unauthorized`` otherwise, the same for a missing user."""
    if not may_log_in(user):
        raise Unauthorized(CANT_LOG_IN)
    return user
