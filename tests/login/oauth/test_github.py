"""GitHub's plain OAuth 2.0 path, against a server of its shape: token, ``/user`` and
``/user/emails``. Only a primary address GitHub has verified links accounts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sessile.client import SessionClient
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer
from tests.oauth.browser import Browser, pkce_pair
from tests.oauth.sessile import oauth_server
from tests.oauth.stubs import GitHubLike, running
from tests.server import free_port


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, GitHubLike]]:
    with (
        running(GitHubLike()) as github,
        oauth_server(tmp_path_factory.mktemp("github"), free_port(), github.sessile_env()) as live,
    ):
        yield live, github


def _sign_in(server: LiveServer) -> tuple[dict[str, str], str]:
    verifier, challenge = pkce_pair()
    with Browser() as browser:
        landing = browser.go(browser.start(server.url, "github", challenge))
    return landing.params, verifier


def test_a_verified_primary_email_makes_a_proven_user(stack: tuple[LiveServer, GitHubLike]) -> None:
    server, github = stack
    params, verifier = _sign_in(server)
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier)
    user = server.user(Identifier("email_address", "octocat@example.com"))
    assert user is not None
    assert user.is_proven("email_address")
    assert user.profile == {"name": "The Octocat", "picture": "https://avatars.example.com/u/4242"}
    # The client secret went in the body, and sessile's own PKCE verifier with it.
    sent = github.token_requests[-1]
    assert sent["client_secret"] == "stub-provider-secret"
    assert sent["code_verifier"] != verifier
    # Signing in again reaches the same user.
    again, verifier2 = _sign_in(server)
    second = SessionClient(server.url)
    assert second.finalize_oauth(again["challenge_token"], verifier2)
    assert second.list_sessions()["total"] == 2


def test_an_unverified_primary_email_never_links(stack: tuple[LiveServer, GitHubLike]) -> None:
    server, github = stack
    owner = server.new_user("owner@example.com")
    github.user = {"id": 777, "login": "claimer"}
    github.emails = [
        {"email": "owner@example.com", "primary": True, "verified": False},
        {"email": "claimer@example.com", "primary": False, "verified": True},
    ]
    params, verifier = _sign_in(server)
    assert params["status"] == "otp_required"
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier) is None
    client.check_otp(server.last_message("owner@example.com")["code"])
    assert client.list_sessions()["total"] == 1
    user = server.user(Identifier("email_address", "owner@example.com"))
    assert user is not None
    assert user.id == owner


def test_no_email_makes_a_user_with_the_identity_alone(
    stack: tuple[LiveServer, GitHubLike],
) -> None:
    server, github = stack
    github.user = {"id": 9001, "login": "private"}
    github.emails = []
    params, verifier = _sign_in(server)
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier)
    again, verifier2 = _sign_in(server)
    second = SessionClient(server.url)
    assert second.finalize_oauth(again["challenge_token"], verifier2)
    import jwt

    first_sub = jwt.decode(client.tokens.access_token, options={"verify_signature": False})["sub"]  # type: ignore[union-attr]
    second_sub = jwt.decode(second.tokens.access_token, options={"verify_signature": False})["sub"]  # type: ignore[union-attr]
    assert first_sub == second_sub
