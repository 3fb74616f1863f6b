"""The client's DPoP key (ES256) and its proofs (RFC 9449 §4), made with joserfc."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from joserfc import jws
from joserfc.jwk import ECKey

__all__ = ["DPoPKey"]


class DPoPKey:
    def __init__(self, key: ECKey) -> None:
        if not key.is_private:
            raise ValueError("a DPoP key needs its private part")
        self._key = key
        self._public = key.as_dict(private=False)
        self.thumbprint: str = key.thumbprint()

    @classmethod
    def generate(cls) -> DPoPKey:
        return cls(ECKey.generate_key("P-256", private=True))

    @classmethod
    def from_pem(cls, path: str | Path) -> DPoPKey:
        return cls.from_pem_bytes(Path(path).read_bytes())

    @classmethod
    def from_pem_bytes(cls, data: bytes) -> DPoPKey:
        return cls(ECKey.import_key(data))

    def to_pem_bytes(self) -> bytes:
        return self._key.as_pem(private=True)

    def to_pem(self, path: str | Path) -> None:
        """Save the private key, readable by its owner only."""
        target = Path(path)
        target.touch(mode=0o600, exist_ok=True)
        target.write_bytes(self.to_pem_bytes())

    def proof(
        self,
        method: str,
        url: str,
        *,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
    ) -> str:
        """A proof; ``jti`` is given for step-up calls, where it is the challenge token's."""
        claims: dict[str, object] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": url.split("?", 1)[0].split("#", 1)[0],
            "iat": int(time.time() if iat is None else iat),
        }
        if nonce:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self._public}
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return jws.serialize_compact(header, payload, self._key, algorithms=["ES256"])
