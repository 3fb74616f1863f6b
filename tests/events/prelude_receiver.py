"""A webhook receiver written from Prelude's documentation alone, as a backend built for
Prelude would run it. It imports nothing of sessile.

What it follows (PRELUDE-API.md §5, from docs.prelude.so "Webhooks", "Activation Challenge
Request" and each event's page):

- activation: a GET with ``event=activate``, ``verification_token``, ``challenge`` (an
  integer) and ``app_id``; check the token and the app, answer 200 with
  ``{"challenge": <the integer>}`` (or, the former answer, ``{"verification_token": …}``);
- deliveries: a POST of ``{"app_id": …, "events": [ … ]}``, answered 200 within 10 s;
- signature, ``X-Webhook-Signature``: ``rsassa-pss-sha256=<base64url>``, RSASSA-PSS with
  SHA-256 over the raw body, checked with the public key of the app's
  ``/.well-known/jwks.json`` that ``X-Webhook-Signature-Key-Id`` names; or the former
  ``sha256=<base64 HMAC-SHA256>`` keyed by a secret;
- each event's documented payload fields and their types.

Where the docs say nothing (the keys of an ``events`` item), it reads the event name from
``event`` or ``type`` and the payload from ``payload``, as sessile documents its choice.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
STEP_UP_REASONS = {
    "request_failed", "invalid_status_code", "response_decode_failed", "invalid_status",
    "missing_steps", "invalid_granted_for", "invalid_grant_mode", "invalid_step",
    "invalid_response",
}  # fmt: skip


def _user_id(value: object) -> bool:
    return isinstance(value, str) and value.startswith("usr_")


def _session_id(value: object) -> bool:
    return isinstance(value, str) and value.startswith("ses_")


def _time(value: object) -> bool:
    return isinstance(value, str) and RFC3339.match(value) is not None


def _object(value: object) -> bool:
    return isinstance(value, dict)


def _identifiers(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) for i in value)


def _text(value: object) -> bool:
    return isinstance(value, str) and value != ""


#: Each event's required payload fields and what they must be (correlation_id? is optional).
DOCUMENTED: dict[str, dict[str, Callable[[object], bool]]] = {
    "user.created": {"user_id": _user_id, "identifiers": _identifiers, "profile": _object,
                     "source": _text, "created_at": _time},
    "user.deleted": {"user_id": _user_id, "deleted_at": _time},
    "user.profile.updated": {"user_id": _user_id, "profile": _object, "updated_at": _time},
    "user.identifier.created": {"user_id": _user_id, "identifier": _object,
                                "created_at": _time},
    "user.identifier.deleted": {"user_id": _user_id, "identifier": _object,
                                "deleted_at": _time},
    "user.session.created": {"user_id": _user_id, "session_id": _session_id,
                             "identifier": _object, "metadata": _object, "created_at": _time},
    "user.session.revoked": {"user_id": _user_id, "session_id": _session_id,
                             "revoked_at": _time},
    "step_up.hook_failed": {"user_id": _user_id,
                            "reason": lambda v: isinstance(v, str) and v in STEP_UP_REASONS},
}  # fmt: skip


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rsa_key_from_jwk(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    n, e = (int.from_bytes(_b64url(jwk[name]), "big") for name in ("n", "e"))
    return rsa.RSAPublicNumbers(e, n).public_key()


def check_rsassa_pss(jwks_url: str, body: bytes, signature: str, kid: str | None) -> str | None:
    """Why the delivery's RSASSA-PSS signature fails, or None when it holds."""
    if not signature.startswith("rsassa-pss-sha256="):
        return f"not an rsassa-pss-sha256 signature: {signature[:24]!r}"
    with urllib.request.urlopen(jwks_url, timeout=5) as answer:
        keys = json.load(answer)["keys"]
    jwk = next((k for k in keys if k.get("kid") == kid and k.get("kty") == "RSA"), None)
    if jwk is None:
        return f"no RSA key {kid!r} in the JWKS"
    raw = _b64url(signature.removeprefix("rsassa-pss-sha256="))
    key = rsa_key_from_jwk(jwk)
    # The docs give no salt length: a length-detecting check, and JOSE's PS256 length.
    for salt in (padding.PSS.AUTO, 32):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
        try:
            key.verify(raw, body, pss, hashes.SHA256())
        except InvalidSignature:
            return f"the RSASSA-PSS signature fails (salt {salt})"
    return None


def check_hmac(secret: str, body: bytes, signature: str) -> str | None:
    """Why the delivery's HMAC signature fails, or None when it holds."""
    expected = (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )
    return None if hmac.compare_digest(expected, signature) else "the HMAC signature fails"


def payload_problems(
    app_id: str, body: bytes
) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """What in a delivery breaks the documented shapes, and its (event name, payload)s."""
    problems: list[str] = []
    batch = json.loads(body)
    if batch.get("app_id") != app_id:
        problems.append(f"app_id {batch.get('app_id')!r}")
    events = batch.get("events")
    if not isinstance(events, list) or not events:
        return [*problems, "events is not a non-empty list"], []
    found = []
    for item in events:
        name = item.get("event", item.get("type"))
        payload = item.get("payload")
        if name not in DOCUMENTED or not isinstance(payload, dict):
            problems.append(f"unknown event or no payload: {item}")
            continue
        for field_name, check in DOCUMENTED[name].items():
            if field_name not in payload or not check(payload[field_name]):
                problems.append(f"{name}.{field_name} = {payload.get(field_name)!r}")
        if "correlation_id" in payload and not isinstance(payload["correlation_id"], str):
            problems.append(f"{name}.correlation_id is not a string")
        found.append((name, payload))
    return problems, found


@dataclass
class PreludeReceiver:
    """Checks each delivery by one scheme: ``jwks_url`` (RSASSA-PSS) or ``secret`` (HMAC)."""

    app_id: str
    verification_token: str
    jwks_url: str | None = None
    secret: str | None = None
    #: Answer the activation with Prelude's former ``{"verification_token"}`` body.
    old_activation_answer: bool = False
    challenges: list[dict[str, str]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deliveries: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/prelude-webhooks"

    def wait_for(self, names: set[str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if names <= {name for name, _ in self.events}:
                    return
            time.sleep(0.05)
        raise AssertionError(f"still missing {names - {n for n, _ in self.events}}")

    def _check(self, body: bytes, headers: dict[str, str]) -> list[str]:
        signature = headers.get("x-webhook-signature", "")
        if self.jwks_url is not None:
            kid = headers.get("x-webhook-signature-key-id")
            failed = check_rsassa_pss(self.jwks_url, body, signature, kid)
        else:
            assert self.secret is not None
            failed = check_hmac(self.secret, body, signature)
        if failed:
            return [failed]
        if headers.get("content-type", "").split(";")[0] != "application/json":
            return [f"content type {headers.get('content-type')!r}"]
        problems, found = payload_problems(self.app_id, body)
        with self.lock:
            self.events.extend(found)
        return problems

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with owner.lock:
                    owner.challenges.append(query)
                if (
                    query.get("event") != "activate"
                    or query.get("app_id") != owner.app_id
                    or query.get("verification_token") != owner.verification_token
                    or not query.get("challenge", "").isdigit()
                ):
                    self._answer(403, {})
                elif owner.old_activation_answer:
                    self._answer(200, {"verification_token": owner.verification_token})
                else:
                    self._answer(200, {"challenge": int(query["challenge"])})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                problems = owner._check(body, headers)
                with owner.lock:
                    owner.deliveries.append((body, headers))
                    owner.problems.extend(problems)
                self._answer(200 if not problems else 401, {})

            def _answer(self, status: int, document: dict[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextlib.contextmanager
def prelude_receiver(**kw: Any) -> Iterator[PreludeReceiver]:
    running = PreludeReceiver(**kw)
    running.start()
    try:
        yield running
    finally:
        running.stop()
