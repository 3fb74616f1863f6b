"""Step-up challenge and verification tokens (DESIGN §12): JWTs signed by the server's key
ring, like access tokens, that Prelude's SDK decodes without checking.

A challenge token (``typ`` ``stepup+jwt``) carries the claims the SDK reads:
``challenge_id``, ``current_step`` (``"completed"`` when done), ``scope_requested``,
``steps[{order, expiration_duration, key, done}]``, ``metadata``, with ``sub``, ``sid``,
``jti`` and ``exp``. A completed one is the step-up token that ``/refresh`` redeems.
A verification token (``typ`` ``stepup-verification+jwt``) says that one step's factor was
proven; ``/stepup/continue`` spends it. Neither has an ``aud``, so a backend that checks the
audience never takes one for an access token.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from sessile.clock import Clock
from sessile.keys import KeyRing
from sessile.store.stepup import StepUpChallenge

__all__ = ["CHALLENGE_TYP", "VERIFICATION_TYP", "BadToken", "SignedToken", "StepUpTokens"]

CHALLENGE_TYP = "stepup+jwt"
VERIFICATION_TYP = "stepup-verification+jwt"


class BadToken(Exception):
    """Malformed, unsigned by the ring, of another type, or expired (``expired`` set)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@dataclass(frozen=True)
class SignedToken:
    token: str
    jti: str


class StepUpTokens:
    def __init__(
        self, ring: KeyRing, clock: Clock, *, issuer: str, step_ttls: Mapping[str, int]
    ) -> None:
        self._ring = ring
        self._clock = clock
        self._issuer = issuer
        self._step_ttls = step_ttls

    async def _sign(self, typ: str, claims: dict[str, Any]) -> SignedToken:
        jti = secrets.token_urlsafe(16)
        kid, key = await self._ring.signing_key()
        header = {"alg": "ES256", "typ": typ, "kid": kid}
        token = jwt.encode(header, {**claims, "jti": jti}, key, algorithms=["ES256"])
        return SignedToken(token, jti)

    def _claims(self, c: StepUpChallenge, *, checked: int, position: int) -> dict[str, Any]:
        now = int(self._clock.now())
        current = "completed" if position >= len(c.steps) else c.steps[position]
        return {
            "iss": self._issuer,
            "sub": c.user_id,
            "sid": c.session_id,
            "iat": now,
            "exp": int(c.expires_at),
            "challenge_id": c.id,
            "current_step": current,
            "scope_requested": c.scope,
            "steps": [
                {
                    "order": i + 1,
                    "expiration_duration": self._step_ttls.get(key, 0),
                    "key": key,
                    "done": i < checked,
                }
                for i, key in enumerate(c.steps)
            ],
            "metadata": dict(c.metadata),
        }

    async def challenge(self, c: StepUpChallenge, *, checked: int, position: int) -> SignedToken:
        """A challenge token for ``c`` in the state (checked, position)."""
        return await self._sign(CHALLENGE_TYP, self._claims(c, checked=checked, position=position))

    async def verification(self, c: StepUpChallenge, *, step: int) -> str:
        """The proof that step ``step`` (0-based) of ``c`` was done, spent by continue."""
        now = int(self._clock.now())
        signed = await self._sign(
            VERIFICATION_TYP,
            {
                "iss": self._issuer,
                "sub": c.user_id,
                "sid": c.session_id,
                "iat": now,
                "exp": int(c.expires_at),
                "challenge_id": c.id,
                "step": step,
                "key": c.steps[step],
            },
        )
        return signed.token

    async def decode(self, token: str, typ: str) -> dict[str, Any]:
        """The claims of a token of type ``typ`` signed by the ring; BadToken otherwise."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, UnicodeError) as exc:
            raise BadToken() from exc
        if header.get("alg") != "ES256" or header.get("typ") != typ:
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
