"""What a login leaves behind: an audit event and a metric, for sends and failed checks
(a successful login is recorded with its session, in ``store/sessions.py``)."""

from __future__ import annotations

from sessile.metrics import LOGINS
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier

__all__ = ["code_sent", "login_failed"]


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


async def code_sent(db: Database, identifier: Identifier, *, now: float, delivered: bool) -> None:
    """A code queued for ``identifier`` (``delivered`` is false when nobody gets it)."""
    await db.audit.add(
        "code.sent",
        now=now,
        data={"identifier_type": identifier.type, "delivered": delivered},
    )
