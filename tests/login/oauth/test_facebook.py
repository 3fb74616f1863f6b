"""Facebook's plain OAuth 2.0 path, against a server of its shape: token, then the Graph
API's ``/me?fields=id,name,email`` with ``appsecret_proof``. Facebook never vouches for the
address, so a code proves it before it makes or joins an account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sessile.client import SessionClient
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer
from tests.oauth.browser import Browser, pkce_pair
from tests.oauth.sessile import oauth_server
from tests.oauth.stubs import FacebookLike, running
from tests.server import free_port


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, FacebookLike]]:
    with (
        running(FacebookLike()) as facebook,
        oauth_server(
            tmp_path_factory.mktemp("facebook"), free_port(), facebook.sessile_env()
        ) as live,
    ):
        yield live, facebook


def _sign_in(server: LiveServer) -> tuple[dict[str, str], str]:
    verifier, challenge = pkce_pair()
    with Browser() as browser:
        landing = browser.go(browser.start(server.url, "facebook", challenge))
    return landing.params, verifier


def test_the_address_is_proven_by_a_code_then_the_identity_reaches_its_user(
    stack: tuple[LiveServer, FacebookLike],
) -> None:
    server, facebook = stack
    params, verifier = _sign_in(server)
    assert params["status"] == "otp_required"
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier) is None
    client.check_otp(server.last_message("mark@example.com")["code"])
    user = server.user(Identifier("email_address", "mark@example.com"))
    assert user is not None
    assert user.is_proven("email_address")
    assert user.profile == {"name": "Mark Page"}
    # The secret went in the token request's body with sessile's own PKCE verifier; /me was
    # asked for exactly id, name and email, with the proof of the app secret.
    sent = facebook.token_requests[-1]
    assert sent["client_secret"] == "stub-provider-secret"
    assert sent["code_verifier"] != verifier
    assert facebook.me_requests[-1]["fields"] == "id,name,email"
    # The identity is linked now: the next sign-in goes straight to a session.
    again, verifier2 = _sign_in(server)
    assert "status" not in again
    second = SessionClient(server.url)
    assert second.finalize_oauth(again["challenge_token"], verifier2)
    assert second.list_sessions()["total"] == 2


def test_an_existing_account_is_never_joined_without_a_code(
    stack: tuple[LiveServer, FacebookLike],
) -> None:
    server, facebook = stack
    owner = server.new_user("owner@example.com")
    facebook.me = {"id": "10158000000000002", "name": "Claimer", "email": "owner@example.com"}
    params, _ = _sign_in(server)
    assert params["status"] == "otp_required"
    user = server.user(Identifier("email_address", "owner@example.com"))
    assert user is not None
    assert user.id == owner
    assert user.profile == {}


def test_a_failing_graph_api_sends_the_browser_back_with_an_error(
    stack: tuple[LiveServer, FacebookLike],
) -> None:
    server, facebook = stack
    facebook.me = {"name": "No id at all"}
    params, _ = _sign_in(server)
    assert params["error"] == "server_error"
    assert "challenge_token" not in params
