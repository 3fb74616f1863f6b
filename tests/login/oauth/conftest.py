"""One real OpenID Connect provider and one sessile pointed at it, shared by a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import LiveServer
from tests.oauth.browser import Browser, pkce_pair
from tests.oauth.provider import Account, OidcProvider, oidc_provider
from tests.oauth.sessile import oauth_server
from tests.server import free_port

NEW = Account(
    "ada",
    "ada's password",
    "sub-ada",
    {
        "email": "ada@example.com",
        "email_verified": True,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "picture": "https://pictures.example.com/ada.png",
    },
)
LINKS = Account(
    "grace", "grace's password", "sub-grace", {"email": "grace@example.com", "email_verified": True}
)
UNVERIFIED = Account(
    "mallory",
    "mallory's password",
    "sub-mallory",
    {"email": "victim@example.com", "email_verified": False},
)
FRESH_UNVERIFIED = Account(
    "nell", "nell's password", "sub-nell", {"email": "nell@example.com", "email_verified": False}
)
DISABLED = Account(
    "eve", "eve's password", "sub-eve", {"email": "eve@example.com", "email_verified": True}
)
RESENDER = Account(
    "trudy",
    "trudy's password",
    "sub-trudy",
    {"email": "target@example.com", "email_verified": False},
)
#: Proves its address through ``/otp`` and ``/otp/check``, as Prelude's newer clients do.
LINKED_BY_CODE = Account(
    "oscar",
    "oscar's password",
    "sub-oscar",
    {"email": "oscar@example.com", "email_verified": False},
)
ACCOUNTS = [NEW, LINKS, UNVERIFIED, FRESH_UNVERIFIED, DISABLED, RESENDER, LINKED_BY_CODE]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, OidcProvider]]:
    """On SQLite, then on PostgreSQL."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("new_postgres_database")()
    port = free_port()
    callback = f"http://127.0.0.1:{port}/v1/session/login/oauth/google/callback"
    with (
        oidc_provider([callback], ACCOUNTS) as provider,
        oauth_server(
            tmp_path_factory.mktemp("oauth"), port, provider.sessile_env("google"), database_url
        ) as live,
    ):
        yield live, provider


@pytest.fixture
def server(stack: tuple[LiveServer, OidcProvider]) -> LiveServer:
    return stack[0]


def sign_in(server: LiveServer, account: Account) -> tuple[dict[str, str], str]:
    """Through the provider's pages and back: the app page's query, and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    with Browser() as browser:
        url = browser.start(server.url, "google", challenge)
        landing = browser.go(url, login=account.login, password=account.password)
    return landing.params, verifier
