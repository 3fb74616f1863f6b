"""When a session ends (DESIGN §5, OWASP ASVS V7.3): at its absolute end, or after the idle
timeout without a refresh, whichever comes first; a revoked session has ended.

Plain values only. The store's list and rotation statements say the same in SQL
(``store.session_statements.live_condition``), with ``idle_since = now - idle_timeout``.
"""

from __future__ import annotations

from sessile.store.session_rows import SessionRow

__all__ = ["ends_at", "is_live"]


def ends_at(row: SessionRow, idle_timeout: float) -> float:
    """When the session ends unless it is refreshed before."""
    return min(row.expires_at, row.last_seen_at + idle_timeout)


def is_live(row: SessionRow, now: float, idle_timeout: float) -> bool:
    return row.revoked_at is None and ends_at(row, idle_timeout) > now
