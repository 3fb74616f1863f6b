"""An app's backend as Prelude's step-up docs describe it, on 127.0.0.1: a delegation hook
that checks each request's signature against sessile's JWKS (PRELUDE-API §6.1), and the
JWKS of the app's own key, which signs the verification tokens of its custom steps (§6.2).

Written from the docs, not from sessile's code: the signature is checked with
``cryptography`` directly, with the salt length detected as a receiver would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.server import free_port

__all__ = ["AppBackend", "app_backend"]


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(_b64url(jwk["e"]), "big"), int.from_bytes(_b64url(jwk["n"]), "big")
    )
    return numbers.public_key()


@dataclass
class AppBackend:
    base: str
    #: The sessile server whose JWKS signs the hook's requests.
    sessile_url: str = ""
    #: The hook's next answer: a JSON document, or raw bytes, or "slow", or a status code.
    answer: Any = field(default_factory=lambda: {"status": "block"})
    status: int = 200
    delay: float = 0.0
    #: Seconds between the answer's bytes: a hook that trickles its answer.
    trickle: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    bad_signatures: int = 0
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, private=True))
    kid: str = "app-key-1"

    @property
    def hook_url(self) -> str:
        return self.base + "/hooks/stepup"

    @property
    def jwks_url(self) -> str:
        return self.base + "/.well-known/jwks.json"

    def jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def verification_token(
        self,
        *,
        sub: str,
        challenge_id: str,
        key: str,
        status: str = "completed",
        jti: str | None = None,
        lifetime: int = 300,
        signing_key: RSAKey | None = None,
        kid: str | None = None,
        alg: str = "RS256",
        **extra: Any,
    ) -> str:
        """A verification token as the app's backend signs it once its own step is done."""
        now = int(time.time())
        claims = {
            "sub": sub,
            "challenge_id": challenge_id,
            "key": key,
            "status": status,
            "jti": jti or str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            **extra,
        }
        header = {"alg": alg, "kid": kid or self.kid, "typ": "JWT"}
        return jwt.encode(header, claims, signing_key or self.key, algorithms=[alg])

    def signature_valid(self, body: bytes, headers: dict[str, str]) -> bool:
        """The docs' check: the key named by ``X-Webhook-Signature-Key-Id`` in sessile's
        JWKS, RSASSA-PSS with SHA-256 over the raw body."""
        kid = headers.get("x-webhook-signature-key-id")
        signature = headers.get("x-webhook-signature")
        if not kid or not signature:
            return False
        keys = httpx.get(self.sessile_url + "/.well-known/jwks.json").json()["keys"]
        jwk = next((k for k in keys if k.get("kid") == kid and k.get("kty") == "RSA"), None)
        if jwk is None:
            return False
        try:
            _public_key(jwk).verify(
                _b64url(signature),
                body,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return False
        return True


@contextlib.contextmanager
def app_backend() -> Iterator[AppBackend]:
    port = free_port()
    backend = AppBackend(f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/jwks.json":
                self._answer(200, json.dumps(backend.jwks()).encode())
            else:
                self._answer(404, b"{}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if not backend.signature_valid(body, headers):
                backend.bad_signatures += 1
            backend.headers.append(headers)
            backend.received.append(json.loads(body))
            time.sleep(backend.delay)
            answer = backend.answer
            raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self._answer(backend.status, raw, backend.trickle)

        def _answer(self, status: int, body: bytes, trickle: float = 0.0) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not trickle:
                    self.wfile.write(body)
                    return
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(trickle)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        server.shutdown()
        server.server_close()
