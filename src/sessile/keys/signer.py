"""ES256 compact JWS signing with a key in memory: RFC 7515 §7.1 and RFC 7518 §3.4.

Every refresh signs one access token. joserfc's general path re-checks the key,
the header and the registry on each call, which costs more than the signature;
this signer does those once per key: the header is fixed and encoded up front,
and each call is one ECDSA signature by ``cryptography`` whose DER form becomes
the JWS ``R || S`` form.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc.jwk import ECKey

__all__ = ["ES256Signer"]

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
# Built once: ``json.dumps`` with any option builds an encoder on every call.
_JSON = json.JSONEncoder(separators=(",", ":"))


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


class ES256Signer:
    """Signs JSON claims as a compact JWS with ``{"alg": "ES256", "typ", "kid"}``."""

    def __init__(self, kid: str, key: ECKey, *, typ: str) -> None:
        private = key.private_key
        if not isinstance(private, ec.EllipticCurvePrivateKey) or not isinstance(
            private.curve, ec.SECP256R1
        ):
            raise ValueError("ES256 needs a private P-256 key")
        self._private = private
        header = {"alg": "ES256", "typ": typ, "kid": kid}
        self._header = _b64(_JSON.encode(header).encode())

    def sign(self, claims: Mapping[str, Any]) -> str:
        payload = _b64(_JSON.encode(claims).encode())
        signing_input = self._header + b"." + payload
        r, s = decode_dss_signature(self._private.sign(signing_input, _ECDSA_SHA256))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return (signing_input + b"." + _b64(signature)).decode("ascii")
