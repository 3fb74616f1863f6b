"""Common passwords are refused wherever a password is set, on a live server (ASVS V6.2.4)."""

from __future__ import annotations

import httpx
import pytest

from sessile.login import common_passwords
from tests.live import LiveServer

SIGN_UP = "/v1/session/login/email/sign-up"
USERS = "/v2/session/apps/default/users"
GOOD = "a long passphrase"


def _refused_as_common(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_password"
    assert "common" in body["message"]


@pytest.mark.parametrize("password", ["password123", "Password123", "QWERTY123", "iloveyou"])
def test_sign_up_refuses_a_common_password(server: LiveServer, password: str) -> None:
    response = httpx.post(
        server.url + SIGN_UP,
        json={"identifier": "common-signup@example.com", "password": password},
        timeout=10,
    )
    _refused_as_common(response)


def test_the_management_api_refuses_a_common_password(server: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {server.api_key()}"}
    created = httpx.post(
        server.url + USERS,
        headers=auth,
        json={
            "identifiers": [{"type": "email_address", "value": "common-api@example.com"}],
            "password": "P@ssw0rd",
        },
        timeout=10,
    )
    _refused_as_common(created)

    created = httpx.post(
        server.url + USERS,
        headers=auth,
        json={"identifiers": [{"type": "email_address", "value": "common-api@example.com"}]},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    path = f"{server.url}{USERS}/{created.json()['id']}/password"
    _refused_as_common(httpx.put(path, headers=auth, json={"password": "Sunshine1"}, timeout=10))
    accepted = httpx.put(path, headers=auth, json={"password": GOOD}, timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["has_password"] is True


def test_the_list_is_real_and_case_insensitive() -> None:
    assert common_passwords.size() > 19_000
    assert common_passwords.is_common("123456")
    assert common_passwords.is_common("LetMeIn1")
    assert not common_passwords.is_common(GOOD)
