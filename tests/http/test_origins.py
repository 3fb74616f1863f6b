"""Cross-site calls to the cookie routes are refused, on a live server (``http/origins.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sessile.client import SessionClient
from sessile.http.origins import origin_of
from tests.live import LiveServer, live_server

APP = "https://app.example.com"
EVIL = "https://evil.example"

#: Every frontend route that reads or sets a cookie.
COOKIE_ROUTES = [
    "/v1/session/refresh",
    "/v1/session/revoke",
    "/v1/session/login/finalize",
    "/v1/session/login/otp",
    "/v1/session/login/otp/check",
    "/v1/session/login/otp/retry",
    "/v1/session/login/email/password",
    "/v1/session/login/email/sign-up",
    "/v1/session/me/revoke?target=all",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("origins"), env={"SESSILE_CORS_ORIGINS": APP}) as live:
        yield live


def _logged_in(server: LiveServer, **headers: str) -> SessionClient:
    client = SessionClient(server.url, http=httpx.Client(headers=headers, timeout=10))
    client.finalize(server.challenge(server.new_user()))
    return client


def _cookies(client: SessionClient) -> str:
    assert client.tokens is not None
    return f"__Host-sessile_refresh={client.tokens.refresh_token}; __Host-sessile_otp=x"


def _assert_refused(response: httpx.Response, why: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "forbidden"
    assert why in body["message"]
    assert "not allowed" in body["message"]
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", COOKIE_ROUTES)
def test_a_cross_site_origin_is_refused_on_every_cookie_route(
    server: LiveServer, path: str
) -> None:
    victim = _logged_in(server)
    # What a hostile page's form or fetch sends: the browser adds the cookie and Origin.
    response = httpx.post(
        server.url + path,
        headers={
            "Origin": EVIL,
            "Cookie": _cookies(victim),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        content=b"",
        timeout=10,
    )
    _assert_refused(response, EVIL)
    victim.refresh()  # the session is untouched


def test_a_cross_site_form_post_no_longer_clears_the_refresh_cookie(server: LiveServer) -> None:
    victim = _logged_in(server)
    response = httpx.post(
        server.url + "/v1/session/revoke",
        headers={"Origin": EVIL, "Cookie": _cookies(victim)},
        data={},
        timeout=10,
    )
    _assert_refused(response, EVIL)


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
@pytest.mark.parametrize("path", ["/v1/session/refresh", "/v1/session/revoke"])
def test_sec_fetch_site_without_origin_is_refused(server: LiveServer, path: str, site: str) -> None:
    victim = _logged_in(server)
    response = httpx.post(
        server.url + path,
        headers={"Sec-Fetch-Site": site, "Cookie": _cookies(victim)},
        timeout=10,
    )
    _assert_refused(response, site)


def test_a_null_origin_is_refused(server: LiveServer) -> None:
    response = httpx.post(server.url + "/v1/session/revoke", headers={"Origin": "null"})
    _assert_refused(response, "null")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "same"}, id="same-origin"),
        pytest.param({"Origin": APP}, id="cors-origin"),
        pytest.param({"Origin": APP.upper() + ":443"}, id="cors-origin-spelt-otherwise"),
        pytest.param({"Sec-Fetch-Site": "same-origin"}, id="sec-fetch-site-same-origin"),
        pytest.param({}, id="no-browser-headers"),
    ],
)
def test_allowed_callers_log_in_refresh_and_log_out(
    server: LiveServer, headers: dict[str, str]
) -> None:
    if headers.get("Origin") == "same":
        headers = {"Origin": server.url}
    client = _logged_in(server, **headers)
    client.refresh()
    assert client.revoke_sessions("others") == {"revoked": 0}
    client.logout()


def test_an_otp_start_from_an_allowed_origin_sets_its_cookie(server: LiveServer) -> None:
    response = httpx.post(
        server.url + "/v1/session/login/otp",
        headers={"Origin": APP, "Sec-Fetch-Site": "cross-site"},
        json={"identifier": {"type": "email_address", "value": "ada@example.com"}},
        timeout=10,
    )
    assert response.status_code == 204, response.text
    assert "__Host-sessile_otp=" in response.headers["set-cookie"]


def test_safe_methods_are_not_checked(server: LiveServer) -> None:
    response = httpx.get(server.url + "/v1/session/password/compliancy", headers={"Origin": EVIL})
    assert response.status_code == 200


def test_a_provider_posting_its_callback_is_not_refused_as_cross_site(server: LiveServer) -> None:
    """Apple's form_post comes from its own page; state, not origin, guards the callback."""
    response = httpx.post(
        server.url + "/v1/session/login/oauth/apple/callback",
        headers={"Origin": "https://appleid.apple.com", "Sec-Fetch-Site": "cross-site"},
        data={"state": "forged", "code": "x"},
    )
    assert response.status_code != 403
    assert '"forbidden"' not in response.text
    # Any other POST under the same prefix is still checked.
    refused = httpx.post(
        server.url + "/v1/session/login/oauth/apple/authorize",
        headers={"Origin": "https://appleid.apple.com"},
        json={},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Auth.Example.com:443/", "https://auth.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:80", "http://[::1]"),
        ("null", None),
        ("https://x:notaport", None),
        ("ftp://x", None),
    ],
)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin
