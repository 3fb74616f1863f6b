"""The event document a webhook endpoint receives, in Prelude's shapes (PRELUDE-API §5.5).

Each item of a delivery's ``events`` is::

    {"id": "evt_…", "type": "user.created", "event": "user.created",
     "created_at": "<RFC 3339>", "user_id": "usr_…",
     "payload": {"user_id": "usr_…", …the event's documented fields…}}

Prelude documents the payload of each event but not the keys of the item around it, so
the name is under both ``type`` and ``event`` (the word Prelude's management API uses for
an event name), and the documented fields are under ``payload``. The ``id`` (for
deduplication), the item's ``created_at`` and ``user_id`` are sessile's, beside them.

Every payload carries ``user_id`` and the time field its event documents (``created_at``,
``updated_at``, ``deleted_at``, ``revoked_at``…), set here from the time of the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sessile import event_types as event
from sessile.audit import current_facts

__all__ = ["change_source", "event_document", "event_time"]

#: The payload field that tells when the change happened, per event.
_TIME_FIELDS = {
    event.USER_CREATED: "created_at",
    event.USER_DELETED: "deleted_at",
    event.USER_PROFILE_UPDATED: "updated_at",
    event.IDENTIFIER_CREATED: "created_at",
    event.IDENTIFIER_DELETED: "deleted_at",
    event.SESSION_CREATED: "created_at",
    event.SESSION_REVOKED: "revoked_at",
    event.PASSKEY_REGISTERED: "registered_at",
    event.PASSKEY_DELETED: "deleted_at",
    event.STEP_UP_HOOK_FAILED: "occurred_at",
    event.MIGRATION_HOOK_FAILED: "occurred_at",
}


def event_time(timestamp: float) -> str:
    """RFC 3339 in UTC, to the millisecond: ``2027-01-15T08:00:00.000Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def change_source() -> str:
    """Where the change came from, for ``user.created``'s ``source``: ``api`` (the
    management API), ``cli`` (the operator's command line) or ``frontend`` (a login)."""
    actor = current_facts().actor
    if actor.startswith("api_key:"):
        return "api"
    return "cli" if actor == "cli" else "frontend"


def event_document(
    event_id: str, event_type: str, *, user_id: str, payload: Mapping[str, Any], now: float
) -> dict[str, Any]:
    """The item of a delivery's ``events`` for one event, as it will be sent."""
    when = event_time(now)
    fields: dict[str, Any] = {"user_id": user_id}
    if event_type in _TIME_FIELDS:
        fields[_TIME_FIELDS[event_type]] = when
    return {
        "id": event_id,
        "type": event_type,
        "event": event_type,
        "created_at": when,
        "user_id": user_id,
        "payload": {**fields, **payload},
    }
