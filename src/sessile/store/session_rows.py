"""The session row: every column of a session, as the store writes and returns it; and
what a rotation returns of it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rotation", "SessionRow"]


@dataclass(frozen=True)
class SessionRow:
    id: str
    user_id: str
    jkt: str
    auth_method: str
    refresh_hash: str
    generation: int
    previous_hash: str | None
    rotated_at: float | None
    created_at: float
    last_seen_at: float
    expires_at: float
    revoked_at: float | None
    revoked_reason: str | None
    device_type: str
    device_model: str | None
    os_version: str | None
    browser: str | None
    country_code: str | None
    ip: str | None
    user_agent: str | None
    last_proof_iat: float | None = None
    last_proof_jti: str | None = None
    prev_proof_iat: float | None = None
    prev_proof_jti: str | None = None
    #: A scope granted by a step-up, and until when (DESIGN §12).
    granted_scope: str | None = None
    granted_until: float | None = None

    def granted(self, now: float) -> str | None:
        """The granted scope while it lasts, else None."""
        if self.granted_scope and self.granted_until is not None and self.granted_until > now:
            return self.granted_scope
        return None


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a refresh's new tokens need of the session it rotated, and no more: the
    statement returns five columns, not every one (``bench/refresh.py --anchor``)."""

    id: str
    user_id: str
    expires_at: float
    granted_scope: str | None
    granted_until: float | None
