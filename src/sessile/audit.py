"""Who is acting, from where, for the audit trail (``store/audit.py``).

The HTTP layer sets the facts of each request (client IP, user agent) when it arrives, and
the caller once it is known (an API key, a user); the CLI acts as ``cli``. Stores read them
when they write an audit event, inside the transaction of the change they record.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, replace

__all__ = [
    "AUDIT_TYPES",
    "AuditFacts",
    "acting_as",
    "current_facts",
    "set_request_facts",
]

#: Every audit event type; the data each carries is in docs/management-api.md.
AUDIT_TYPES = (
    "login.succeeded",
    "login.failed",
    "code.sent",
    "code.check_failed",
    "refresh.reuse_detected",
    "session.revoked",
    "password.changed",
    "password.removed",
    "identifier.added",
    "identifier.removed",
    "identifier.proven",
    "api_key.used",
    "token.minted",
    "config.changed",
)


@dataclass(frozen=True)
class AuditFacts:
    actor: str = "anonymous"
    ip: str | None = None
    user_agent: str | None = None


_facts: ContextVar[AuditFacts | None] = ContextVar("sessile_audit_facts", default=None)


def current_facts() -> AuditFacts:
    return _facts.get() or AuditFacts()


def set_request_facts(ip: str | None, user_agent: str | None) -> None:
    _facts.set(AuditFacts(ip=ip, user_agent=(user_agent or "")[:512] or None))


def acting_as(actor: str) -> None:
    """Name the caller (``api_key:<id>``, ``user:<id>``, ``cli``) for the rest of the work."""
    _facts.set(replace(current_facts(), actor=actor[:80]))
