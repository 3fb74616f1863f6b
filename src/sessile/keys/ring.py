"""Signing keys: one ring per algorithm for every process and node, kept in the database.

A key's life: *published* from ``created_at`` (in the JWKS, not yet signing);
*signing* from ``active_at``; *retired* from ``retired_at`` (no longer signs,
still published); *gone* once nothing it signed can still be checked. Rotation
publishes the new key ``publish_delay`` seconds before it signs, so no JWKS
cache meets a signature whose key it has not seen.

:class:`KeyRing` holds the ES256 keys that sign tokens; the ring of the keys that
sign outgoing request bodies is :class:`sessile.keys.body_signer.BodyKeyRing`.
Both are a :class:`Ring` of their own kind of key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from joserfc.jwk import ECKey, RSAKey

from sessile.clock import Clock
from sessile.crypto import SecretBox
from sessile.store.keys import SigningKeyRow, SigningKeyStore

__all__ = ["KeyKind", "KeyRing", "PublishedKey", "Ring"]

log = logging.getLogger("sessile.keys")

K = TypeVar("K", ECKey, RSAKey)


@dataclass(frozen=True)
class KeyKind(Generic[K]):
    """What a ring holds: the JWS ``alg`` its keys sign with, how to make one, and how to
    load one from its JWK."""

    alg: str
    generate: Callable[[], K]
    load: Callable[[Mapping[str, Any]], K]


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


class Ring(Generic[K]):
    """Loads one algorithm's keys from the database, signs with the newest active one,
    publishes them for the JWKS."""

    def __init__(
        self,
        store: SigningKeyStore,
        server_secret: bytes,
        clock: Clock,
        kind: KeyKind[K],
        *,
        linger: float,
        publish_delay: float,
        rotation_interval: float,
        reload_interval: float = 30.0,
        first_key_on_demand: bool = False,
    ) -> None:
        self._store = store
        self._box = SecretBox(server_secret, "signing-keys")
        self._clock = clock
        self._kind: KeyKind[K] = kind
        #: How long a retired key stays published.
        self._linger = linger
        self._publish_delay = publish_delay
        self._rotation_interval = rotation_interval
        self._reload_interval = reload_interval
        #: Make the first key when something first needs a signature, not at start.
        self._on_demand = first_key_on_demand
        self._rows: list[SigningKeyRow] = []
        self._private: dict[str, K] = {}
        self._public: dict[str, K] = {}
        self._loaded_at = -float("inf")
        self._lock = asyncio.Lock()

    @property
    def alg(self) -> str:
        return self._kind.alg

    # Loading -------------------------------------------------------------------------------
    async def reload(self) -> None:
        rows = await self._store.all(self._kind.alg)
        self._rows = rows
        self._public = {r.kid: self._kind.load(dict(r.public_jwk)) for r in rows}
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
            if not self._on_demand:
                await self._first_key(now)
        elif now - max(r.created_at for r in self._rows) >= self._rotation_interval:
            row = await self._new_row(now, active_at=now + self._publish_delay)
            await self._add(row, unless_newer_than=now - self._rotation_interval)
        cutoff = now - self._linger
        if await self._store.delete_expired(self._kind.alg, before=cutoff):
            await self.reload()

    # Rotation ------------------------------------------------------------------------------
    async def _first_key(self, now: float) -> None:
        # The first key signs at once; a node that loses the race keeps the winner's.
        await self._add(await self._new_row(now, active_at=now), unless_newer_than=-1.0)

    async def _new_row(self, now: float, *, active_at: float) -> SigningKeyRow:
        # An RSA key takes a noticeable while to make: off the event loop.
        key = await asyncio.to_thread(self._kind.generate)
        kid = key.thumbprint()
        alg = self._kind.alg
        private = json.dumps(key.as_dict(private=True)).encode()
        return SigningKeyRow(
            kid=kid,
            alg=alg,
            public_jwk={**key.as_dict(private=False), "kid": kid, "alg": alg, "use": "sig"},
            private_jwk_encrypted=self._box.encrypt(private, kid.encode()),
            created_at=now,
            active_at=active_at,
            retired_at=None,
        )

    async def _add(self, row: SigningKeyRow, *, unless_newer_than: float | None = None) -> None:
        if await self._store.rotate(row, unless_newer_than=unless_newer_than):
            log.info(
                "signing key added",
                extra={"kid": row.kid, "alg": row.alg, "active_at": row.active_at},
            )
        await self.reload()

    async def rotate(self, *, immediately: bool = False) -> PublishedKey:
        """Publish a new key now; it signs after the publish delay (or at once, in an
        emergency, or when the ring has no other key)."""
        now = self._clock.now()
        at_once = immediately or not self._rows
        row = await self._new_row(now, active_at=now if at_once else now + self._publish_delay)
        await self._add(row)
        return _published(row)

    # Use -----------------------------------------------------------------------------------
    def all_keys(self) -> list[PublishedKey]:
        return [_published(r) for r in self._rows]

    async def published(self) -> list[dict[str, Any]]:
        """The JWKS ``keys``: every key not yet past its linger."""
        await self._fresh()
        if not self._rows and self._on_demand and time.monotonic() - self._loaded_at >= 1.0:
            # Another node makes the first key on demand, and it signs at once: look for it
            # now rather than at the next reload, or its first signatures can't be checked.
            async with self._lock:
                await self.reload()
        now = self._clock.now()
        return [
            dict(r.public_jwk)
            for r in self._rows
            if r.retired_at is None or r.retired_at + self._linger > now
        ]

    async def signing_key(self) -> tuple[str, K]:
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
            if not self._rows and self._on_demand:
                async with self._lock:
                    await self.reload()
                    if not self._rows:
                        await self._first_key(self._clock.now())
            # Another node may have just made the first key, a moment after ``now``.
            now = self._clock.now()
            live = [r for r in self._rows if r.active_at <= now]
            if not live:
                raise RuntimeError("no signing key is active; run `sessile keys rotate --now`")
        row = max(live, key=lambda r: r.active_at)
        key = self._private.get(row.kid)
        if key is None:
            plain = self._box.decrypt(row.private_jwk_encrypted, row.kid.encode())
            key = self._kind.load(json.loads(plain))
            self._private[row.kid] = key
        return row.kid, key

    async def public_key(self, kid: str) -> K | None:
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


def _new_ec_key() -> ECKey:
    return ECKey.generate_key("P-256", private=True)


def _load_ec_key(jwk: Mapping[str, Any]) -> ECKey:
    return ECKey.import_key(dict(jwk))


#: The ES256 keys that sign access and challenge tokens.
ES256_KEYS: KeyKind[ECKey] = KeyKind("ES256", _new_ec_key, _load_ec_key)


class KeyRing(Ring[ECKey]):
    """The ES256 ring of the tokens: a retired key stays published until the last token
    it signed has expired."""

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
        super().__init__(
            store,
            server_secret,
            clock,
            ES256_KEYS,
            # Its last token's lifetime, plus leeway for clocks.
            linger=token_lifetime + 60,
            publish_delay=publish_delay,
            rotation_interval=rotation_interval,
            reload_interval=reload_interval,
        )
