"""Custom steps' verification tokens (PRELUDE-API §6.2): when the app's own step is done
(a KYC review, a biometric check), its backend signs a JWT that the client hands to
``/stepup/continue``. sessile checks it against the JWKS at the step-up configuration's
``jwks_url``.

The token must be signed by a key of that set (RS256 as documented; PS256 and ES256 too,
never a symmetric algorithm), name the challenge's user (``sub``), the challenge
(``challenge_id``) and its current step (``key``), say ``status: "completed"``, be within
its ``nbf``/``exp``, and carry a ``jti`` never seen before. The set is cached for ten
minutes and fetched again for an unknown ``kid``, at most every thirty seconds, through a
client that reaches public addresses only (the URL is the key holder's choice).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError

from sessile.clock import Clock
from sessile.dpop.replay_cache import ReplayStore
from sessile.errors import (
    InvalidVerificationToken,
    StepBypassed,
    StepNotCompleted,
    StepNotFound,
    TokenMismatch,
    TokenReused,
)
from sessile.store.stepup import StepUpChallenge
from sessile.verify._jwks import JwksFetchError, KeyCache, fetch_jwks_async, parse_jwks

__all__ = ["ALGORITHMS", "VerificationTokens"]

log = logging.getLogger("sessile.stepup")

ALGORITHMS = ("RS256", "PS256", "ES256")
#: How long the app's key set is used before it is fetched again.
JWKS_MAX_AGE = 600.0
#: The least time between two fetches of one set, whatever asks.
JWKS_MIN_INTERVAL = 30.0
#: Clock difference allowed between sessile and the app's backend.
LEEWAY = 30
#: The replay records' namespace, beside DPoP's key thumbprints.
_REPLAY_NAMESPACE = "stepup-verification"
_MAX_SETS = 8
_MAX_TOKEN = 8192


class VerificationTokens:
    def __init__(
        self,
        replay: ReplayStore,
        clock: Clock,
        client: httpx.AsyncClient,
        *,
        timeout: float,
    ) -> None:
        self._replay = replay
        self._clock = clock
        self._client = client
        self._timeout = timeout
        self._sets: dict[str, KeyCache] = {}

    async def _key(self, jwks_url: str, kid: str) -> Any:
        cache = self._sets.get(jwks_url)
        if cache is None:
            if len(self._sets) >= _MAX_SETS:
                self._sets.clear()
            cache = self._sets[jwks_url] = KeyCache(JWKS_MIN_INTERVAL, JWKS_MAX_AGE)
        now = self._clock.now()
        if cache.should_fetch(kid, now):
            try:
                async with asyncio.timeout(self._timeout):
                    document, max_age = await fetch_jwks_async(
                        jwks_url, self._timeout, client=self._client
                    )
                cache.store(parse_jwks(document, ALGORITHMS), max_age, now)
            except TimeoutError:
                cache.record_failure(now)
                log.warning("the app's JWKS could not be read", extra={"error": "timed out"})
            except JwksFetchError as exc:
                cache.record_failure(now)
                log.warning("the app's JWKS could not be read", extra={"error": str(exc)})
        found = cache.keys.get(kid)
        if found is None:
            raise InvalidVerificationToken("The verification token's key is not in the app's JWKS.")
        return found

    async def check(self, token: str, *, jwks_url: str | None, challenge: StepUpChallenge) -> str:
        """The step key ``token`` proves for ``challenge``'s current step; raises the
        documented error otherwise. Spends the token's ``jti``."""
        if not jwks_url:
            raise InvalidVerificationToken("No jwks_url is configured for custom steps.")
        if not token or len(token) > _MAX_TOKEN:
            raise InvalidVerificationToken()
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, UnicodeError) as exc:
            raise InvalidVerificationToken() from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS or not isinstance(kid, str):
            raise InvalidVerificationToken("The verification token's algorithm is not allowed.")
        public = await self._key(jwks_url, kid)
        if public.alg is not None and public.alg != alg:
            raise InvalidVerificationToken()
        try:
            claims = dict(jwt.decode(token, public.key, algorithms=[alg]).claims)
        except (JoseError, ValueError) as exc:
            raise InvalidVerificationToken() from exc
        self._check_times(claims)
        if claims.get("sub") != challenge.user_id:
            raise TokenMismatch("The verification token is for another user.")
        if claims.get("challenge_id") != challenge.id:
            raise TokenMismatch("The verification token is for another challenge.")
        key = claims.get("key")
        keys = [step.key for step in challenge.steps]
        if not isinstance(key, str) or key not in keys:
            raise StepNotFound("The verification token names no step of this challenge.")
        if key != challenge.current_step:
            if key in keys[challenge.position + 1 :]:
                raise StepBypassed("The verification token is for a later step.")
            raise TokenReused("This step was already completed.")
        if claims.get("status") != "completed":
            raise StepNotCompleted("The verification token does not say the step is completed.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= 200:
            raise InvalidVerificationToken("The verification token has no jti.")
        # Per issuer set: a jti is the backend's to make unique, not every backend's.
        scope = hashlib.sha256(jwks_url.encode()).hexdigest()[:16]
        exp = float(claims["exp"])
        if not await self._replay.remember(
            f"{_REPLAY_NAMESPACE}:{scope}", jti, expires_at=exp + LEEWAY, now=self._clock.now()
        ):
            raise TokenReused("This verification token has been used before.")
        return key

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock.now()
        exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
        for value in (exp, nbf, iat):
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool)
            ):
                raise InvalidVerificationToken()
        if exp is None or exp + LEEWAY <= now:
            raise InvalidVerificationToken("The verification token has expired.")
        if nbf is not None and nbf - LEEWAY > now:
            raise InvalidVerificationToken("The verification token is not valid yet.")
        if iat is not None and iat - LEEWAY > now:
            raise InvalidVerificationToken("The verification token was issued in the future.")
