"""Make DPoP proofs for the tests, with `cryptography` alone (independent of joserfc)."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

URL = "https://sessile.test/v1/session/refresh"

_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm, str, int]] = {
    "ES256": (ec.SECP256R1(), hashes.SHA256(), "P-256", 32),
    "ES384": (ec.SECP384R1(), hashes.SHA384(), "P-384", 48),
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


#: RFC 7638 §3.2: the members a thumbprint covers, by key type.
_REQUIRED = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


def rfc7638(jwk: dict[str, str]) -> str:
    """RFC 7638 §3 (SHA-256), written out independently of the code under test."""
    members = {name: jwk[name] for name in _REQUIRED[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical)
    return b64(digest.finalize())


@dataclass
class ProofKey:
    alg: str = "ES256"
    private: ec.EllipticCurvePrivateKey = field(init=False)

    def __post_init__(self) -> None:
        self.private = ec.generate_private_key(_CURVES[self.alg][0])

    @property
    def public_jwk(self) -> dict[str, str]:
        _, _, crv, size = _CURVES[self.alg]
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": crv,
            "x": b64(numbers.x.to_bytes(size, "big")),
            "y": b64(numbers.y.to_bytes(size, "big")),
        }

    @property
    def private_d(self) -> str:
        size = _CURVES[self.alg][3]
        return b64(self.private.private_numbers().private_value.to_bytes(size, "big"))

    def sign_segments(self, header_b64: str, payload_b64: str) -> str:
        _, digest, _, size = _CURVES[self.alg]
        der = self.private.sign(f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(digest))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return f"{header_b64}.{payload_b64}.{b64(signature)}"

    def sign(self, header: Any, claims: Any) -> str:
        return self.sign_segments(b64json(header), b64json(claims))

    def header(self, **changes: Any) -> dict[str, Any]:
        return drop_none({"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk, **changes})

    def proof(
        self,
        *,
        iat: float,
        htm: str = "POST",
        htu: str = URL,
        nonce: str | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        body = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": htm,
            "htu": htu,
            "iat": int(iat),
            "nonce": nonce,
            **claims,
        }
        return self.sign(header or self.header(), drop_none(body))


def drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


#: The order n of P-256's base point (FIPS 186-4 §D.1.2.3).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def malleated(token: str) -> str:
    """The same ES256 JWS (a proof, or any token sessile signs) under its signature's
    twin: ``(r, s)`` becomes ``(r, n - s)``, which verifies as well, and which anyone
    holding the token can compute."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    raw = base64.urlsafe_b64decode(signature_b64 + "=" * (-len(signature_b64) % 4))
    assert len(raw) == 64, "an ES256 signature is r || s, 32 bytes each"
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    twin = r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    if "jwk" in header:
        # A proof carries its key: the twin verifies with it, nothing but bytes changed.
        x, y = (int.from_bytes(base64.urlsafe_b64decode(header["jwk"][c] + "=="), "big")
                for c in "xy")  # fmt: skip
        public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        public.verify(
            encode_dss_signature(r, P256_ORDER - s),
            f"{header_b64}.{payload_b64}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    return f"{header_b64}.{payload_b64}.{b64(twin)}"
