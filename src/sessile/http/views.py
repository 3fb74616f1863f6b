"""How users and sessions look on the wire: RFC 3339 times, never a hash or a token."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sessile.store.database import Database
from sessile.store.identities import Identity
from sessile.store.sessions import SessionRow
from sessile.store.users import User

__all__ = ["rfc3339", "session_view", "user_view", "user_views"]


def rfc3339(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def session_view(row: SessionRow, idle_timeout: float) -> dict[str, Any]:
    """Exactly the fields of DESIGN §2: never a token or a hash. Unknown facts are ``""``,
    not null: Prelude's SDK types them as strings, and apps call string methods on them."""
    return {
        "id": row.id,
        "device_type": row.device_type,
        "device_model": row.device_model or "",
        "os_version": row.os_version or "",
        "country_code": row.country_code or "",
        "created_at": rfc3339(row.created_at),
        "last_seen_at": rfc3339(row.last_seen_at),
        "expires_at": rfc3339(min(row.expires_at, row.last_seen_at + idle_timeout)),
    }


def identity_view(identity: Identity) -> dict[str, Any]:
    return {
        "provider": identity.provider,
        "subject": identity.subject,
        "email": identity.email,
        "email_verified": identity.email_verified,
        "created_at": rfc3339(identity.created_at),
        "last_login_at": rfc3339(identity.last_login_at),
    }


async def user_views(db: Database, users: Sequence[User]) -> list[dict[str, Any]]:
    """Users as the management API shows them, each with its provider identities."""
    identities = await db.identities.for_users([u.id for u in users])
    return [user_view(u, identities[u.id]) for u in users]


def user_view(user: User, identities: Sequence[Identity] = ()) -> dict[str, Any]:
    """A user as the management API shows one: never the password hash."""
    return {
        "id": user.id,
        "identifiers": [
            {"type": i.type, "value": i.value, "verified": i in user.proven}
            for i in user.identifiers
        ],
        "email_verified": user.is_proven("email_address"),
        "phone_verified": user.is_proven("phone_number"),
        "profile": dict(user.profile),
        "has_password": user.password_hash is not None,
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
        "disabled": user.disabled_at is not None,
        "identities": [identity_view(i) for i in identities],
        "status": "inactive" if user.disabled_at is not None else "active",
        "scopes": list(user.scopes),
        "external_id": user.external_id,
    }
