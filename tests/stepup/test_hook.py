"""Delegated decisions: a real local HTTP hook, signed requests, and the configured default
when it fails or answers too slowly."""

from __future__ import annotations

import contextlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sessile.delivery import webhook_signature
from tests.live import LiveServer, live_server
from tests.server import free_port
from tests.stepup.conftest import MANY
from tests.stepup.flow import claims_of, log_in

SECRET = b"hook secret for the tests"


@dataclass
class Hook:
    url: str
    #: What the next request gets: "continue", "review", "block", "slow", "fail", "nonsense".
    mode: str = "continue"
    steps: list[str] | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


@contextlib.contextmanager
def decision_hook() -> Iterator[Hook]:
    port = free_port()
    hook = Hook(f"http://127.0.0.1:{port}/decide")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            expected = webhook_signature(SECRET, self.headers["Sessile-Timestamp"], body)
            if not hmac.compare_digest(expected, self.headers["Sessile-Signature"]):
                hook.bad_signatures += 1
            hook.received.append(json.loads(body))
            if hook.mode == "slow":
                time.sleep(2.0)
            if hook.mode == "fail":
                self._answer(500, b'{"error": "down"}')
                return
            if hook.mode == "nonsense":
                self._answer(200, b'{"decision": "maybe"}')
                return
            answer: dict[str, Any] = {"decision": "continue" if hook.mode == "slow" else hook.mode}
            if hook.steps is not None:
                answer["steps"] = hook.steps
            self._answer(200, json.dumps(answer).encode())

        def _answer(self, status: int, body: bytes) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hook() -> Iterator[Hook]:
    with decision_hook() as running:
        yield running


@pytest.fixture(scope="module")
def delegated(tmp_path_factory: pytest.TempPathFactory, hook: Hook) -> Iterator[LiveServer]:
    """Delegated mode; the default, "review", shows when the hook gave no answer."""
    env = {
        "SESSILE_STEPUP_MODE": "delegated",
        "SESSILE_STEPUP_HOOK_URL": hook.url,
        "SESSILE_STEPUP_HOOK_SECRET": SECRET.decode(),
        "SESSILE_STEPUP_HOOK_TIMEOUT": "0.5",
        "SESSILE_STEPUP_HOOK_DEFAULT": "review",
        **MANY,
    }
    with live_server(tmp_path_factory.mktemp("stepup-hook"), env=env) as live:
        yield live


def _ask(server: LiveServer, hook: Hook, mode: str) -> dict[str, Any]:
    client = log_in(server)
    hook.mode = mode
    answer = client.request("prld:pwd:write", {"reason": "settings"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_hook_is_asked_with_a_signed_request(delegated: LiveServer, hook: Hook) -> None:
    client = log_in(delegated)
    hook.mode, hook.received = "continue", []
    answer = client.request("prld:pwd:write", {"reason": "settings"})
    assert answer.json()["status"] == "continue"
    assert hook.bad_signatures == 0
    (asked,) = hook.received
    claims = claims_of(answer.json()["challenge_token"])
    assert asked["type"] == "stepup.request"
    assert asked["scope"] == "prld:pwd:write"
    assert asked["metadata"] == {"reason": "settings"}
    assert asked["session_id"] == claims["sid"]
    assert asked["user_id"] == claims["sub"]
    # The challenge it allowed goes all the way to a grant.
    challenge, verification = client.code_step(answer.json()["challenge_token"])
    completed = client.proceed(challenge, verification).json()["challenge_token"]
    assert "prld:pwd:write" in claims_of(client.session.refresh(completed).access_token)["scope"]


def test_block_gives_no_challenge(delegated: LiveServer, hook: Hook) -> None:
    assert _ask(delegated, hook, "block") == {"status": "block"}


def test_review_with_the_hooks_steps(delegated: LiveServer, hook: Hook) -> None:
    hook.steps = ["email_otp", "email_otp"]
    try:
        body = _ask(delegated, hook, "review")
    finally:
        hook.steps = None
    assert body["status"] == "review"
    keys = [s["key"] for s in claims_of(body["challenge_token"])["steps"]]
    assert keys == ["email_otp", "email_otp"]


def test_too_slow_gives_the_default(delegated: LiveServer, hook: Hook) -> None:
    started = time.monotonic()
    body = _ask(delegated, hook, "slow")
    assert time.monotonic() - started < 1.8, "the hook's timeout cut the wait"
    assert body["status"] == "review"
    assert "challenge_token" in body


@pytest.mark.parametrize("mode", ["fail", "nonsense"])
def test_failure_gives_the_default(delegated: LiveServer, hook: Hook, mode: str) -> None:
    assert _ask(delegated, hook, mode)["status"] == "review"


def test_a_hook_that_is_down_gives_the_default(tmp_path_factory: pytest.TempPathFactory) -> None:
    env = {
        "SESSILE_STEPUP_MODE": "delegated",
        "SESSILE_STEPUP_HOOK_URL": f"http://127.0.0.1:{free_port()}/nobody",
        "SESSILE_STEPUP_HOOK_SECRET": SECRET.decode(),
    }
    with live_server(tmp_path_factory.mktemp("stepup-down"), env=env) as server:
        client = log_in(server)
        answer = client.request("prld:pwd:write")
        assert answer.json() == {"status": "block"}, "the default default is block"
