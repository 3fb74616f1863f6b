"""Access-token claims (RFC 9068 §2.2, RFC 7519 §4.1): plain values in, typed claims out.

The one claims module: the verifier and sessile's own access-token check both use it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sessile.verify._errors import (
    ExpiredToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    TokenNotYetValid,
)

__all__ = ["REGISTERED_CLAIMS", "Claims", "check_claims"]

#: Claims sessile sets on every access token; everything else is a custom claim.
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "sid", "iat", "nbf", "exp", "jti", "scope"})


@dataclass(frozen=True)
class Claims:
    """A verified access token's claims. ``extra`` holds the custom ones, ``raw`` all of them."""

    sub: str
    sid: str
    scope: str
    iss: str
    aud: tuple[str, ...]
    exp: int
    iat: int
    nbf: int | None
    jti: str
    extra: Mapping[str, Any] = field(repr=False, hash=False, compare=False)
    raw: Mapping[str, Any] = field(repr=False, hash=False)

    @property
    def scopes(self) -> frozenset[str]:
        """``scope`` split on spaces (RFC 8693 §4.2)."""
        return frozenset(self.scope.split())


def check_claims(
    payload: Mapping[str, Any],
    *,
    issuer: str,
    audiences: Collection[str],
    now: float,
    leeway: float,
) -> Claims:
    """Check ``iss``, ``aud``, ``exp``, ``nbf`` and ``iat`` at ``now``; return typed claims."""
    exp = _number(payload, "exp")
    iat = _number(payload, "iat")
    nbf = _number(payload, "nbf") if "nbf" in payload else None

    iss = payload.get("iss")
    if iss != issuer:
        raise InvalidIssuer(iss)
    aud = _audience(payload.get("aud"))
    if not any(a in audiences for a in aud):
        raise InvalidAudience(payload.get("aud"))
    if now >= exp + leeway:
        raise ExpiredToken(exp)
    if nbf is not None and nbf > now + leeway:
        raise TokenNotYetValid(nbf)
    if iat > now + leeway:
        raise TokenNotYetValid(iat, "The access token was issued in the future.")

    raw = MappingProxyType(dict(payload))
    return Claims(
        sub=_string(payload, "sub"),
        sid=_string(payload, "sid"),
        scope=_string(payload, "scope", default=""),
        iss=issuer,
        aud=aud,
        exp=int(exp),
        iat=int(iat),
        nbf=None if nbf is None else int(nbf),
        jti=_string(payload, "jti"),
        extra=MappingProxyType({k: v for k, v in raw.items() if k not in REGISTERED_CLAIMS}),
        raw=raw,
    )


def _number(payload: Mapping[str, Any], name: str) -> float:
    value = payload.get(name)
    # bool is an int in Python, never a NumericDate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaim(name)
    try:
        number = float(value)
    except OverflowError:
        raise InvalidClaim(name) from None
    # json.loads accepts NaN and Infinity; NaN compares false with everything, so exp=NaN
    # would never expire.
    if not math.isfinite(number):
        raise InvalidClaim(name)
    return number


def _string(payload: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = payload.get(name, default)
    if not isinstance(value, str) or (default is None and not value):
        raise InvalidClaim(name)
    return value


def _audience(value: object) -> tuple[str, ...]:
    # RFC 7519 §4.1.3: a single string or an array of strings.
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(a, str) for a in value):
        return tuple(value)
    raise InvalidAudience(value)
