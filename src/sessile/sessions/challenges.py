"""Challenge tokens (DESIGN §6): single use, short-lived, stored hashed; finalize redeems one."""

from __future__ import annotations

import secrets
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from sessile.clock import Clock
from sessile.crypto import secret_hash
from sessile.errors import InvalidChallengeToken, TokenReused
from sessile.keys import KeyRing
from sessile.pkce import verifier_matches
from sessile.store.challenges import Challenge, ChallengeStore

__all__ = ["ChallengeTokens", "SessionStartTokens"]

_MAX_LENGTH = 128


class ChallengeTokens:
    def __init__(self, store: ChallengeStore, clock: Clock, *, ttl: float = 120.0) -> None:
        self._store = store
        self._clock = clock
        self.ttl = ttl

    async def issue(
        self,
        *,
        user_id: str,
        auth_method: str,
        code_challenge: str | None = None,
        login_config_id: str | None = None,
    ) -> str:
        """A token the client trades at ``/login/finalize`` for a session; with
        ``code_challenge`` (PKCE S256), only together with its verifier."""
        token = "chl_" + secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.create(
            secret_hash(token),
            user_id=user_id,
            auth_method=auth_method,
            now=now,
            expires_at=now + self.ttl,
            code_challenge=code_challenge,
            login_config_id=login_config_id,
        )
        return token

    async def redeem(self, token: str, code_verifier: str | None = None) -> Challenge:
        """Spend the token. A wrong verifier spends it too: whoever holds a stolen token
        gets one guess, and the owner starts again. A used token is ``token_reused``; an
        unknown or expired one ``invalid_challenge_token``."""
        if not token or len(token) > _MAX_LENGTH:
            raise InvalidChallengeToken("The challenge token is invalid or expired.")
        hashed = secret_hash(token)
        challenge = await self._store.consume(hashed, now=self._clock.now())
        if challenge is None:
            if await self._store.spent(hashed):
                raise TokenReused("The challenge token has already been used.")
            raise InvalidChallengeToken("The challenge token is invalid or expired.")
        pkce = challenge.code_challenge
        if pkce is not None and not verifier_matches(code_verifier, pkce):
            raise InvalidChallengeToken("The code_verifier does not match this login.")
        return challenge


class SessionStartTokens:
    """Login challenge tokens in the form Prelude's newer clients read (PRELUDE-API §1.6):
    a JWT signed by the server's ring whose ``grant_mode`` is ``session-start``, with
    ``pkce_challenge`` when the login is bound to one. Its ``jti`` is the challenge token
    itself; ``/login/finalize`` takes either form."""

    TYP = "login+jwt"

    def __init__(self, challenges: ChallengeTokens, ring: KeyRing, clock: Clock, *, issuer: str):
        self._challenges = challenges
        self._ring = ring
        self._clock = clock
        self._issuer = issuer

    async def issue(
        self,
        *,
        user_id: str,
        auth_method: str,
        code_challenge: str | None = None,
        login_config_id: str | None = None,
    ) -> str:
        token = await self._challenges.issue(
            user_id=user_id,
            auth_method=auth_method,
            code_challenge=code_challenge,
            login_config_id=login_config_id,
        )
        now = int(self._clock.now())
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": user_id,
            "jti": token,
            "iat": now,
            "exp": now + int(self._challenges.ttl),
            "grant_mode": "session-start",
        }
        if code_challenge is not None:
            claims["pkce_challenge"] = code_challenge
        kid, key = await self._ring.signing_key()
        header = {"alg": "ES256", "typ": self.TYP, "kid": kid}
        return jwt.encode(header, claims, key, algorithms=["ES256"])

    async def unwrap(self, token: str) -> str | None:
        """The challenge token inside a session-start JWT; ``token`` itself when it is the
        plain form; None when it is neither (a forged or foreign JWT)."""
        if token.startswith("chl_"):
            return token
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, UnicodeError):
            return None
        kid = header.get("kid")
        if (
            header.get("typ") != self.TYP
            or header.get("alg") != "ES256"
            or not isinstance(kid, str)
        ):
            return None
        key = await self._ring.public_key(kid)
        if key is None:
            return None
        try:
            claims = jwt.decode(token, key, algorithms=["ES256"]).claims
        except (JoseError, ValueError):
            return None
        inner = claims.get("jti")
        if claims.get("iss") != self._issuer or not isinstance(inner, str):
            return None
        return inner
