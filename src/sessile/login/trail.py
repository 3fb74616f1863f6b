"""What a failed login leaves behind: an audit event and a metric (a code sent is recorded
with its challenge, in ``store/otp.py``, a successful login with its session, in
``store/sessions.py``)."""

from __future__ import annotations

from sessile.metrics import LOGINS
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier

__all__ = ["login_failed"]


async def login_failed(
    db: Database, identifier: Identifier, *, method: str, now: float, user_id: str | None = None
) -> None:
    """A wrong code (``code.check_failed``) or password (``login.failed``)."""
    LOGINS.labels(method=method, result="failure").inc()
    await db.audit.add(
        "code.check_failed" if method == "otp" else "login.failed",
        now=now,
        user_id=user_id,
        data={"method": method, "identifier_type": identifier.type},
    )
