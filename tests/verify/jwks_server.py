"""A loopback JWKS endpoint in a thread that counts how often it is fetched."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

__all__ = ["JwksServer", "jwks_server"]


class JwksServer:
    """Serves ``document`` (or, with ``upstream``, whatever that URL serves) at ``url``."""

    def __init__(
        self,
        document: dict[str, Any] | None = None,
        *,
        upstream: str | None = None,
        cache_control: str | None = "public, max-age=300",
        delay: float = 0.0,
    ) -> None:
        self.document = document
        self.upstream = upstream
        self.cache_control = cache_control
        #: Seconds each answer waits, so concurrent verifications pile up behind one fetch.
        self.delay = delay
        #: The status to answer with; anything but 200 sends an error body.
        self.status = 200
        self._fetches = 0
        self._count_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"

    @property
    def fetches(self) -> int:
        with self._count_lock:
            return self._fetches

    def _answer(self) -> tuple[int, bytes, str | None]:
        with self._count_lock:
            self._fetches += 1
        time.sleep(self.delay)
        if self.status != 200:
            return self.status, b'{"code":"internal"}', None
        if self.upstream is not None:
            response = httpx.get(self.upstream, timeout=5)
            return response.status_code, response.content, response.headers.get("cache-control")
        return 200, json.dumps(self.document).encode(), self.cache_control

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, cache_control = owner._answer()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if cache_control is not None:
                    self.send_header("Cache-Control", cache_control)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextlib.contextmanager
def jwks_server(document: dict[str, Any] | None = None, **kw: Any) -> Iterator[JwksServer]:
    server = JwksServer(document, **kw)
    server.start()
    try:
        yield server
    finally:
        server.stop()
