"""How users and sessions look on the wire: RFC 3339 times, never a hash or a token.

Each shape is one pydantic model: the OpenAPI document shows it (``response_model``), and
the view functions below build their answers through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from sessile.store.identities import Identity
from sessile.store.session_rows import SessionRow
from sessile.store.users import User

__all__ = [
    "CreatedUser",
    "IdentifierView",
    "IdentityView",
    "Revoked",
    "SessionList",
    "SessionView",
    "UserAnswer",
    "UserList",
    "UserView",
    "rfc3339",
    "session_page",
    "session_view",
    "user_view",
    "user_views",
]


def rfc3339(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


class IdentifierView(BaseModel):
    type: str
    value: str
    verified: bool = Field(description="Whether a code, or the backend, proved it.")


class IdentityView(BaseModel):
    provider: str = Field(description="The social-login provider's name, e.g. google.")
    subject: str = Field(description="The provider's id for the person.")
    email: str | None
    email_verified: bool = Field(description="Whether the provider vouched for the address.")
    created_at: str = Field(description="RFC 3339, UTC.")
    last_login_at: str = Field(description="RFC 3339, UTC.")


class UserView(BaseModel):
    id: str
    identifiers: list[IdentifierView]
    email_verified: bool = Field(description="Some e-mail address of the user is proven.")
    phone_verified: bool = Field(description="Some phone number of the user is proven.")
    profile: dict[str, Any]
    has_password: bool
    created_at: str = Field(description="RFC 3339, UTC.")
    updated_at: str = Field(description="RFC 3339, UTC.")
    disabled: bool
    identities: list[IdentityView] = Field(description="Social-login accounts linked to it.")
    status: str = Field(description="`active`, or `inactive` (disabled).")
    scopes: list[str]
    external_id: str | None


class UserAnswer(BaseModel):
    """One user, in the wrapper of Prelude's ``GET /users/{userID}``; every route that
    answers with one user uses it."""

    user: UserView


class CreatedUser(BaseModel):
    """Prelude's answer to ``POST /users`` is ``{"id"}``; the user is sessile's addition."""

    id: str
    user: UserView


class UserList(BaseModel):
    users: list[UserView]
    total: int
    limit: int
    offset: int


class SessionView(BaseModel):
    """Exactly the fields of DESIGN §2: never a token or a hash. Unknown facts are ``""``,
    not null: Prelude's SDK types them as strings, and apps call string methods on them."""

    id: str
    device_type: str
    device_model: str
    os_version: str
    country_code: str
    created_at: str
    last_seen_at: str
    expires_at: str


class SessionList(BaseModel):
    sessions: list[SessionView]
    total: int
    limit: int
    offset: int


class Revoked(BaseModel):
    revoked: int


def session_view(row: SessionRow, ends_at: float) -> dict[str, Any]:
    """One session; ``ends_at`` is when it ends unless refreshed (``SessionService.ends_at``)."""
    return SessionView(
        id=row.id,
        device_type=row.device_type,
        device_model=row.device_model or "",
        os_version=row.os_version or "",
        country_code=row.country_code or "",
        created_at=rfc3339(row.created_at),
        last_seen_at=rfc3339(row.last_seen_at),
        expires_at=rfc3339(ends_at),
    ).model_dump()


def session_page(
    rows: Sequence[SessionRow],
    total: int,
    *,
    limit: int,
    offset: int,
    ends_at: Callable[[SessionRow], float],
) -> dict[str, Any]:
    """A page of sessions, as ``/v1/session/me/list`` and the management API list them."""
    return {
        "sessions": [session_view(r, ends_at(r)) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


def _identity_view(identity: Identity) -> IdentityView:
    return IdentityView(
        provider=identity.provider,
        subject=identity.subject,
        email=identity.email,
        email_verified=identity.email_verified,
        created_at=rfc3339(identity.created_at),
        last_login_at=rfc3339(identity.last_login_at),
    )


def user_views(
    users: Sequence[User], identities: Mapping[str, Sequence[Identity]]
) -> list[dict[str, Any]]:
    """Users as the management API shows them, each with its provider identities."""
    return [user_view(u, identities.get(u.id, ())) for u in users]


def user_view(user: User, identities: Sequence[Identity] = ()) -> dict[str, Any]:
    """A user as the management API shows one: never the password hash."""
    return UserView(
        id=user.id,
        identifiers=[
            IdentifierView(type=i.type, value=i.value, verified=i in user.proven)
            for i in user.identifiers
        ],
        email_verified=user.is_proven("email_address"),
        phone_verified=user.is_proven("phone_number"),
        profile=dict(user.profile),
        has_password=user.password_hash is not None,
        created_at=rfc3339(user.created_at),
        updated_at=rfc3339(user.updated_at),
        disabled=user.disabled_at is not None,
        identities=[_identity_view(i) for i in identities],
        status="inactive" if user.disabled_at is not None else "active",
        scopes=list(user.scopes),
        external_id=user.external_id,
    ).model_dump()
