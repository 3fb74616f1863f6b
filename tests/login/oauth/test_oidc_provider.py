"""Social login against a real OpenID Connect provider (panva's oidc-provider on loopback),
through sessile's real HTTP routes: sign-in, the same user again, linking by a verified
e-mail address, and an unverified one that must be proven by a code first."""

from __future__ import annotations

import httpx
import jwt
import pytest

from sessile.client import SessionClient, SessionClientError
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer
from tests.login.oauth.conftest import (
    FRESH_UNVERIFIED,
    LINKED_BY_CODE,
    LINKS,
    NEW,
    UNVERIFIED,
    sign_in,
)
from tests.oauth.browser import pkce_pair
from tests.stepup.flow import claims_of


def _email(value: str) -> Identifier:
    return Identifier("email_address", value)


def test_a_new_user_signs_in_and_a_second_sign_in_reaches_the_same_user(server: LiveServer) -> None:
    params, verifier = sign_in(server, NEW)
    assert "status" not in params
    assert params["challenge_token"].startswith("chl_")
    client = SessionClient(server.url)
    tokens = client.finalize_oauth(params["challenge_token"], verifier)
    assert tokens is not None
    user = server.user(_email("ada@example.com"))
    assert user is not None
    assert user.is_proven("email_address"), "the provider vouched for the address"
    assert user.profile == {
        "name": "Ada Lovelace",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "picture": "https://pictures.example.com/ada.png",
    }
    sessions = client.list_sessions()
    assert sessions["total"] == 1
    client.refresh()

    again, verifier2 = sign_in(server, NEW)
    second = SessionClient(server.url)
    assert second.finalize_oauth(again["challenge_token"], verifier2) is not None
    claims = _claims(second)
    assert claims["sub"] == user.id
    assert second.list_sessions()["total"] == 2

    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key()}"})
    shown = api.get(f"/v2/session/apps/default/users/{user.id}").json()["user"]
    assert shown["identities"] == [
        {
            "provider": "google",
            "subject": "sub-ada",
            "email": "ada@example.com",
            "email_verified": True,
            "created_at": shown["identities"][0]["created_at"],
            "last_login_at": shown["identities"][0]["last_login_at"],
        }
    ]


def _claims(client: SessionClient) -> dict[str, object]:
    assert client.tokens is not None
    return dict(jwt.decode(client.tokens.access_token, options={"verify_signature": False}))


def test_a_verified_email_links_to_the_existing_account(server: LiveServer) -> None:
    existing = server.new_user("grace@example.com")
    params, verifier = sign_in(server, LINKS)
    assert "status" not in params
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier) is not None
    assert _claims(client)["sub"] == existing
    user = server.user(_email("grace@example.com"))
    assert user is not None
    assert user.id == existing
    assert user.is_proven("email_address"), "a provider-verified address is a proof"


def test_an_unverified_email_needs_a_code_before_it_links(server: LiveServer) -> None:
    victim = server.new_user("victim@example.com")
    before = len(server.messages("victim@example.com"))
    params, verifier = sign_in(server, UNVERIFIED)
    assert params["status"] == "otp_required"
    token = params["challenge_token"]
    assert token.startswith("otp_")
    assert len(server.messages("victim@example.com")) == before, "no code before the verifier"

    # Without the verifier the token is worthless: no code is sent, no session made.
    thief = SessionClient(server.url)
    with pytest.raises(SessionClientError) as caught:
        thief.finalize_oauth(token, pkce_pair()[0])
    assert caught.value.code == "invalid_challenge_token"
    assert len(server.messages("victim@example.com")) == before
    thief._protocol.verification_token = token
    with pytest.raises(SessionClientError) as guessed:
        thief.check_otp("000000")
    assert guessed.value.code == "bad_check_code"

    client = SessionClient(server.url)
    assert client.finalize_oauth(token, verifier) is None, "no session before the code"
    assert client.verification_token == token
    user = server.user(_email("victim@example.com"))
    assert user is not None
    assert not user.is_proven("email_address")
    # The owner of the address gets the code; here the test reads it from the outbox.
    code = server.last_message("victim@example.com")["code"]
    client.check_otp(code)
    assert _claims(client)["sub"] == victim
    user = server.user(_email("victim@example.com"))
    assert user is not None
    assert user.is_proven("email_address")
    # The identity is linked now: the next sign-in needs no code.
    again, verifier2 = sign_in(server, UNVERIFIED)
    assert "status" not in again
    second = SessionClient(server.url)
    assert second.finalize_oauth(again["challenge_token"], verifier2) is not None
    assert _claims(second)["sub"] == victim


def test_an_unverified_email_without_an_account_is_proven_before_the_user_exists(
    server: LiveServer,
) -> None:
    params, verifier = sign_in(server, FRESH_UNVERIFIED)
    assert params["status"] == "otp_required"
    assert server.user(_email("nell@example.com")) is None
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier) is None
    client.check_otp(server.last_message("nell@example.com")["code"])
    user = server.user(_email("nell@example.com"))
    assert user is not None
    assert user.is_proven("email_address")
    assert _claims(client)["sub"] == user.id


def test_an_unverified_email_proven_through_otp_then_finalized(server: LiveServer) -> None:
    """Prelude's newer clients (PRELUDE-API §2.7): after ``status=otp_required`` they send
    the code with ``/otp`` and the callback's token, check it at ``/otp/check``, and
    finalize the ``session-start`` token it answers with the original verifier."""
    owner = server.new_user("oscar@example.com")
    params, verifier = sign_in(server, LINKED_BY_CODE)
    assert params["status"] == "otp_required"
    sent = httpx.post(
        server.url + "/v1/session/otp", json={"challenge_token": params["challenge_token"]}
    )
    assert sent.status_code == 204, sent.text
    verification = sent.headers["X-Verification-Token"]
    checked = httpx.post(
        server.url + "/v1/session/otp/check",
        json={"code": server.last_message("oscar@example.com")["code"]},
        headers={"X-Verification-Token": verification},
    )
    assert checked.status_code == 200, checked.text
    token = checked.json()["challenge_token"]
    claims = claims_of(token)
    assert claims["grant_mode"] == "session-start"
    assert claims["sub"] == owner
    assert "pkce_challenge" in claims
    # The original verifier is still needed: another one spends the token.
    with pytest.raises(SessionClientError) as caught:
        SessionClient(server.url).finalize_oauth(token, pkce_pair()[0])
    assert caught.value.code == "invalid_challenge_token"

    again, verifier2 = sign_in(server, LINKED_BY_CODE)
    assert "status" not in again, "the identity was linked by the proven code"
    client = SessionClient(server.url)
    assert client.finalize_oauth(again["challenge_token"], verifier2) is not None
    assert _claims(client)["sub"] == owner
    assert verifier
