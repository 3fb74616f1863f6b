"""Verify sessile access tokens (RFC 9068 §4, RFC 8725 §3) against the issuer's JWKS.

The order of checks: size and shape, ``alg`` against the allow-list, ``typ``,
``kid``, the key (fetching the JWKS when needed), the signature, then the
claims. Nothing about the payload is trusted before the signature verifies.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Collection, Mapping
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jws import CompactSignature, JWSRegistry

from sessile.clock import Clock, SystemClock
from sessile.jose import ASYMMETRIC_ALGORITHMS, HeaderError, check_header
from sessile.verify._errors import (
    BadSignature,
    InvalidClaim,
    InvalidToken,
    KeysUnavailable,
    RevokedToken,
    UnknownKey,
    UnsupportedAlgorithm,
)
from sessile.verify._jwks import (
    JwksFetchError,
    KeyCache,
    PublicKey,
    fetch_jwks,
    fetch_jwks_async,
    parse_jwks,
)
from sessile.verify._revocations import RevocationFeed
from sessile.verify.claims import Claims, check_claims

__all__ = ["AsyncVerifier", "Verifier"]

log = logging.getLogger("sessile.verify")

#: RFC 9068 §4: ``typ`` is ``at+jwt``, compared as a media type.
_TYPES = frozenset({"at+jwt"})
#: sessile's tokens are well under 1 KiB; a token this large is an attack on the parser.
MAX_TOKEN_LENGTH = 8192


class _Verifier:
    """What the sync and async verifiers share: settings, parsing and the checks."""

    def __init__(
        self,
        issuer: str,
        audience: str | Collection[str],
        *,
        jwks_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        leeway: float = 30.0,
        algorithms: Collection[str] = ("ES256",),
        min_refetch_interval: float = 10.0,
        default_max_age: float = 300.0,
        timeout: float = 5.0,
        clock: Clock | None = None,
        revocations: RevocationFeed | None = None,
        accept_minted: bool = False,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("issuer must be a non-empty string")
        audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise ValueError("audience must be a non-empty string or strings")
        algs = tuple(algorithms)
        if not algs or not set(algs) <= ASYMMETRIC_ALGORITHMS:
            raise ValueError(f"algorithms must be among {sorted(ASYMMETRIC_ALGORITHMS)}")
        if jwks is not None and jwks_url is not None:
            raise ValueError("pass jwks_url or jwks, not both")
        if leeway < 0 or min_refetch_interval < 0 or default_max_age < 0 or timeout <= 0:
            raise ValueError("leeway, intervals and timeout must not be negative")

        self.issuer = issuer
        self.audiences = audiences
        #: A followed revocation feed: tokens of revoked sessions are refused.
        self.revocations = revocations
        #: Minted tokens (``"minted": true``, made by POST …/tokens) are refused unless set.
        self.accept_minted = accept_minted
        self.algorithms = algs
        self.leeway = leeway
        self._clock: Clock = clock or SystemClock()
        self._timeout = timeout
        self._registry = JWSRegistry(algorithms=list(algs))
        if jwks is not None:
            self.jwks_url: str | None = None
            try:
                self._cache = KeyCache.of(parse_jwks(jwks, algs))
            except JwksFetchError as exc:
                raise ValueError("jwks is not a JWK Set") from exc
        else:
            # sessile publishes its JWKS here; another issuer passes jwks_url.
            self.jwks_url = jwks_url or issuer.rstrip("/") + "/.well-known/jwks.json"
            self._cache = KeyCache(min_refetch_interval, default_max_age)
        # One fetch at a time: a thread lock for Verifier, one asyncio.Lock per loop for
        # AsyncVerifier.
        self._thread_lock = threading.Lock()
        self._loop_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(issuer={self.issuer!r}, audience={self.audiences!r})"

    # The steps -----------------------------------------------------------------------------
    def _parse(self, token: str) -> tuple[CompactSignature, str]:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        try:
            obj = jws.extract_compact(token.encode("ascii"))
            header = obj.headers()
        except (JoseError, ValueError, TypeError, UnicodeError) as exc:
            raise InvalidToken() from exc
        try:
            check_header(
                header, types=_TYPES, algorithms=self.algorithms, media_type=True, kid=True
            )
        except HeaderError as exc:
            if exc.member == "alg":
                raise UnsupportedAlgorithm(header.get("alg")) from exc
            if exc.member == "typ":
                raise InvalidToken(
                    "The token is not an access token (typ must be at+jwt)."
                ) from exc
            raise InvalidToken("The access token names no key (kid).") from exc
        return obj, header["kid"]

    def _key(self, kid: str) -> PublicKey:
        key = self._cache.keys.get(kid)
        if key is not None:
            return key
        if self._cache.failed:
            raise KeysUnavailable()
        raise UnknownKey(kid)

    def _finish(self, obj: CompactSignature, key: PublicKey) -> Claims:
        if key.alg is not None and key.alg != obj.headers()["alg"]:
            raise UnsupportedAlgorithm(obj.headers()["alg"], "The key does not sign with this alg.")
        try:
            valid = jws.validate_compact(obj, key.key, registry=self._registry)
        except (JoseError, ValueError, TypeError) as exc:
            raise BadSignature() from exc
        if not valid:
            raise BadSignature()
        try:
            payload = json.loads(obj.payload)
        except ValueError as exc:
            raise InvalidToken("The access token's payload is not JSON.") from exc
        if not isinstance(payload, dict):
            raise InvalidToken("The access token's payload is not a JSON object.")
        claims = check_claims(
            payload,
            issuer=self.issuer,
            audiences=self.audiences,
            now=self._clock.now(),
            leeway=self.leeway,
        )
        if claims.raw.get("minted") is not None and not self.accept_minted:
            raise InvalidClaim("minted", "The token was minted, not issued at a login.")
        if self.revocations is not None and self.revocations.is_revoked(claims):
            raise RevokedToken()
        return claims

    def _store(self, fetched: tuple[Any, float | None], now: float) -> None:
        document, max_age = fetched
        self._cache.store(parse_jwks(document, self.algorithms), max_age, now)

    def _failed(self, exc: JwksFetchError, now: float) -> None:
        log.warning("JWKS fetch failed", extra={"jwks_url": self.jwks_url, "reason": str(exc)})
        self._cache.record_failure(now)


class Verifier(_Verifier):
    """Verify access tokens from plain or threaded code (Flask, Django, scripts).

    ``Verifier(issuer, audience)`` reads sessile's JWKS from
    ``{issuer}/.well-known/jwks.json``; ``jwks_url=`` names another, ``jwks=``
    gives the keys up front. Thread-safe: however many threads meet an unknown
    ``kid`` at once, one of them fetches.
    """

    def verify(self, token: str) -> Claims:
        """Return the token's claims, or raise a :class:`~sessile.verify.TokenError`."""
        obj, kid = self._parse(token)
        if self._cache.should_fetch(kid, self._clock.now()):
            with self._thread_lock:
                now = self._clock.now()
                # Another thread may have fetched while this one waited.
                if self._cache.should_fetch(kid, now) and self.jwks_url is not None:
                    try:
                        self._store(fetch_jwks(self.jwks_url, self._timeout), now)
                    except JwksFetchError as exc:
                        self._failed(exc, now)
        return self._finish(obj, self._key(kid))


class AsyncVerifier(_Verifier):
    """Verify access tokens in async code (FastAPI, Starlette), as :class:`Verifier` does.

    However many tasks meet an unknown ``kid`` at once, one of them fetches.
    """

    async def verify(self, token: str) -> Claims:
        """Return the token's claims, or raise a :class:`~sessile.verify.TokenError`."""
        obj, kid = self._parse(token)
        if self._cache.should_fetch(kid, self._clock.now()):
            async with self._lock():
                now = self._clock.now()
                if self._cache.should_fetch(kid, now) and self.jwks_url is not None:
                    try:
                        self._store(await fetch_jwks_async(self.jwks_url, self._timeout), now)
                    except JwksFetchError as exc:
                        self._failed(exc, now)
        return self._finish(obj, self._key(kid))

    def _lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop; a verifier may outlive several
        # (tests, or a worker thread per loop). The floor keeps loops from fetching in a burst.
        loop = asyncio.get_running_loop()
        with self._thread_lock:
            lock = self._loop_locks.get(loop)
            if lock is None:
                live = {lp: lk for lp, lk in self._loop_locks.items() if not lp.is_closed()}
                lock = live[loop] = asyncio.Lock()
                self._loop_locks = live
            return lock
