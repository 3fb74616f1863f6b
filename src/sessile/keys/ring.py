"""Signing keys: one ring for every process and node, kept in the database.

A key's life: *published* from ``created_at`` (in the JWKS, not yet signing);
*signing* from ``active_at``; *retired* from ``retired_at`` (no longer signs,
still published); *gone* once every token it signed has expired. Rotation
publishes the new key ``publish_delay`` seconds before it signs, so no JWKS
cache meets a token whose key it has not seen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import ECKey

from sessile.clock import Clock
from sessile.crypto import SecretBox
from sessile.store.keys import SigningKeyRow, SigningKeyStore

__all__ = ["KeyRing", "PublishedKey"]

log = logging.getLogger("sessile.keys")

_ALG = "ES256"
_CURVE = "P-256"


@dataclass(frozen=True)
class PublishedKey:
    kid: str
    alg: str
    public_jwk: dict[str, Any]
    created_at: float
    active_at: float
    retired_at: float | None

    def state(self, now: float) -> str:
        if self.retired_at is not None and self.retired_at <= now:
            return "retired"
        return "signing" if self.active_at <= now else "published"


class KeyRing:
    """Loads the ring from the database, signs with the newest active key, publishes the JWKS."""

    def __init__(
        self,
        store: SigningKeyStore,
        server_secret: bytes,
        clock: Clock,
        *,
        token_lifetime: float,
        publish_delay: float,
        rotation_interval: float,
        reload_interval: float = 30.0,
    ) -> None:
        self._store = store
        self._box = SecretBox(server_secret, "signing-keys")
        self._clock = clock
        #: How long a retired key stays published: its last token's lifetime plus leeway.
        self._linger = token_lifetime + 60
        self._publish_delay = publish_delay
        self._rotation_interval = rotation_interval
        self._reload_interval = reload_interval
        self._rows: list[SigningKeyRow] = []
        self._private: dict[str, ECKey] = {}
        self._public: dict[str, ECKey] = {}
        self._loaded_at = -float("inf")
        self._lock = asyncio.Lock()

    # Loading -------------------------------------------------------------------------------
    async def reload(self) -> None:
        rows = await self._store.all()
        self._rows = rows
        self._public = {r.kid: ECKey.import_key(dict(r.public_jwk)) for r in rows}
        self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        if time.monotonic() - self._loaded_at >= self._reload_interval:
            async with self._lock:
                if time.monotonic() - self._loaded_at >= self._reload_interval:
                    await self.reload()

    async def ensure(self) -> None:
        """Make the first key on an empty ring, and rotate when the interval has passed."""
        await self.reload()
        now = self._clock.now()
        if not self._rows:
            # The first key signs at once; a node that loses the race keeps the winner's.
            await self._add(self._new_row(now, active_at=now), unless_newer_than=-1.0)
        elif now - max(r.created_at for r in self._rows) >= self._rotation_interval:
            row = self._new_row(now, active_at=now + self._publish_delay)
            await self._add(row, unless_newer_than=now - self._rotation_interval)
        cutoff = now - self._linger
        if await self._store.delete_expired(before=cutoff):
            await self.reload()

    # Rotation ------------------------------------------------------------------------------
    def _new_row(self, now: float, *, active_at: float) -> SigningKeyRow:
        key = ECKey.generate_key(_CURVE, private=True)
        kid = key.thumbprint()
        private = json.dumps(key.as_dict(private=True)).encode()
        return SigningKeyRow(
            kid=kid,
            alg=_ALG,
            public_jwk={**key.as_dict(private=False), "kid": kid, "alg": _ALG, "use": "sig"},
            private_jwk_encrypted=self._box.encrypt(private, kid.encode()),
            created_at=now,
            active_at=active_at,
            retired_at=None,
        )

    async def _add(self, row: SigningKeyRow, *, unless_newer_than: float | None = None) -> None:
        if await self._store.rotate(row, unless_newer_than=unless_newer_than):
            log.info("signing key added", extra={"kid": row.kid, "active_at": row.active_at})
        await self.reload()

    async def rotate(self, *, immediately: bool = False) -> PublishedKey:
        """Publish a new key now; it signs after the publish delay (or at once, in an emergency)."""
        now = self._clock.now()
        row = self._new_row(now, active_at=now if immediately else now + self._publish_delay)
        await self._add(row)
        return _published(row)

    # Use -----------------------------------------------------------------------------------
    def all_keys(self) -> list[PublishedKey]:
        return [_published(r) for r in self._rows]

    async def published(self) -> list[dict[str, Any]]:
        """The JWKS ``keys``: every key not yet past its last token's expiry."""
        await self._fresh()
        now = self._clock.now()
        return [
            dict(r.public_jwk)
            for r in self._rows
            if r.retired_at is None or r.retired_at + self._linger > now
        ]

    async def signing_key(self) -> tuple[str, ECKey]:
        await self._fresh()
        now = self._clock.now()
        live = [
            r
            for r in self._rows
            if r.active_at <= now and (r.retired_at is None or r.retired_at > now)
        ]
        if not live:
            # A clock jump or a just-rotated ring: reload once before giving up.
            await self.reload()
            live = [r for r in self._rows if r.active_at <= now]
            if not live:
                raise RuntimeError("no signing key is active; run `sessile keys rotate --now`")
        row = max(live, key=lambda r: r.active_at)
        key = self._private.get(row.kid)
        if key is None:
            plain = self._box.decrypt(row.private_jwk_encrypted, row.kid.encode())
            key = ECKey.import_key(json.loads(plain))
            self._private[row.kid] = key
        return row.kid, key

    async def public_key(self, kid: str) -> ECKey | None:
        """The public key for ``kid``; an unknown kid reloads the ring once per interval."""
        await self._fresh()
        key = self._public.get(kid)
        if key is None and time.monotonic() - self._loaded_at >= 1.0:
            async with self._lock:
                await self.reload()
            key = self._public.get(kid)
        if key is None:
            return None
        row = next(r for r in self._rows if r.kid == kid)
        if row.retired_at is not None and row.retired_at + self._linger <= self._clock.now():
            return None
        return key


def _published(row: SigningKeyRow) -> PublishedKey:
    return PublishedKey(
        kid=row.kid,
        alg=row.alg,
        public_jwk=dict(row.public_jwk),
        created_at=row.created_at,
        active_at=row.active_at,
        retired_at=row.retired_at,
    )
