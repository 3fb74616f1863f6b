"""The issuer's body-signing keys for a webhook receiver: the RSA keys of its JWKS that
sign with PS256, fetched and cached by the rules of the access-token verifier
(:class:`~sessile.verify._jwks.KeyCache`: ``max-age``, a refetch on an unknown ``kid``,
a floor between fetches)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from sessile.clock import Clock, SystemClock
from sessile.verify._jwks import JwksFetchError, KeyCache, PublicKey, fetch_jwks, parse_jwks

__all__ = ["WebhookKeys"]

log = logging.getLogger("sessile.verify")

#: The JWS name of RSASSA-PSS with SHA-256: what the issuer's body keys say they sign with.
_ALG = "PS256"


class WebhookKeys:
    """RSA public keys by ``kid``, from ``{issuer}/.well-known/jwks.json`` (or ``jwks_url``,
    or ``jwks`` given up front). Thread-safe; fetching blocks, so an async handler runs
    :func:`~sessile.verify.verify_webhook` in a thread (``asyncio.to_thread``)."""

    def __init__(
        self,
        issuer: str | None = None,
        *,
        jwks_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        min_refetch_interval: float = 10.0,
        default_max_age: float = 300.0,
        timeout: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        if sum(x is not None for x in (issuer, jwks_url, jwks)) != 1:
            raise ValueError("pass one of issuer, jwks_url or jwks")
        if min_refetch_interval < 0 or default_max_age < 0 or timeout <= 0:
            raise ValueError("intervals must not be negative, the timeout must be positive")
        self._clock: Clock = clock or SystemClock()
        self._timeout = timeout
        self._lock = threading.Lock()
        self.jwks_url: str | None = None
        if jwks is not None:
            try:
                self._cache = KeyCache.of(_rsa_keys(jwks))
            except JwksFetchError as exc:
                raise ValueError("jwks is not a JWK Set") from exc
        else:
            self.jwks_url = jwks_url or str(issuer).rstrip("/") + "/.well-known/jwks.json"
            self._cache = KeyCache(min_refetch_interval, default_max_age)

    def key(self, kid: str) -> rsa.RSAPublicKey | None:
        """The RSA signing key ``kid`` names, fetching the JWKS when it is stale or lacks the
        kid (at most once per floor); None when no such key is published."""
        if self._cache.should_fetch(kid, self._clock.now()):
            with self._lock:
                now = self._clock.now()
                if self._cache.should_fetch(kid, now) and self.jwks_url is not None:
                    try:
                        document, max_age = fetch_jwks(self.jwks_url, self._timeout)
                        self._cache.store(_rsa_keys(document), max_age, now)
                    except JwksFetchError as exc:
                        log.warning(
                            "JWKS fetch failed",
                            extra={"jwks_url": self.jwks_url, "reason": str(exc)},
                        )
                        self._cache.record_failure(now)
        found = self._cache.keys.get(kid)
        if found is None:
            return None
        public = found.key.public_key
        return public if isinstance(public, rsa.RSAPublicKey) else None


def _rsa_keys(document: object) -> dict[str, PublicKey]:
    """The JWKS's RSA keys that sign with PS256 (an RSA key naming no alg counts), by kid:
    a token key (ES256) or an encryption key never checks a body."""
    return {
        kid: key
        for kid, key in parse_jwks(document, (_ALG,)).items()
        if isinstance(key.key.public_key, rsa.RSAPublicKey)
    }
