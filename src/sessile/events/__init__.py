"""Lifecycle events for the app's backend (DESIGN §12): the webhook worker and the
endpoints it delivers to. The event types are ``sessile.event_types``: the stores record
events in the transaction of each change."""

from sessile.event_types import EVENT_TYPES

__all__ = ["EVENT_TYPES"]
