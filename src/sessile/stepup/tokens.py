"""Step-up challenge tokens (DESIGN §12, PRELUDE-API §1.6): JWTs signed by the server's key
ring, like access tokens, that Prelude's SDK decodes without checking.

A challenge token (``typ`` ``stepup+jwt``) carries the claims the SDKs read:
``challenge_id``, ``current_step`` (``"completed"`` when every step is done),
``scope_requested``, ``steps[{order, expiration_duration, key, done}]``, ``metadata`` and
``grant_mode``, with ``sub``, ``sid``, ``jti`` and ``exp`` (the current step's deadline).
A completed one is the step-up token that ``/refresh`` redeems. It has no ``aud``, so a
backend that checks the audience never takes one for an access token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from sessile.clock import Clock
from sessile.keys import KeyRing
from sessile.store.stepup import StepUpChallenge

__all__ = ["CHALLENGE_TYP", "BadToken", "SignedToken", "StepUpTokens", "challenge_claims"]

CHALLENGE_TYP = "stepup+jwt"


class BadToken(Exception):
    """Malformed, unsigned by the ring, of another type, or expired (``expired`` set)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class SignedToken:
    token: str
    jti: str


def challenge_claims(c: StepUpChallenge, *, issuer: str, now: float) -> dict[str, Any]:
    """The claims of ``c``'s current token (without its ``jti``)."""
    return {
        "iss": issuer,
        "sub": c.user_id,
        "sid": c.session_id,
        "iat": int(now),
        "exp": int(c.step_deadline()),
        "challenge_id": c.id,
        "current_step": c.current_step,
        "scope_requested": c.scope,
        "grant_mode": c.grant_mode,
        "steps": [
            {
                "order": i + 1,
                "expiration_duration": step.expiration_duration,
                "key": step.key,
                "done": i < c.position,
            }
            for i, step in enumerate(c.steps)
        ],
        "metadata": dict(c.metadata),
    }


class StepUpTokens:
    def __init__(self, ring: KeyRing, clock: Clock, *, issuer: str) -> None:
        self._ring = ring
        self._clock = clock
        self._issuer = issuer

    async def challenge(self, c: StepUpChallenge) -> SignedToken:
        """A new current token for ``c`` as it stands."""
        jti = secrets.token_urlsafe(16)
        kid, key = await self._ring.signing_key()
        header = {"alg": "ES256", "typ": CHALLENGE_TYP, "kid": kid}
        claims = challenge_claims(c, issuer=self._issuer, now=self._clock.now())
        token = jwt.encode(header, {**claims, "jti": jti}, key, algorithms=["ES256"])
        return SignedToken(token, jti)

    async def decode(self, token: str) -> dict[str, Any]:
        """The claims of a challenge token signed by the ring; BadToken otherwise."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, UnicodeError) as exc:
            raise BadToken() from exc
        if header.get("alg") != "ES256" or header.get("typ") != CHALLENGE_TYP:
            raise BadToken()
        kid = header.get("kid")
        key = await self._ring.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise BadToken()
        try:
            claims = dict(jwt.decode(token, key, algorithms=["ES256"]).claims)
        except (JoseError, ValueError) as exc:
            raise BadToken() from exc
        if claims.get("iss") != self._issuer or not isinstance(claims.get("challenge_id"), str):
            raise BadToken()
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise BadToken()
        if exp <= self._clock.now():
            raise BadToken(expired=True)
        return claims
