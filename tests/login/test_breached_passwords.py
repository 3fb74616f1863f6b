"""The optional breached-password check, against a local range-query service (HIBP's shape)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer, live_server
from tests.server import free_port

BREACHED = "purple monkey dishwasher"  # not on the common list
CLEAN = "a long passphrase nobody leaked"
USERS = "/v2/session/apps/default/users"


class RangeService:
    """``GET /range/{prefix}`` answers ``SUFFIX:COUNT`` lines, padded with decoys."""

    def __init__(self) -> None:
        digest = hashlib.sha1(BREACHED.encode()).hexdigest().upper()
        self.known = {digest[:5]: [f"{digest[5:]}:42"]}
        self.mode = "ok"
        self.requests: list[tuple[str, str | None]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append((self.path, self.headers.get("Add-Padding")))
                if service.mode == "slow":
                    time.sleep(2)
                if service.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                prefix = self.path.rsplit("/", 1)[-1]
                lines = [*service.known.get(prefix, []), "0123456789ABCDEF0123456789ABCDEF012:0"]
                body = "\r\n".join(lines).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/range"


@pytest.fixture(scope="module")
def service() -> Iterator[RangeService]:
    service = RangeService()
    thread = threading.Thread(target=service.http.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.http.shutdown()
        service.http.server_close()


def _set_password(server: LiveServer, password: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {server.api_key()}"}
    user = httpx.post(
        server.url + USERS,
        headers=auth,
        json={"identifiers": [{"type": "email_address", "value": f"u{time.time_ns()}@x.co"}]},
        timeout=10,
    )
    assert user.status_code == 201, user.text
    path = f"{server.url}{USERS}/{user.json()['id']}/password"
    return httpx.put(path, headers=auth, json={"password": password}, timeout=10)


@pytest.fixture(scope="module")
def checked(
    service: RangeService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"SESSILE_PASSWORD_BREACHED_URL": service.url, "SESSILE_PASSWORD_BREACHED_TIMEOUT": "1"}
    with live_server(tmp_path_factory.mktemp("breached"), env=env) as live:
        yield live


def test_a_breached_password_is_refused_and_only_a_prefix_leaves(
    checked: LiveServer, service: RangeService
) -> None:
    service.mode = "ok"
    service.requests.clear()
    response = httpx.post(
        checked.url + "/v1/session/login/email/sign-up",
        json={"identifier": "breached@example.com", "password": BREACHED},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_password"
    assert "breach" in response.json()["message"]
    refused = _set_password(checked, BREACHED)
    assert refused.json()["code"] == "invalid_password"

    digest = hashlib.sha1(BREACHED.encode()).hexdigest().upper()
    assert service.requests == [(f"/range/{digest[:5]}", "true")] * 2


def test_a_clean_password_is_accepted(checked: LiveServer, service: RangeService) -> None:
    service.mode = "ok"
    response = _set_password(checked, CLEAN)
    assert response.status_code == 200, response.text


def test_fail_open_accepts_when_the_service_fails(
    checked: LiveServer, service: RangeService
) -> None:
    for mode in ("error", "slow"):
        service.mode = mode
        response = _set_password(checked, BREACHED)
        assert response.status_code == 200, (mode, response.text)
    assert "breached-password check unavailable" in checked.server.output()


def test_fail_closed_refuses_when_the_service_is_down(tmp_path: Path) -> None:
    env = {
        "SESSILE_PASSWORD_BREACHED_URL": f"http://127.0.0.1:{free_port()}/range",
        "SESSILE_PASSWORD_BREACHED_FAIL": "closed",
    }
    with live_server(tmp_path, env=env) as server:
        response = _set_password(server, CLEAN)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "service_unavailable"
    assert "breaches" in response.json()["message"]
