"""The routes of Prelude's reference that sessile doesn't offer yet (passkeys, migration)
or at all (SAML, the OAuth-server routes, Mode and Domains): each answers Prelude's error
body with 404 ``not_found``, so a client fails plainly instead of misreading an answer.
docs/prelude-compat.md says why each is missing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.live import LiveServer, live_server

FRONTEND = [
    ("POST", "/v1/session/migration"),
    ("POST", "/v1/session/login/passkey/begin"),
    ("POST", "/v1/session/login/passkey/finish"),
    ("POST", "/v1/session/me/passkeys/register/begin"),
    ("POST", "/v1/session/me/passkeys/register/finish"),
    ("GET", "/v1/session/me/passkeys"),
    ("DELETE", "/v1/session/me/passkeys/cred_1"),
    ("GET", "/v1/session/login/saml/initiate?email=ada@example.com"),
    ("GET", "/v1/session/login/saml/okta/samlc_1/initiate"),
    ("POST", "/v1/session/login/saml/okta/samlc_1/acs"),
    ("POST", "/v1/session/oauth/continue"),
    ("GET", "/v1/session/oauth/pending"),
    ("POST", "/v1/session/oauth/decision"),
]
MANAGEMENT = [
    ("POST", "/config/migration"),
    ("PUT", "/config/migration"),
    ("PUT", "/config/passkey"),
    ("PUT", "/config/login/saml/okta/samlc_1"),
    ("GET", "/mode"),
    ("GET", "/domains"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("not-offered")) as live:
        yield live


def _not_found(answer: httpx.Response) -> None:
    assert answer.status_code == 404, answer.text
    body = answer.json()
    assert (body["code"], body["type"], body["status"]) == ("not_found",) * 3


@pytest.mark.parametrize(("method", "path"), FRONTEND)
def test_frontend_routes_not_offered_answer_not_found(
    server: LiveServer, method: str, path: str
) -> None:
    _not_found(httpx.request(method, server.url + path, json={}))


@pytest.mark.parametrize(("method", "path"), MANAGEMENT)
def test_management_routes_not_offered_answer_not_found(
    server: LiveServer, method: str, path: str
) -> None:
    key = server.api_key()
    answer = httpx.request(
        method,
        server.url + "/v2/session/apps/default" + path,
        headers={"Authorization": f"Bearer {key}"},
        json={},
    )
    _not_found(answer)
