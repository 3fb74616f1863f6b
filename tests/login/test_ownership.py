"""Account ownership against a real server: no session from an unproven sign-up, and the
owner's first code login undoes what an unproven sign-up planted (issue: pre-hijacking)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from sessile.client import SessionClient, SessionClientError
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer, live_server

VICTIM = "victim@example.com"


@pytest.fixture(scope="module")
def server(server_on_each_database: LiveServer) -> LiveServer:
    return server_on_each_database


@pytest.fixture(scope="module")
def unverified_signup_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Sign-up without proof, as ``SESSILE_SIGNUP_VERIFY_EMAIL=false`` allows."""
    env = {"SESSILE_SIGNUP_VERIFY_EMAIL": "false", "SESSILE_TOKEN_IDENTITY_CLAIMS": "true"}
    with live_server(tmp_path_factory.mktemp("unverified"), env=env) as live:
        yield live


def decode(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _email(value: str) -> Identifier:
    return Identifier("email_address", value)


def test_sign_up_with_someone_elses_address_gets_no_session(server: LiveServer) -> None:
    attacker = SessionClient(server.url)
    base = server.url + "/v1/session"
    answer = httpx.post(
        base + "/login/email/sign-up",
        json={"identifier": "victim@example.com", "password": "attacker's passphrase"},
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "otp_required"
    # Through the client (which calls finalize as Prelude's SDK does): no session either.
    assert attacker.sign_up(VICTIM, "attacker's passphrase") is None
    assert attacker.tokens is None
    assert server.user(_email(VICTIM)) is None, "no account before the address is proven"
    # A guessed code does not get in, and the attacker never sees the real one.
    with pytest.raises(SessionClientError) as caught:
        attacker.check_otp("000000")
    assert caught.value.code == "bad_check_code"

    # The owner logs in by code: the account is theirs alone.
    owner = SessionClient(server.url)
    owner.start_otp("email_address", VICTIM)
    owner.check_otp(server.last_message(VICTIM)["code"])
    user = server.user(_email(VICTIM))
    assert user is not None
    assert user.password_hash is None, "the attacker's password never joined the account"
    assert user.is_proven("email_address")
    with pytest.raises(SessionClientError) as denied:
        SessionClient(server.url).login_with_password(VICTIM, "attacker's passphrase")
    assert denied.value.code == "unauthorized"


def test_finalize_of_a_sign_up_answers_otp_required_without_tokens(server: LiveServer) -> None:
    client = SessionClient(server.url)
    client.sign_up("finalize-shape@example.com", "a long passphrase")
    token = client.verification_token
    assert token is not None
    raw = httpx.post(
        server.url + "/v1/session/login/finalize",
        headers={"DPoP": client.key.proof("POST", server.url + "/v1/session/login/finalize")},
        json={"challenge_token": token},
    )
    if raw.json().get("code") == "use_dpop_nonce":
        raw = httpx.post(
            server.url + "/v1/session/login/finalize",
            headers={
                "DPoP": client.key.proof(
                    "POST",
                    server.url + "/v1/session/login/finalize",
                    nonce=raw.headers["DPoP-Nonce"],
                )
            },
            json={"challenge_token": token},
        )
    assert raw.status_code == 200
    assert raw.json() == {"status": "otp_required"}
    assert "access_token" not in raw.text
    # A made-up sign-up token is refused like any bad challenge.
    forged = httpx.post(
        server.url + "/v1/session/login/finalize",
        headers={
            "DPoP": client.key.proof(
                "POST",
                server.url + "/v1/session/login/finalize",
                nonce=raw.headers["DPoP-Nonce"],
            )
        },
        json={"challenge_token": token[:-4] + "AAAA"},
    )
    assert forged.status_code == 400
    assert forged.json()["code"] == "invalid_challenge_token"


def test_sign_up_answers_alike_for_taken_and_free_addresses(server: LiveServer) -> None:
    owner = SessionClient(server.url)
    owner.start_otp("email_address", "taken@example.com")
    owner.check_otp(server.last_message("taken@example.com")["code"])
    base = server.url + "/v1/session/login/email/sign-up"

    taken = httpx.post(base, json={"identifier": "taken@example.com", "password": "a passphrase!"})
    free = httpx.post(base, json={"identifier": "free@example.com", "password": "a passphrase!"})
    assert taken.status_code == free.status_code == 200
    assert taken.json().keys() == free.json().keys() == {"challenge_token", "status"}
    assert taken.json()["status"] == free.json()["status"] == "otp_required"
    assert taken.headers.keys() - {"date", "content-length", "dpop-nonce"} == (
        free.headers.keys() - {"date", "content-length", "dpop-nonce"}
    )
    # The owner of the taken address is told, and gets no code to hand on.
    notice = server.last_message("taken@example.com")
    assert notice["code"] == ""
    assert "already has one" in notice["text"]
    assert server.last_message("free@example.com")["code"]


def test_taken_address_sign_up_never_logs_in_or_changes_the_password(server: LiveServer) -> None:
    owner = SessionClient(server.url)
    owner.start_otp("email_address", "keeper@example.com")
    owner.check_otp(server.last_message("keeper@example.com")["code"])
    intruder = SessionClient(server.url)
    assert intruder.sign_up("keeper@example.com", "intruder passphrase") is None
    notice = server.last_message("keeper@example.com")
    for guess in ("000000", notice["code"] or "123456"):
        with pytest.raises(SessionClientError) as caught:
            intruder.check_otp(guess)
        assert caught.value.code == "bad_check_code"
    user = server.user(_email("keeper@example.com"))
    assert user is not None
    assert user.password_hash is None
    assert owner.list_sessions()["total"] == 1


def test_unverified_sign_up_is_undone_by_the_owners_first_code_login(
    unverified_signup_server: LiveServer,
) -> None:
    server = unverified_signup_server
    attacker = SessionClient(server.url)
    assert attacker.sign_up(VICTIM, "attacker's passphrase") is not None
    # A backend can see the address was never proven.
    claims = decode(attacker.refresh().access_token)
    assert (claims["email"], claims["email_verified"]) == (VICTIM, False)
    planted = server.user(_email(VICTIM))
    assert planted is not None
    assert planted.password_unproven
    assert not planted.is_proven("email_address")
    # Here sign-up says when an address is taken: the setting trades that for no code step.
    taken = httpx.post(
        server.url + "/v1/session/login/email/sign-up",
        json={"identifier": VICTIM, "password": "another passphrase"},
    )
    assert taken.json()["code"] == "identifier_already_exists"

    owner = SessionClient(server.url)
    owner.start_otp("email_address", VICTIM)
    owned = decode(owner.check_otp(server.last_message(VICTIM)["code"]).access_token)
    assert (owned["email"], owned["email_verified"]) == (VICTIM, True)
    proven = server.user(_email(VICTIM))
    assert proven is not None
    assert proven.id == planted.id
    assert proven.password_hash is None
    assert not proven.password_unproven
    assert proven.is_proven("email_address")
    with pytest.raises(SessionClientError) as ended:
        attacker.refresh()
    assert ended.value.code == "unauthorized"
    with pytest.raises(SessionClientError) as denied:
        SessionClient(server.url).login_with_password(VICTIM, "attacker's passphrase")
    assert denied.value.code == "unauthorized"
    assert owner.list_sessions()["total"] == 1
    # A second code login is no first proof: the owner's own session stays.
    again = SessionClient(server.url)
    again.start_otp("email_address", VICTIM)
    again.check_otp(server.last_message(VICTIM)["code"])
    assert owner.list_sessions()["total"] == 2


def test_management_api_shows_what_is_proven(server: LiveServer) -> None:
    owner = SessionClient(server.url)
    owner.start_otp("email_address", "shown@example.com")
    owner.check_otp(server.last_message("shown@example.com")["code"])
    user = server.user(_email("shown@example.com"))
    assert user is not None
    key = server.api_key()
    answer = httpx.get(
        f"{server.url}/v2/session/apps/default/users/{user.id}",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200
    body = answer.json()["user"]
    assert body["email_verified"] is True
    assert body["phone_verified"] is False
    assert body["identifiers"] == [
        {"type": "email_address", "value": "shown@example.com", "verified": True}
    ]
