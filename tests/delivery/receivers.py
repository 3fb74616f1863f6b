"""Local receivers for delivery tests: an SMTP server (aiosmtpd) and an HTTP webhook endpoint."""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from sessile.delivery import webhook_signature
from tests.server import free_port


@dataclass
class SmtpInbox:
    port: int
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextlib.contextmanager
def smtp_inbox() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class WebhookInbox:
    url: str
    secret: bytes
    #: Status codes to answer before accepting; each request pops one.
    failures: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    attempts: int = 0
    #: While cleared, each request waits here before it is answered (a slow provider).
    gate: threading.Event = field(default_factory=threading.Event)
    #: Set when a request has arrived (and may be waiting at the gate).
    arrived: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def webhook_inbox(
    secret: bytes,
    failures: list[int] | None = None,
    *,
    port: int | None = None,
    held: bool = False,
) -> Iterator[WebhookInbox]:
    port = port or free_port()
    inbox = WebhookInbox(f"http://127.0.0.1:{port}/send", secret, list(failures or []))
    if not held:
        inbox.gate.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            inbox.attempts += 1
            inbox.arrived.set()
            inbox.gate.wait(30)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            timestamp = self.headers.get("Sessile-Timestamp", "")
            expected = webhook_signature(inbox.secret, timestamp, body)
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
            if not fresh or not hmac.compare_digest(
                expected, self.headers.get("Sessile-Signature", "")
            ):
                inbox.rejected += 1
                self.send_response(401)
            elif inbox.failures:
                self.send_response(inbox.failures.pop(0))
            else:
                inbox.received.append(json.loads(body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
