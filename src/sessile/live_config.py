"""Configuration changed at runtime through the management API (``…/config/…``).

Each document is JSON stored in the database under a name (``stepup``, ``claims``,
``login_otp``, ``login_password``, ``login_oauth:<provider>``…). Every node reads the
whole set again once its copy is ``max_age`` seconds old, so a change is in force
everywhere within seconds and without a restart; the node that made it sees it at once.
A name with no document falls back to what the ``SESSILE_*`` settings say: the feature
that owns the document parses it and supplies that default.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from sessile.clock import Clock
from sessile.store.app_config import AppConfigStore, ConfigDocument

__all__ = ["ConfigDocument", "LiveConfig"]


class LiveConfig:
    def __init__(self, store: AppConfigStore, clock: Clock, *, max_age: float = 2.0) -> None:
        self._store = store
        self._clock = clock
        self._max_age = max_age
        self._documents: Mapping[str, ConfigDocument] = {}
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def documents(self) -> Mapping[str, ConfigDocument]:
        """Every stored document, at most ``max_age`` seconds old."""
        if time.monotonic() - self._read_at <= self._max_age:
            return self._documents
        async with self._lock:
            # Whoever waited for the lock finds the set another caller just read.
            if time.monotonic() - self._read_at > self._max_age:
                self._documents = await self._store.all()
                self._read_at = time.monotonic()
        return self._documents

    async def get(self, name: str) -> ConfigDocument | None:
        return (await self.documents()).get(name)

    async def value(self, name: str) -> Any:
        """The stored value of ``name``, or None for the settings' default."""
        document = await self.get(name)
        return None if document is None else document.value

    async def put(self, name: str, value: Any) -> ConfigDocument:
        """Store a new version of ``name`` (audited); this node uses it at once."""
        document = await self._store.put(name, value, now=self._clock.now())
        self.forget()
        return document

    async def delete(self, name: str) -> bool:
        """Drop ``name``, back to the settings' default (audited)."""
        deleted = await self._store.delete(name, now=self._clock.now())
        self.forget()
        return deleted

    def forget(self) -> None:
        """Read every document again at the next use."""
        self._read_at = float("-inf")
