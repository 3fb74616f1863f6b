"""Social login where providers are lax, against a real OpenID Connect provider and a real
server: ``SESSILE_OAUTH_VERIFY_EMAIL=false`` makes users with an unproven address, and
``lax`` is a generic issuer, untrusted unless configured otherwise.

- The owner's first code to the address takes the account back: the unverified identity
  that planted it is unlinked and its sessions end (``unproven_signup``).
- Before that, the planted account gains nothing: no second identity, no identifier and
  no password.
- An untrusted issuer's ``email_verified`` neither joins an account nor proves an address.
- Linking a provider tells the account's proven addresses, and a link code says what it
  links.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from sessile.client import SessionClient, SessionClientError
from sessile.store.database import Database
from sessile.store.session_rows import SessionRow
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer
from tests.oauth.browser import Browser, pkce_pair
from tests.oauth.provider import Account, OidcProvider, oidc_provider
from tests.oauth.sessile import oauth_server
from tests.server import free_port

PLANTER = Account(
    "planter", "planter pw", "sub-planter", {"email": "first@example.com", "email_verified": False}
)
SECOND_PLANTER = Account(
    "planter2",
    "planter2 pw",
    "sub-planter2",
    {"email": "twice@example.com", "email_verified": False},
)
SECOND_IDENTITY = Account(
    "other", "other pw", "sub-other", {"email": "twice@example.com", "email_verified": False}
)
GROWER = Account(
    "grower", "grower pw", "sub-grower", {"email": "grown@example.com", "email_verified": False}
)
AFTER_SIGNUP = Account(
    "signer", "signer pw", "sub-signer", {"email": "signed@example.com", "email_verified": False}
)
#: Says its address is verified, at an issuer nobody configured as trusted.
LIAR = Account("liar", "liar pw", "sub-liar", {"email": "held@example.com", "email_verified": True})
FRESH_LIAR = Account(
    "liar2", "liar2 pw", "sub-liar2", {"email": "untaken@example.com", "email_verified": True}
)
HOLDER = Account(
    "holder",
    "holder pw",
    "sub-holder",
    {"email": "held-token@example.com", "email_verified": False},
)
OWNER_AT_GOOGLE = Account(
    "owner", "owner pw", "sub-owner", {"email": "linked@example.com", "email_verified": True}
)
ACCOUNTS = [
    PLANTER,
    SECOND_PLANTER,
    SECOND_IDENTITY,
    GROWER,
    AFTER_SIGNUP,
    LIAR,
    FRESH_LIAR,
    HOLDER,
    OWNER_AT_GOOGLE,
]

LAX_ENV = {
    "SESSILE_OAUTH_VERIFY_EMAIL": "false",
    "SESSILE_SIGNUP_VERIFY_EMAIL": "false",
    "SESSILE_OTP_RATE_PER_IP": "10000/minute",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, OidcProvider]]:
    """``google`` and ``lax``, both the same issuer on loopback, on each database."""
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("new_postgres_database")()
    port = free_port()
    callbacks = [
        f"http://127.0.0.1:{port}/v1/session/login/oauth/{name}/callback"
        for name in ("google", "lax")
    ]
    with oidc_provider(callbacks, ACCOUNTS) as provider:
        env = {**provider.sessile_env("google"), **provider.sessile_env("lax"), **LAX_ENV}
        with oauth_server(tmp_path_factory.mktemp("lax"), port, env, database_url) as live:
            yield live, provider


@pytest.fixture
def server(stack: tuple[LiveServer, OidcProvider]) -> LiveServer:
    return stack[0]


def _sign_in(server: LiveServer, account: Account, provider: str = "google") -> tuple[Any, str]:
    verifier, challenge = pkce_pair()
    with Browser() as browser:
        url = browser.start(server.url, provider, challenge)
        landing = browser.go(url, login=account.login, password=account.password)
    return landing.params, verifier


def _session_by_provider(server: LiveServer, account: Account, provider: str = "google") -> Any:
    """A session from a sign-in that needs no code."""
    params, verifier = _sign_in(server, account, provider)
    assert "status" not in params, params
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier) is not None
    return client


def _code_login(server: LiveServer, email: str) -> SessionClient:
    owner = SessionClient(server.url)
    owner.start_otp("email_address", email)
    owner.check_otp(server.last_message(email)["code"])
    return owner


def _sub(client: SessionClient) -> str:
    assert client.tokens is not None
    sub: str = jwt.decode(client.tokens.access_token, options={"verify_signature": False})["sub"]
    return sub


def _identities(server: LiveServer, user_id: str) -> list[dict[str, Any]]:
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key()}"})
    identities: list[dict[str, Any]] = api.get(f"/v2/session/apps/default/users/{user_id}").json()[
        "user"
    ]["identities"]
    return identities


def _session_row(server: LiveServer, client: SessionClient) -> SessionRow:
    assert client.tokens is not None
    sid = jwt.decode(client.tokens.access_token, options={"verify_signature": False})["sid"]

    async def work() -> SessionRow | None:
        db = Database.from_url(server.database_url)
        try:
            return await db.sessions.get(sid)
        finally:
            await db.close()

    row = asyncio.run(work())
    assert row is not None
    return row


def _email(value: str) -> Identifier:
    return Identifier("email_address", value)


def test_the_owners_first_code_unlinks_the_unverified_identity_and_ends_its_sessions(
    server: LiveServer,
) -> None:
    attacker = _session_by_provider(server, PLANTER)
    planted = server.user(_email("first@example.com"))
    assert planted is not None
    assert not planted.is_proven("email_address")

    owner = _code_login(server, "first@example.com")
    assert _sub(owner) == planted.id, "the account stays, and is the owner's"
    proven = server.user(_email("first@example.com"))
    assert proven is not None
    assert proven.is_proven("email_address")
    assert _identities(server, planted.id) == []
    with pytest.raises(SessionClientError) as ended:
        attacker.refresh()
    assert ended.value.code == "unauthorized"
    assert _session_row(server, attacker).revoked_reason == "unproven_signup"
    assert owner.list_sessions()["total"] == 1

    # The provider account no longer reaches it: its next sign-in needs the owner's code,
    # and the code's message says what it would do.
    again, _ = _sign_in(server, PLANTER)
    assert again["status"] == "otp_required"
    assert again["challenge_token"].startswith("otp_")


def test_a_second_unverified_identity_cannot_join_the_planted_account(server: LiveServer) -> None:
    attacker = _session_by_provider(server, SECOND_PLANTER)
    params, verifier = _sign_in(server, SECOND_IDENTITY)
    assert params["status"] == "otp_required", "an existing account is joined only by a code"
    # The code goes to the address's owner, worded as a link, never as a login.
    assert SessionClient(server.url).finalize_oauth(params["challenge_token"], verifier) is None
    message = server.last_message("twice@example.com")
    assert "link a Google account to your" in message["text"]
    planted = server.user(_email("twice@example.com"))
    assert planted is not None
    assert [i["subject"] for i in _identities(server, planted.id)] == ["sub-planter2"]
    owner = _code_login(server, "twice@example.com")
    assert _identities(server, planted.id) == []
    with pytest.raises(SessionClientError):
        attacker.refresh()
    assert owner.list_sessions()["total"] == 1


def test_the_planted_account_gains_no_identifier_or_password_before_the_owners_code(
    server: LiveServer,
) -> None:
    """Else the attacker's own phone or password would outlive the owner's first code."""
    attacker = _session_by_provider(server, GROWER)
    bearer = {"Authorization": f"Bearer {attacker.tokens.access_token}"}  # type: ignore[union-attr]
    base = server.url + "/v1/session"
    for scope, metadata in [
        ("prld:phone:register", {"identifier": "+33611223344"}),
        ("prld:email:register", {"identifier": "attacker@example.com"}),
        ("prld:pwd:write", None),
    ]:
        body: dict[str, Any] = {"scope": scope, **({"metadata": metadata} if metadata else {})}
        asked = httpx.post(base + "/stepup/request", json=body, headers=bearer)
        assert (asked.status_code, asked.json().get("code")) == (403, "auth_blocked"), (
            scope,
            asked.text,
        )
    assert server.messages("+33611223344") == []

    # Once the owner proved the address, the account is theirs to change.
    owner = _code_login(server, "grown@example.com")
    mine = {"Authorization": f"Bearer {owner.tokens.access_token}"}  # type: ignore[union-attr]
    asked = httpx.post(
        base + "/stepup/request",
        json={"scope": "prld:phone:register", "metadata": {"identifier": "+33611223344"}},
        headers=mine,
    )
    assert (asked.status_code, asked.json()["status"]) == (200, "review")


def test_a_login_held_back_until_after_the_owners_code_gets_no_session(
    server: LiveServer,
) -> None:
    """The attacker signs in again, and again with the password, but finalizes only once
    the owner has proven the address: those logins ended with the methods they used."""
    attacker = _session_by_provider(server, HOLDER)
    held, verifier = _sign_in(server, HOLDER)
    assert "status" not in held
    password = SessionClient(server.url)
    assert password.sign_up("held-password@example.com", "attacker's passphrase") is not None
    held_password = httpx.post(
        server.url + "/v1/session/login/email/password",
        json={"identifier": "held-password@example.com", "password": "attacker's passphrase"},
    ).json()["challenge_token"]

    _code_login(server, "held-token@example.com")
    _code_login(server, "held-password@example.com")
    late = SessionClient(server.url)
    with pytest.raises(SessionClientError) as refused:
        late.finalize_oauth(held["challenge_token"], verifier)
    assert refused.value.code in ("invalid_challenge_token", "token_reused")
    with pytest.raises(SessionClientError) as refused_password:
        SessionClient(server.url).finalize(held_password)
    assert refused_password.value.code in ("invalid_challenge_token", "token_reused")
    for ended in (attacker, password):
        with pytest.raises(SessionClientError):
            ended.refresh()


def test_a_password_sign_up_then_a_provider_before_the_owner(server: LiveServer) -> None:
    attacker = SessionClient(server.url)
    assert attacker.sign_up("signed@example.com", "attacker's passphrase") is not None
    params, _ = _sign_in(server, AFTER_SIGNUP, "lax")
    assert params["status"] == "otp_required"
    owner = _code_login(server, "signed@example.com")
    user = server.user(_email("signed@example.com"))
    assert user is not None
    assert user.password_hash is None
    assert _identities(server, user.id) == []
    with pytest.raises(SessionClientError):
        attacker.refresh()
    assert owner.list_sessions()["total"] == 1


def test_an_untrusted_issuers_verified_address_neither_joins_nor_proves(
    server: LiveServer,
) -> None:
    holder = _code_login(server, "held@example.com")
    params, _ = _sign_in(server, LIAR, "lax")
    assert params["status"] == "otp_required", "a generic issuer's word is not a proof"
    held = server.user(_email("held@example.com"))
    assert held is not None
    assert _identities(server, held.id) == []
    assert holder.list_sessions()["total"] == 1

    # A new account from it holds the address unproven, so its owner's code still wins.
    _session_by_provider(server, FRESH_LIAR, "lax")
    fresh = server.user(_email("untaken@example.com"))
    assert fresh is not None
    assert not fresh.is_proven("email_address")


def test_linking_a_provider_tells_every_proven_address(server: LiveServer) -> None:
    owner = _code_login(server, "linked@example.com")
    before = len(server.messages("linked@example.com"))
    linked = _session_by_provider(server, OWNER_AT_GOOGLE)
    assert _sub(linked) == _sub(owner)
    notices = server.messages("linked@example.com")[before:]
    assert len(notices) == 1
    notice = notices[0]
    assert notice["code"] == ""
    assert "A Google account was linked to your" in notice["text"]
    assert server.url + "/v1/session/end-sessions?token=" in notice["text"]
