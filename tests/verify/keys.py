"""A local issuer for tests: an ES256 key, its JWKS, and tokens shaped like sessile's."""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

__all__ = ["AUDIENCE", "ISSUER", "LocalIssuer", "b64url", "unsigned"]

ISSUER = "https://auth.example.test"
AUDIENCE = "default"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """The ``header.payload`` part of a compact JWS, for hand-made forgeries."""
    return b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())


class LocalIssuer:
    def __init__(self, kid: str | None = None) -> None:
        self.key = ECKey.generate_key("P-256", private=True)
        self.kid = kid or self.key.thumbprint()

    @property
    def jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": "ES256", "use": "sig"}

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": "usr_local",
            "aud": AUDIENCE,
            "sid": "ses_local",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
            "scope": "session",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(self, header: dict[str, Any] | None = None, /, **claims: Any) -> str:
        """A token signed by this key; ``header`` entries override sessile's header."""
        full_header = {"alg": "ES256", "typ": "at+jwt", "kid": self.kid, **(header or {})}
        return jwt.encode(full_header, self.claims(**claims), self.key, algorithms=["ES256"])
