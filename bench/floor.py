"""The least a refresh can cost on this stack: uvicorn, one ECDSA verify, one SQLite
write, one ECDSA sign, and nothing else.

A bare ASGI app, served by uvicorn as ``bench/refresh.py --anchor`` serves the others:
it checks the DPoP proof's signature (the proof's key parsed once per key, as sessile
does), rotates one row with an ``UPDATE … RETURNING`` on stdlib ``sqlite3`` in WAL
mode, and answers an ES256-signed token. No framework, no routing, no nonce, no
claim checks, no cookies, no metrics: every check sessile makes costs more than this.

With ``FLOOR_BARE=1`` in its environment it answers a fixed body of that size with no
work at all: the cost of the ASGI server itself.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import tempfile
import time
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

_ECDSA = ec.ECDSA(hashes.SHA256())
_SIGNING_KEY = ec.generate_private_key(ec.SECP256R1())
_HEADER = base64.urlsafe_b64encode(b'{"alg":"ES256","typ":"at+jwt","kid":"bench"}').rstrip(b"=")

_DB = sqlite3.connect(
    os.path.join(tempfile.mkdtemp(), "floor.db"), isolation_level=None, check_same_thread=False
)
_DB.execute("PRAGMA journal_mode=WAL")
_DB.execute("PRAGMA synchronous=NORMAL")
_DB.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, generation INTEGER, jti TEXT)")
_DB.execute("INSERT INTO rows VALUES (1, 0, '')")


def _unb64(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@lru_cache(maxsize=4096)
def _key(header: bytes) -> ec.EllipticCurvePublicKey:
    jwk = json.loads(_unb64(header))["jwk"]
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(_unb64(jwk["x"].encode()), "big"),
        int.from_bytes(_unb64(jwk["y"].encode()), "big"),
        ec.SECP256R1(),
    )
    return numbers.public_key()


def _refresh(proof: bytes) -> bytes:
    header, payload, signature = proof.split(b".")
    raw = _unb64(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    _key(header).verify(der, header + b"." + payload, _ECDSA)
    claims = json.loads(_unb64(payload))
    (generation,) = _DB.execute(
        "UPDATE rows SET generation = generation + 1, jti = ? WHERE id = 1 RETURNING generation",
        (claims["jti"],),
    ).fetchone()
    now = int(time.time())
    token = {"sub": "usr_bench", "sid": generation, "iat": now, "exp": now + 300}
    signing_input = _HEADER + b"." + _b64(json.dumps(token, separators=(",", ":")).encode())
    r, s = decode_dss_signature(_SIGNING_KEY.sign(signing_input, _ECDSA))
    jws = signing_input + b"." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return b'{"access_token":"' + jws + b'","expires_at":%d}' % (now + 300)


_BARE = (
    b'{"access_token":"' + b"x" * 300 + b'","expires_at":0}'
    if os.environ.get("FLOOR_BARE")
    else None
)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    if _BARE is not None or scope["method"] != "POST":
        body = _BARE or b"{}"
    else:
        proof = next(value for name, value in scope["headers"] if name == b"dpop")
        body = _refresh(proof)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
