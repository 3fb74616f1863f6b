"""Lifecycle events for the app's backend (DESIGN §12): types, the webhook worker, and
endpoint activation."""

from sessile.events.types import EVENT_TYPES

__all__ = ["EVENT_TYPES"]
