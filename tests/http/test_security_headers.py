"""Every response carries ``X-Content-Type-Options: nosniff``, ``Content-Security-Policy:
frame-ancestors 'none'``, ``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``,
and HSTS where the browser reached
sessile over TLS, whatever answered it: a route, the refresh lane, an error, a refusal
before any route, a CORS preflight, the metrics listener."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sessile.cli.devcert import write_dev_certificate
from sessile.client import SessionClient
from tests.live import LiveServer, live_server
from tests.server import free_port

EVERY_RESPONSE = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
YEAR = "max-age=31536000"


def _secured(response: httpx.Response, hsts: str | None = None) -> None:
    where = f"{response.request.method} {response.request.url.path} {response.status_code}"
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get_list(name) == [value], where
    assert response.headers.get("strict-transport-security") == hsts, where


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    metrics = free_port()
    args = ("--metrics-port", str(metrics))
    with live_server(tmp_path_factory.mktemp("headers"), args=args) as live:
        yield live, metrics


def test_every_answer_carries_them(server: tuple[LiveServer, int]) -> None:
    live, metrics = server
    seen: list[httpx.Response] = []
    http = httpx.Client(timeout=10, event_hooks={"response": [seen.append]})
    # A session's whole life: finalize, the refresh lane (its hottest route), a Bearer
    # route, logout.
    with SessionClient(live.url, http=http) as client:
        client.finalize(live.challenge(live.new_user()))
        client.refresh()
        client.list_sessions()
        client.logout()
    answered = {(r.request.url.path, r.status_code) for r in seen}
    assert ("/v1/session/refresh", 200) in answered
    assert ("/v1/session/refresh", 401) in answered or (
        "/v1/session/login/finalize",
        401,
    ) in answered
    refresh = "/v1/session/refresh"
    seen += [
        httpx.get(live.url + "/healthz"),
        httpx.get(live.url + "/.well-known/jwks.json"),
        httpx.get(live.url + "/no/such/page"),
        httpx.post(live.url + refresh),  # the lane's own error
        httpx.post(live.url + refresh, headers={"Origin": "https://evil.example"}),  # refused
        httpx.post(live.url + refresh, content=b"x" * 70_000),  # too large
        httpx.options(
            live.url + refresh,
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        ),  # a preflight
        httpx.get(f"http://127.0.0.1:{metrics}/metrics"),
        httpx.get(f"http://127.0.0.1:{metrics}/elsewhere"),
    ]
    statuses = {r.status_code for r in seen}
    assert {200, 204, 400, 401, 403, 404, 413} <= statuses, statuses
    for response in seen:
        _secured(response)  # plain http on loopback: no HSTS


def test_hsts_when_the_public_url_is_https(tmp_path: Path) -> None:
    # TLS ends at a proxy in front: the browser reached sessile over https.
    env = {"SESSILE_PUBLIC_URL": "https://auth.example.test"}
    with live_server(tmp_path, env=env) as live:
        _secured(httpx.get(live.url + "/healthz"), hsts=YEAR)
        _secured(httpx.post(live.url + "/v1/session/refresh"), hsts=YEAR)
    env["SESSILE_HSTS_MAX_AGE"] = "0"
    with live_server(tmp_path / "off", env=env) as live:
        _secured(httpx.get(live.url + "/healthz"))


def test_hsts_on_a_tls_connection(tmp_path: Path) -> None:
    cert, key = write_dev_certificate(tmp_path / "tls", ["127.0.0.1"])
    port = free_port()
    tls = ("--tls-cert", str(cert), "--tls-key", str(key))
    context = ssl.create_default_context(cafile=str(cert))
    # A public name served over TLS by sessile itself.
    env = {"SESSILE_PUBLIC_URL": "https://auth.example.test", "SESSILE_HSTS_MAX_AGE": "600"}
    with live_server(tmp_path / "a", env=env, args=tls, port=port, scheme="https") as live:
        _secured(httpx.get(live.url + "/healthz", verify=context), hsts="max-age=600")
    # On loopback, never: HSTS would pin every localhost port of the developer's browser.
    with live_server(tmp_path / "b", args=tls, scheme="https") as live:
        _secured(httpx.get(live.url + "/healthz", verify=context))


@pytest.mark.parametrize(
    ("public_url", "plain", "tls"),
    [
        ("https://auth.example.com", YEAR, YEAR),
        ("http://auth.internal", None, YEAR),  # TLS served by sessile itself
        ("https://localhost:8443", None, None),
        ("http://127.0.0.1:8000", None, None),
        ("https://[::1]:8443", None, None),
    ],
)
def test_which_connections_get_hsts(public_url: str, plain: str | None, tls: str | None) -> None:
    from sessile.http.security_headers import SecurityHeaders

    headers = SecurityHeaders.build(public_url, 31_536_000)
    assert dict(headers.plain).get(b"strict-transport-security") == (plain and plain.encode())
    assert dict(headers.tls).get(b"strict-transport-security") == (tls and tls.encode())
