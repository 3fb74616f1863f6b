"""Random secrets every node shares through the database (DPoP nonces, refresh successors)."""

from __future__ import annotations

import secrets

from sessile.clock import Clock
from sessile.crypto import SecretBox
from sessile.store.secrets import ServerSecretStore

__all__ = ["SharedSecrets"]


class SharedSecrets:
    """Fetch-or-create named 32-byte secrets, encrypted at rest, cached per process."""

    def __init__(self, store: ServerSecretStore, server_secret: bytes, clock: Clock) -> None:
        self._store = store
        self._box = SecretBox(server_secret, "server-secrets")
        self._clock = clock
        self._cache: dict[str, bytes] = {}

    async def get(self, name: str) -> bytes:
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        candidate = self._box.encrypt(secrets.token_bytes(32), name.encode())
        stored = await self._store.get_or_create(name, candidate, now=self._clock.now())
        value = self._box.decrypt(stored, name.encode())
        self._cache[name] = value
        return value
