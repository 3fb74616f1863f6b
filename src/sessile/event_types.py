"""The events a webhook endpoint can subscribe to (Prelude's names); the stores record
them, the webhook worker delivers them.

Prelude's management enum lists the seven ``user.*`` events; its newer docs add four more.
An endpoint may subscribe to any of the eleven: sessile emits the seven and
``step_up.hook_failed``, and accepts the passkey and migration ones so that a backend
written for them registers unchanged (sessile has no passkeys or migration hook to fire
them).
"""

from __future__ import annotations

__all__ = [
    "EVENT_TYPES",
    "IDENTIFIER_CREATED",
    "IDENTIFIER_DELETED",
    "MIGRATION_HOOK_FAILED",
    "PASSKEY_DELETED",
    "PASSKEY_REGISTERED",
    "SESSION_CREATED",
    "SESSION_REVOKED",
    "STEP_UP_HOOK_FAILED",
    "USER_CREATED",
    "USER_DELETED",
    "USER_EVENT_TYPES",
    "USER_PROFILE_UPDATED",
]

USER_CREATED = "user.created"
USER_DELETED = "user.deleted"
USER_PROFILE_UPDATED = "user.profile.updated"
IDENTIFIER_CREATED = "user.identifier.created"
IDENTIFIER_DELETED = "user.identifier.deleted"
SESSION_CREATED = "user.session.created"
#: Its payload's ``reason`` (a sessile extra): logout, revoke_all, revoke_others,
#: revoked_by_user, admin, refresh_token_reuse, password_changed, user_disabled, …
SESSION_REVOKED = "user.session.revoked"
PASSKEY_REGISTERED = "user.passkey.registered"
PASSKEY_DELETED = "user.passkey.deleted"
#: The step-up delegation hook could not be called, or answered wrongly; ``reason`` says how.
STEP_UP_HOOK_FAILED = "step_up.hook_failed"
MIGRATION_HOOK_FAILED = "migration.hook_failed"

#: The enum of Prelude's management pages (create webhook, add webhook event).
USER_EVENT_TYPES = (
    USER_CREATED,
    USER_DELETED,
    USER_PROFILE_UPDATED,
    IDENTIFIER_CREATED,
    IDENTIFIER_DELETED,
    SESSION_CREATED,
    SESSION_REVOKED,
)

#: Every event an endpoint may subscribe to.
EVENT_TYPES = (
    *USER_EVENT_TYPES,
    PASSKEY_REGISTERED,
    PASSKEY_DELETED,
    STEP_UP_HOOK_FAILED,
    MIGRATION_HOOK_FAILED,
)
