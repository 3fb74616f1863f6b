"""ID tokens that must be refused (OpenID Connect Core §3.1.3.7), each from an issuer that
signs one thing wrong: wrong ``aud``, ``iss`` or ``nonce``, expired, a foreign signature,
or ``alg: none``. The app's page gets the error; no challenge token, no user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from joserfc.jwk import ECKey

from sessile.client import SessionClient
from sessile.store.user_identifiers import Identifier
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


APPLE = ForgingIssuer()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, ForgingIssuer]]:
    APPLE.apple_key = ECKey.generate_key("P-256")
    apple = {
        "SESSILE_OAUTH_APPLE_CLIENT_ID": CLIENT_ID,
        "SESSILE_OAUTH_APPLE_ISSUER": APPLE.url,
        "SESSILE_OAUTH_APPLE_TEAM_ID": APPLE.apple_team,
        "SESSILE_OAUTH_APPLE_KEY_ID": "KEY1234567",
        "SESSILE_OAUTH_APPLE_PRIVATE_KEY": APPLE.apple_key.as_pem(private=True).decode(),
    }
    with running(ForgingIssuer()) as issuer, running(APPLE):
        env = {
            **_point("google", issuer),
            **_point("microsoft", issuer),
            **_point("okta", issuer, enabled="false"),
            **apple,
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


def test_an_authorization_response_from_another_issuer_is_refused(
    stack: tuple[LiveServer, ForgingIssuer],
) -> None:
    server, issuer = stack
    issuer.claims = {"sub": "mixup", "email": "mixup@example.com", "email_verified": True}
    issuer.authorize_iss = "https://impostor.example"
    exchanged = len(issuer.token_requests)
    try:
        params, _ = _sign_in(server)
    finally:
        issuer.authorize_iss = None
    assert params["error"] == "invalid_request"
    assert "another issuer" in params["error_description"]
    assert len(issuer.token_requests) == exchanged, "the code never went to a token endpoint"
    assert server.user(Identifier("email_address", "mixup@example.com")) is None
    issuer.authorize_iss = issuer.url
    try:
        params, verifier = _sign_in(server)
    finally:
        issuer.authorize_iss = None
    assert SessionClient(server.url).finalize_oauth(params["challenge_token"], verifier)


def test_apple_form_post_with_its_client_secret_jwt_and_the_name_sent_once(
    stack: tuple[LiveServer, ForgingIssuer],
) -> None:
    server, _ = stack
    APPLE.claims = {"sub": "apple-1", "email": "tim@example.com", "email_verified": "true"}
    APPLE.form_post_user = {"name": {"firstName": "Tim", "lastName": "Apple"}}
    params, verifier = _sign_in(server, "apple")
    assert "error" not in params, params
    assert SessionClient(server.url).finalize_oauth(params["challenge_token"], verifier)
    user = server.user(Identifier("email_address", "tim@example.com"))
    assert user is not None
    assert user.is_proven("email_address"), "Apple's email_verified is the string 'true'"
    assert user.profile == {"name": "Tim Apple", "first_name": "Tim", "last_name": "Apple"}
    # The token request carried a client-secret JWT that the stub checked against the key.
    assert APPLE.token_requests[-1]["client_secret"].count(".") == 2
