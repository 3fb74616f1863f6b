"""ID tokens that must be refused (OpenID Connect Core §3.1.3.7), each from an issuer that
signs one thing wrong: wrong ``aud``, ``iss`` or ``nonce``, expired, a foreign signature,
or ``alg: none``. The app's page gets the error; no challenge token, no user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sessile.client import SessionClient
from sessile.store.users import Identifier
from tests.live import LiveServer
from tests.oauth.browser import Browser, pkce_pair
from tests.oauth.sessile import oauth_server
from tests.oauth.stubs import CLIENT_ID, CLIENT_SECRET, ForgingIssuer, running
from tests.server import free_port


def _point(name: str, issuer: ForgingIssuer, **extra: str) -> dict[str, str]:
    prefix = f"SESSILE_OAUTH_{name.upper()}_"
    env = {
        prefix + "CLIENT_ID": CLIENT_ID,
        prefix + "CLIENT_SECRET": CLIENT_SECRET,
        prefix + "ISSUER": issuer.url,
    }
    env.update({prefix + key.upper(): value for key, value in extra.items()})
    return env


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, ForgingIssuer]]:
    with running(ForgingIssuer()) as issuer:
        env = {
            **_point("google", issuer),
            **_point("microsoft", issuer),
            **_point("okta", issuer, enabled="false"),
        }
        with oauth_server(tmp_path_factory.mktemp("forged"), free_port(), env) as live:
            yield live, issuer


def _sign_in(server: LiveServer, provider: str = "google") -> tuple[dict[str, str], str]:
    verifier, challenge = pkce_pair()
    with Browser() as browser:
        landing = browser.go(browser.start(server.url, provider, challenge))
    return landing.params, verifier


@pytest.mark.parametrize(
    ("defect", "reason"),
    [
        ("aud", "'aud'"),
        ("iss", "'iss'"),
        ("nonce", "'nonce'"),
        ("expired", "expired"),
        ("signature", "signature"),
        ("alg_none", "none"),
    ],
)
def test_a_bad_id_token_is_refused(
    stack: tuple[LiveServer, ForgingIssuer], defect: str, reason: str
) -> None:
    server, issuer = stack
    issuer.claims = {
        "sub": f"forged-{defect}",
        "email": f"{defect}@example.com",
        "email_verified": True,
    }
    issuer.defect = defect
    try:
        params, _ = _sign_in(server)
    finally:
        issuer.defect = None
    assert params["error"] == "invalid_id_token", params
    assert reason in params["error_description"].lower()
    assert "challenge_token" not in params
    assert server.user(Identifier("email_address", f"{defect}@example.com")) is None


def test_a_sound_id_token_from_the_same_issuer_is_taken(
    stack: tuple[LiveServer, ForgingIssuer],
) -> None:
    server, issuer = stack
    issuer.claims = {"sub": "sound", "email": "sound@example.com", "email_verified": True}
    params, verifier = _sign_in(server)
    assert SessionClient(server.url).finalize_oauth(params["challenge_token"], verifier)
    # sessile's own PKCE pair went to the provider: its verifier, not the app's.
    sent = issuer.token_requests[-1]
    assert sent["code_verifier"] != verifier
    assert len(sent["code_verifier"]) >= 43


def test_microsoft_email_counts_as_verified_only_with_xms_edov(
    stack: tuple[LiveServer, ForgingIssuer],
) -> None:
    server, issuer = stack
    owner = server.new_user("tenant@example.com")
    issuer.claims = {"sub": "ms-1", "email": "tenant@example.com", "email_verified": True}
    params, _ = _sign_in(server, "microsoft")
    assert params["status"] == "otp_required", "a tenant admin types any address it likes"
    issuer.claims = {"sub": "ms-2", "email": "tenant@example.com", "xms_edov": True}
    params, verifier = _sign_in(server, "microsoft")
    assert "status" not in params
    client = SessionClient(server.url)
    assert client.finalize_oauth(params["challenge_token"], verifier)
    user = server.user(Identifier("email_address", "tenant@example.com"))
    assert user is not None
    assert user.id == owner


def test_a_disabled_provider_is_refused(stack: tuple[LiveServer, ForgingIssuer]) -> None:
    server, _ = stack
    with Browser() as browser:
        answer = browser.authorize(server.url, "okta", pkce_pair()[1])
    assert answer.status_code == 400
    assert answer.json()["code"] == "oauth_provider_disabled"
