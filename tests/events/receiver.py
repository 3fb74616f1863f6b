"""A webhook receiver on loopback, as an app's backend would run one: it answers the
activation challenge, checks every delivery with ``sessile.verify.verify_webhook`` (against
the server's JWKS, or the HMAC secrets it was given), and records each event it accepted.
It can be stopped and started again on the same port."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sessile.verify import WebhookError, WebhookKeys, verify_webhook
from tests.server import free_port

VERIFICATION_TOKEN = "let-me-in"


@dataclass
class Receiver:
    port: int
    app_id: str = "default"
    #: Signing secrets the receiver accepts (set once an HMAC endpoint is created).
    secrets: list[str] = field(default_factory=list)
    #: The server's body-signing keys (set once an RSASSA-PSS endpoint is created).
    keys: WebhookKeys | None = None
    #: Every event accepted, in arrival order (duplicates kept, to be counted).
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Every delivery as it arrived: the raw body and the headers (lower-cased names).
    raw: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    batches: int = 0
    rejected: int = 0
    #: Answer the activation challenge with this instead of the challenge (a broken endpoint).
    wrong_challenge: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def ids(self) -> list[str]:
        with self.lock:
            return [e["id"] for e in self.events]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e["type"] == event_type]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"only {len(self.events)} of {count} events: {self.events}")

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                if (
                    query.get("event") != "activate"
                    or query.get("verification_token") != VERIFICATION_TOKEN
                    or query.get("app_id") != receiver.app_id
                ):
                    self._answer(403, b"{}")
                    return
                challenge = int(query["challenge"]) + (1 if receiver.wrong_challenge else 0)
                self._answer(200, json.dumps({"challenge": challenge}).encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.raw.append((body, {k.lower(): v for k, v in self.headers.items()}))
                try:
                    batch = verify_webhook(
                        body,
                        self.headers.get("X-Webhook-Signature"),
                        receiver.secrets,
                        key_id=self.headers.get("X-Webhook-Signature-Key-Id"),
                        keys=receiver.keys,
                        app_id=receiver.app_id,
                    )
                except WebhookError:
                    with receiver.lock:
                        receiver.rejected += 1
                    self._answer(401, b"{}")
                    return
                with receiver.lock:
                    receiver.batches += 1
                    receiver.events.extend(dict(e) for e in batch.events)
                self._answer(200, b"{}")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextlib.contextmanager
def receiver() -> Iterator[Receiver]:
    running = Receiver(free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()
