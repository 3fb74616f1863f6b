"""Management API keys (DESIGN §7): ``sk_<id>_<secret>``, made here and stored only as a
SHA-256 of the secret, with the scopes the key may use (DESIGN §12)."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Sequence

from sessile.audit_trail import AuditTrail
from sessile.clock import Clock
from sessile.crypto import secret_hash
from sessile.store.api_keys import ApiKey, ApiKeyStore

__all__ = ["ApiKey", "ApiKeys"]

_SHAPE = re.compile(r"^sk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
#: ``last_used_at`` is written at most this often per key, not on every call.
_USE_GRANULARITY = 60.0


class ApiKeys:
    def __init__(self, store: ApiKeyStore, audit: AuditTrail, clock: Clock) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock

    async def create(self, name: str, *, scopes: Sequence[str] | None = None) -> tuple[ApiKey, str]:
        """Make a key (with ``scopes``, or every scope when None); the full key string is
        returned once and never stored."""
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        key = await self._store.create(
            key_id,
            name=name,
            secret_hash=secret_hash(secret),
            now=self._clock.now(),
            scopes=scopes,
        )
        return key, f"sk_{key_id}_{secret}"

    async def authenticate(self, presented: str) -> ApiKey | None:
        """The active key whose full string this is; None for anything else."""
        match = _SHAPE.match(presented)
        if match is None:
            return None
        key_id, secret = match.groups()
        found = await self._store.active(key_id)
        if found is None:
            return None
        key, stored_hash = found
        if not hmac.compare_digest(stored_hash, secret_hash(secret)):
            return None
        now = self._clock.now()
        if key.last_used_at is None or now - key.last_used_at > _USE_GRANULARITY:
            await self._store.mark_used(key_id, now=now)
        return ApiKey(key.id, key.name, key.created_at, now, None, key.scopes)

    async def record_use(self, key: ApiKey, *, method: str, route: str) -> None:
        """The audit trail's ``api_key.used``."""
        await self._audit.record(
            "api_key.used", data={"key_id": key.id, "method": method, "route": route}
        )

    async def list(self) -> list[ApiKey]:
        return await self._store.list()

    async def revoke(self, key_id: str) -> bool:
        return await self._store.revoke(key_id, now=self._clock.now())
