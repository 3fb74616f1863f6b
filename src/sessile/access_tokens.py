"""Access tokens (DESIGN §4): ES256 JWTs, ``typ`` ``at+jwt`` (RFC 9068), ``kid`` in the header."""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError

from sessile.claims import UserClaims
from sessile.claims_mapping import RESERVED_CLAIMS
from sessile.clock import Clock
from sessile.errors import BadRequest, Unauthorized
from sessile.jose import HeaderError, check_header
from sessile.keys import KeyRing
from sessile.keys.signer import ES256Signer
from sessile.storable import unstorable_path
from sessile.verify import Claims, TokenError
from sessile.verify.claims import check_claims

__all__ = ["MINT_RESERVED", "AccessTokens"]

_LEEWAY = 30
#: What sessile signs its access tokens as; its own check accepts nothing else.
_TYPES = frozenset({"at+jwt"})
_ALGORITHMS = frozenset({"ES256"})
_UNKNOWN_KEY = "The access token was signed by an unknown key."
MAX_MINTED_TTL = 86_400
#: What a minted token is known by: sessile's own check refuses it, and so does
#: ``sessile.verify`` unless told otherwise.
MINTED = "minted"
#: The session a minted token names: none, and no session has this id.
MINTED_SID = "minted"
#: Claims the caller of ``POST …/tokens`` may not choose: the reserved claims of a claims
#: mapping, but for the subject and the times and id that Prelude's minting lets it set.
#: A chosen ``sid`` or ``scope`` would pass the token for a session's (or widen it).
MINT_RESERVED = RESERVED_CLAIMS - {"sub", "exp", "iat", "nbf", "jti"}


class AccessTokens:
    def __init__(
        self,
        ring: KeyRing,
        clock: Clock,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        scope: str = "session",
        custom_claims: Mapping[str, Any] | None = None,
        user_claims: UserClaims | None = None,
    ) -> None:
        self._ring = ring
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl
        self._scope = scope
        self._custom = dict(custom_claims or {})
        self._user_claims = user_claims
        self._signers: dict[str, ES256Signer] = {}

    async def issue(
        self,
        *,
        user_id: str,
        session_id: str,
        granted_scope: str | None = None,
        granted_until: float | None = None,
    ) -> tuple[str, int]:
        """Sign a token for the session; return it and its ``exp``.

        A scope granted by a step-up joins ``scope`` while it lasts, and the token then
        ends no later than the grant, so that no token carries the scope past it.
        """
        instant = self._clock.now()
        now = int(instant)
        exp = now + self._ttl
        per_user = await self._user_claims(user_id, session_id) if self._user_claims else {}
        scope = self._scope
        # Against the exact time: the whole second of ``iat`` could outlive the grant.
        if granted_scope and granted_until is not None and granted_until > instant:
            scope = f"{scope} {granted_scope}"
            exp = min(exp, int(granted_until))
        claims = {
            **self._custom,
            **per_user,
            "iss": self._issuer,
            "sub": user_id,
            "aud": self._audience,
            "sid": session_id,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        kid, key = await self._ring.signing_key()
        signer = self._signers.get(kid)
        if signer is None:
            signer = self._signers[kid] = ES256Signer(kid, key, typ="at+jwt")
        return signer.sign(claims), exp

    async def mint(
        self,
        claims: Mapping[str, Any],
        *,
        ttl: int = MAX_MINTED_TTL,
        user_claims: Mapping[str, Any] | None = None,
    ) -> tuple[str, int]:
        """Sign a token for tests and service calls (Prelude's ``POST …/tokens``).

        The caller's ``claims`` pass through, but for ``MINT_RESERVED`` (BadRequest naming
        them); ``user_claims`` are what the claims mapping gives the token's user. The
        standard claims are filled in when missing, ``exp`` defaults to ``ttl`` from now and
        is capped at 24 hours away. ``sid`` is ``"minted"``, ``scope`` the usual one, and
        ``"minted": true`` marks the token, so that no route of sessile's takes it and a
        verifier can refuse it.
        """
        reserved = sorted(MINT_RESERVED & claims.keys())
        if reserved:
            raise BadRequest(
                f"claims: {', '.join(reserved)} cannot be set on a minted token (sessile sets "
                "them, and a minted token never stands for a session)."
            )
        unstorable = unstorable_path(claims, "claims")
        if unstorable is not None:
            raise BadRequest(f"{unstorable}: holds a NUL character or a lone surrogate.")
        now = int(self._clock.now())
        exp = claims.get("exp", now + ttl)
        number = isinstance(exp, int | float) and not isinstance(exp, bool)
        if not number or not math.isfinite(exp) or not exp > now:
            raise BadRequest("exp must be a time (Unix seconds) in the future.")
        # Capped, not refused: Prelude documents the cap, so a longer exp still mints.
        exp = min(int(exp), now + MAX_MINTED_TTL)
        payload = {
            "iat": now,
            "nbf": now,
            "jti": secrets.token_urlsafe(16),
            **(user_claims or {}),
            **claims,
            # Last, so that nothing above can change them.
            "iss": self._issuer,
            "aud": self._audience,
            "sid": MINTED_SID,
            "scope": self._scope,
            "exp": exp,
            MINTED: True,
        }
        kid, key = await self._ring.signing_key()
        header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
        return jwt.encode(header, payload, key, algorithms=["ES256"]), exp

    async def verify(self, token: str) -> Claims:
        """Check signature, ``typ``, ``iss``, ``aud`` and times, and that a login issued the
        token (a minted one stands for no session); raise Unauthorized otherwise."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError, UnicodeError) as exc:
            raise Unauthorized("The access token is malformed.") from exc
        try:
            check_header(header, types=_TYPES, algorithms=_ALGORITHMS, kid=True)
        except HeaderError as exc:
            if exc.member == "kid":
                raise Unauthorized(_UNKNOWN_KEY) from exc
            raise Unauthorized("The access token has the wrong type or algorithm.") from exc
        key = await self._ring.public_key(header["kid"])
        if key is None:
            raise Unauthorized(_UNKNOWN_KEY)
        try:
            decoded = jwt.decode(token, key, algorithms=["ES256"])
        except (JoseError, ValueError) as exc:
            raise Unauthorized("The access token is invalid.") from exc
        # The same claim rules as backends apply with sessile.verify.
        try:
            claims = check_claims(
                decoded.claims,
                issuer=self._issuer,
                audiences=(self._audience,),
                now=self._clock.now(),
                leeway=_LEEWAY,
            )
        except TokenError as exc:
            raise Unauthorized("The access token is invalid or expired.") from exc
        # Present at all, as sessile.verify reads it: no session token carries the claim.
        if MINTED in claims.raw:
            raise Unauthorized("A minted token is not a session's access token.")
        return claims
