"""Signatures on the bodies sessile sends out (webhook deliveries, the step-up hook's
requests), checked by the receiver with the public key from the app's JWKS.

The scheme is Prelude's: RSASSA-PSS with SHA-256 (RFC 8017 §8.1) over the raw body, the
signature in unpadded base64url, the key named by its ``kid``. The salt is as long as the
digest, 32 bytes, as JOSE's PS256 has it (RFC 7518 §3.5); a receiver that detects the
salt length accepts it as well. The keys are RSA 2048, in a ring of their own beside the
ES256 one that signs tokens (so the token hot path never sees them), published in the
JWKS as ``{"kty": "RSA", "alg": "PS256", "use": "sig", "kid": …}``. The first one is made
when the first body is signed, and it signs at once, as the first token key does.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import RSAKey

from sessile.clock import Clock
from sessile.keys.ring import KeyKind, Ring
from sessile.store.keys import SigningKeyStore

__all__ = [
    "BODY_KEYS",
    "PSS_SHA256",
    "RETIRED_BODY_KEY_LINGER",
    "BodyKeyRing",
    "BodySignature",
    "BodySigner",
]

RSA_KEY_SIZE = 2048
#: How long a retired body-signing key stays in the JWKS: every attempt is signed when it is
#: sent, with the newest key, but a receiver may queue a delivery and check it later.
RETIRED_BODY_KEY_LINGER = 7 * 86_400.0
#: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt: JOSE's PS256.
PSS_SHA256 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def _new_rsa_key() -> RSAKey:
    return RSAKey.generate_key(RSA_KEY_SIZE, private=True)


def _load_rsa_key(jwk: Mapping[str, Any]) -> RSAKey:
    return RSAKey.import_key(dict(jwk))


BODY_KEYS: KeyKind[RSAKey] = KeyKind("PS256", _new_rsa_key, _load_rsa_key)


class BodyKeyRing(Ring[RSAKey]):
    """The PS256 ring of the keys that sign outgoing bodies."""

    def __init__(
        self,
        store: SigningKeyStore,
        server_secret: bytes,
        clock: Clock,
        *,
        publish_delay: float,
        rotation_interval: float,
        reload_interval: float = 30.0,
        linger: float = RETIRED_BODY_KEY_LINGER,
    ) -> None:
        super().__init__(
            store,
            server_secret,
            clock,
            BODY_KEYS,
            linger=linger,
            publish_delay=publish_delay,
            rotation_interval=rotation_interval,
            reload_interval=reload_interval,
            # An app that sends no webhook and calls no hook publishes no RSA key.
            first_key_on_demand=True,
        )


@dataclass(frozen=True)
class BodySignature:
    """The ``kid`` of the signing key, and the unpadded base64url RSASSA-PSS-SHA256
    signature of the body."""

    kid: str
    signature: str


class BodySigner:
    """Signs a body with the newest active key of the ring."""

    def __init__(self, ring: BodyKeyRing) -> None:
        self._ring = ring

    async def sign(self, body: bytes) -> BodySignature:
        kid, key = await self._ring.signing_key()
        private = key.private_key
        if not isinstance(private, rsa.RSAPrivateKey):
            raise RuntimeError(f"the body-signing key {kid} has no private part")
        signature = private.sign(body, PSS_SHA256, hashes.SHA256())
        return BodySignature(kid, base64.urlsafe_b64encode(signature).rstrip(b"=").decode())
