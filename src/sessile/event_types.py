"""The events a webhook endpoint can subscribe to (Prelude's names); the stores record
them, the webhook worker delivers them."""

from __future__ import annotations

__all__ = [
    "EVENT_TYPES",
    "IDENTIFIER_CREATED",
    "IDENTIFIER_DELETED",
    "SESSION_CREATED",
    "SESSION_REVOKED",
    "USER_CREATED",
    "USER_DELETED",
    "USER_PROFILE_UPDATED",
]

USER_CREATED = "user.created"
USER_DELETED = "user.deleted"
USER_PROFILE_UPDATED = "user.profile.updated"
IDENTIFIER_CREATED = "user.identifier.created"
IDENTIFIER_DELETED = "user.identifier.deleted"
SESSION_CREATED = "user.session.created"
#: Its payload's ``reason``: logout, revoke_all, revoke_others, revoked_by_user, admin,
#: refresh_token_reuse, password_changed, user_disabled, user_deleted, …
SESSION_REVOKED = "user.session.revoked"

EVENT_TYPES = (
    USER_CREATED,
    USER_DELETED,
    USER_PROFILE_UPDATED,
    IDENTIFIER_CREATED,
    IDENTIFIER_DELETED,
    SESSION_CREATED,
    SESSION_REVOKED,
)
