"""``X-Verification-Token`` goes to clients that read headers, never to a page's scripts:
a browser holds the HttpOnly verification cookie, which carries the same token. Header mode
(the refresh token's rule) or a request from no browser (neither ``Origin`` nor
``Sec-Fetch-*``, headers no script can set or remove) gets it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from sessile.client import DPoPKey
from tests.live import LiveServer, live_server

BASE = "/v1/session"
COOKIE = "__Host-sessile_otp"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SESSILE_OTP_RATE_PER_IP": "10000/minute"}
    with live_server(tmp_path_factory.mktemp("verification"), env=env) as live:
        yield live


def _browser(server: LiveServer) -> dict[str, str]:
    """What a browser sends on a POST from the server's own page."""
    return {"Origin": server.url, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}


CLIENTS = {
    "browser": lambda s: _browser(s),
    "browser, Sec-Fetch only": lambda s: {"Sec-Fetch-Site": "same-origin"},
    "browser in header mode": lambda s: {**_browser(s), "X-Refresh-Token-Mode": "header"},
    "browser with a refresh token": lambda s: {**_browser(s), "X-Refresh-Token": "x.0.y"},
    "Prelude's Android client": lambda s: {"X-Device-Id": "a-device"},
    "no browser": lambda s: {},
}
GETS_THE_HEADER = {
    "browser": False,
    "browser, Sec-Fetch only": False,
    "browser in header mode": True,
    "browser with a refresh token": True,
    "Prelude's Android client": True,
    "no browser": True,
}


def _identifier() -> dict[str, str]:
    return {"type": "email_address", "value": f"v-{secrets.token_hex(4)}@example.com"}


def _cookie(response: httpx.Response) -> str:
    set_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE + "=")
    )
    assert "HttpOnly" in set_cookie
    return set_cookie.split(";")[0].split("=", 1)[1]


@pytest.mark.parametrize("route", ["/login/otp", "/otp"])
@pytest.mark.parametrize("client", CLIENTS)
def test_the_header_goes_only_where_no_script_can_read_it(
    server: LiveServer, route: str, client: str
) -> None:
    headers = CLIENTS[client](server)
    started = httpx.post(
        server.url + BASE + route, json={"identifier": _identifier()}, headers=headers
    )
    assert started.status_code == 204, started.text
    token = _cookie(started)  # the cookie always carries it
    if GETS_THE_HEADER[client]:
        assert started.headers["X-Verification-Token"] == token
    else:
        assert "X-Verification-Token" not in started.headers


def test_a_sign_up_that_must_prove_its_address_follows_the_same_rule(server: LiveServer) -> None:
    body = {"identifier": _identifier(), "password": "a fine long password"}
    url = server.url + BASE + "/login/email/sign-up"
    in_browser = httpx.post(url, json=body, headers=_browser(server))
    assert in_browser.json()["status"] == "otp_required"
    assert "X-Verification-Token" not in in_browser.headers
    body["identifier"] = _identifier()
    native = httpx.post(url, json=body)
    assert native.headers["X-Verification-Token"] == native.json()["challenge_token"]


def test_a_browser_logs_in_on_the_cookie_alone(server: LiveServer) -> None:
    identifier = _identifier()
    started = httpx.post(
        server.url + BASE + "/login/otp", json={"identifier": identifier}, headers=_browser(server)
    )
    assert "X-Verification-Token" not in started.headers
    code = server.last_message(identifier["value"])["code"]
    key = DPoPKey.generate()
    url = server.url + BASE + "/login/otp/check"
    headers = {**_browser(server), "Cookie": f"{COOKIE}={_cookie(started)}"}
    asked = httpx.post(
        url, json={"code": code}, headers={**headers, "DPoP": key.proof("POST", url)}
    )
    assert asked.json()["code"] == "use_dpop_nonce"
    proof = key.proof("POST", url, nonce=asked.headers["DPoP-Nonce"])
    checked = httpx.post(url, json={"code": code}, headers={**headers, "DPoP": proof})
    assert checked.status_code == 200, checked.text
    assert checked.json()["access_token"]
