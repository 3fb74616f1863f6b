"""Access-token verification throughput: sessile's verifier, PyJWT, and a raw ES256 loop.

    uv run python bench/verify.py [--seconds 2]

Offline: the key, the JWKS and a token shaped like sessile's are made locally,
and nothing listens on the network. Each contender verifies the same token in
a loop for ``--seconds``; the raw loop is one ``cryptography`` ECDSA P-256
verify over a pre-split token with a pre-converted DER signature, the floor
any Python JWT verifier sits on. The ratios are to that floor.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc import jwt
from joserfc.jwk import ECKey

from sessile.verify import Verifier

ISSUER = "https://auth.example.test"
AUDIENCE = "default"


def make_token() -> tuple[str, dict[str, Any], ECKey]:
    key = ECKey.generate_key("P-256", private=True)
    kid = key.thumbprint()
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "usr_" + secrets.token_hex(8),
        "aud": AUDIENCE,
        "sid": "ses_" + secrets.token_hex(8),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": secrets.token_urlsafe(16),
        "scope": "session",
    }
    header = {"alg": "ES256", "typ": "at+jwt", "kid": kid}
    token = jwt.encode(header, claims, key, algorithms=["ES256"])
    jwks = {"keys": [{**key.as_dict(private=False), "kid": kid, "alg": "ES256", "use": "sig"}]}
    return token, jwks, key


def rate(verify: Callable[[], object], seconds: float) -> float:
    """Verifications per second, in batches so the clock is read rarely."""
    for _ in range(200):
        verify()
    count, batch = 0, 500
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(batch):
            verify()
        count += batch
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per contender (default 2)")
    args = parser.parse_args()

    token, jwks, key = make_token()
    public: dict[str, Any] = key.as_dict(private=False)

    verifier = Verifier(ISSUER, AUDIENCE, jwks=jwks)
    assert verifier.verify(token).iss == ISSUER

    pyjwt_key = pyjwt.PyJWK(public).key
    options: Any = {"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]}

    def with_pyjwt() -> dict[str, Any]:
        return pyjwt.decode(
            token,
            pyjwt_key,
            algorithms=["ES256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=30,
            options=options,
        )

    assert with_pyjwt()["sid"]

    head, payload, signature = token.rsplit(".", 2)
    signing_input = f"{head}.{payload}".encode()
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    crypto_key = ec.EllipticCurvePublicNumbers(
        int.from_bytes(base64.urlsafe_b64decode(public["x"] + "==")),
        int.from_bytes(base64.urlsafe_b64decode(public["y"] + "==")),
        ec.SECP256R1(),
    ).public_key()
    algorithm = ec.ECDSA(hashes.SHA256())

    def raw_verify() -> None:
        crypto_key.verify(der, signing_input, algorithm)

    raw_verify()  # raises if the token and the key disagree

    results = {
        "raw cryptography ES256 verify": rate(raw_verify, args.seconds),
        "PyJWT jwt.decode": rate(with_pyjwt, args.seconds),
        "sessile Verifier.verify": rate(lambda: verifier.verify(token), args.seconds),
    }
    floor = results["raw cryptography ES256 verify"]
    print(f"ES256 access-token verification, {args.seconds:g} s each, one thread")
    print(f"token: {len(token)} bytes, {len(json.dumps(jwks))}-byte JWKS given up front")
    for name, per_second in results.items():
        print(
            f"  {name:32} {per_second:>10,.0f} /s  {1e6 / per_second:7.1f} µs"
            f"  {per_second / floor:5.2f}× raw"
        )


if __name__ == "__main__":
    main()
