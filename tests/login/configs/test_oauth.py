"""OAuth login configs set through the management API take effect on social login: a
provider configured only there signs people in, turning it off answers
``oauth_provider_disabled``, its options (and whether its word on an address is trusted)
decide linking and e-mail proof, and its granted scopes land on the session. The provider
is an OpenID Connect issuer on loopback, configured as Okta, which is trusted only when
the config says so."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from sessile.clock import FixedClock
from tests.http.conftest import AppClient
from tests.http.session_client import InProcessClient
from tests.jwts import claims_of
from tests.login.configs.harness import APP, BASE, code_sent_to, management
from tests.oauth.browser import APP_CALLBACK, Landing, pkce_pair
from tests.oauth.stubs import CLIENT_ID, CLIENT_SECRET, ForgingIssuer, running

OWNER = "stub@example.com"


@pytest.fixture(scope="module")
def issuer() -> Iterator[ForgingIssuer]:
    with running(ForgingIssuer()) as stub:
        yield stub


@pytest.fixture
async def client(make_client: AppClient, issuer: ForgingIssuer) -> AsyncIterator[InProcessClient]:
    issuer.claims = {"sub": "stub-user", "email": OWNER, "email_verified": True}
    # Real time: the issuer's ID tokens carry the real iat and exp.
    async with make_client(FixedClock()) as (http, app):
        yield InProcessClient(http, app, app.state.context.clock)


async def _configure(
    client: InProcessClient, issuer: ForgingIssuer, method: str = "post", **members: Any
) -> httpx.Response:
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "okta": {"issuer_url": issuer.url},
        "redirect_uris": [APP_CALLBACK],
        "trust_email_verified": True,
        **members,
    }
    answer = await client.http.request(
        method.upper(),
        APP + "/config/login/oauth/okta",
        json=body,
        headers=await management(client),
    )
    assert answer.is_success, answer.text
    return answer


async def _authorize(client: InProcessClient, challenge: str, provider: str) -> httpx.Response:
    body = {"redirect_uri": APP_CALLBACK, "code_challenge": challenge,
            "code_challenge_method": "S256"}  # fmt: skip
    return await client.http.post(BASE + f"/login/oauth/{provider}/authorize", json=body)


async def _sign_in(client: InProcessClient, provider: str = "okta") -> tuple[dict[str, str], str]:
    """Authorize, the provider's answer (sent straight back), the callback: the app page's
    query and the PKCE verifier."""
    verifier, challenge = pkce_pair()
    started = await _authorize(client, challenge, provider)
    assert started.status_code == 200, started.text
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(started.json()["authorization_url"])
    back = await client.http.get(at_provider.headers["location"])
    assert back.status_code == 303, back.text
    return Landing(back.headers["location"]).params, verifier


async def _finalize(client: InProcessClient, params: dict[str, str], verifier: str) -> Any:
    body = {"challenge_token": params["challenge_token"], "code_verifier": verifier}
    return await client.dpop("/login/finalize", json=body)


async def _user(client: InProcessClient, user_id: str) -> dict[str, Any]:
    found = await client.http.get(APP + f"/users/{user_id}", headers=await management(client))
    user: dict[str, Any] = found.json()["user"]
    return user


async def test_a_provider_configured_through_the_api_signs_in_with_its_granted_scopes(
    client: InProcessClient, issuer: ForgingIssuer
) -> None:
    await _configure(client, issuer, granted_scopes=["orders:read"])
    params, verifier = await _sign_in(client)
    assert "status" not in params
    login = await _finalize(client, params, verifier)
    assert login.status_code == 200, login.text
    token = claims_of(login.json()["access_token"])
    assert token["scope"] == "session orders:read"
    user = await _user(client, token["sub"])
    assert user["identities"][0]["provider"] == "okta"
    providers = await client.http.get(BASE + "/login/oauth/providers")
    assert providers.json() == {"providers": ["okta"]}


async def test_turned_off_or_removed_the_provider_refuses_to_start(
    client: InProcessClient, issuer: ForgingIssuer
) -> None:
    await _configure(client, issuer)
    await _configure(client, issuer, method="put", enabled=False)
    refused = await _authorize(client, pkce_pair()[1], "okta")
    assert (refused.status_code, refused.json()["code"]) == (400, "oauth_provider_disabled")
    assert (await client.http.get(BASE + "/login/oauth/providers")).json()["providers"] == []
    gone = await client.http.delete(
        APP + "/config/login/oauth/okta", headers=await management(client)
    )
    assert gone.status_code == 204
    refused = await _authorize(client, pkce_pair()[1], "okta")
    assert refused.json()["code"] == "oauth_provider_not_configured"


async def test_account_merge_follows_the_option(
    client: InProcessClient, issuer: ForgingIssuer
) -> None:
    made = await client.http.post(APP + "/users", headers=await management(client), json={
        "identifiers": [{"type": "email_address", "value": OWNER, "verified": True}]})  # fmt: skip
    owner = made.json()["id"]
    await _configure(client, issuer, options={"allow_email_account_merge": False})
    params, _ = await _sign_in(client)
    assert params["status"] == "otp_required", "a code must prove the address first"
    # Okta is not trusted unless the config says so: its word proves nothing.
    untrusted = await _configure(
        client,
        issuer,
        options={"allow_email_account_merge": True},
        trust_email_verified=None,
    )
    assert untrusted.json()["config"]["trust_email_verified"] is False
    params, _ = await _sign_in(client)
    assert params["status"] == "otp_required", "an untrusted provider's word is no proof"
    trusted = await _configure(client, issuer, options={"allow_email_account_merge": True})
    assert trusted.json()["config"]["trust_email_verified"] is True
    params, verifier = await _sign_in(client)
    assert "status" not in params
    login = await _finalize(client, params, verifier)
    assert claims_of(login.json()["access_token"])["sub"] == owner


async def test_without_email_as_identifier_the_user_has_none(
    client: InProcessClient, issuer: ForgingIssuer
) -> None:
    await _configure(client, issuer, options={"use_email_as_identifier": False})
    params, verifier = await _sign_in(client)
    login = await _finalize(client, params, verifier)
    user = await _user(client, claims_of(login.json()["access_token"])["sub"])
    assert user["identifiers"] == []


async def test_verify_email_decides_whether_an_unverified_address_is_proven_first(
    client: InProcessClient, issuer: ForgingIssuer
) -> None:
    issuer.claims = {"sub": "sub-nell", "email": "nell@example.com", "email_verified": False}
    await _configure(client, issuer, options={"verify_email": True}, granted_scopes=["a:b"])
    params, verifier = await _sign_in(client)
    assert params["status"] == "otp_required"
    # Proven by its code, the address's login gets the provider's grant too.
    pending = await _finalize(client, params, verifier)
    assert pending.json() == {"status": "otp_required"}
    code = await code_sent_to(client, "nell@example.com")
    checked = await client.dpop(
        "/login/otp/check",
        json={"code": code},
        headers={"X-Verification-Token": params["challenge_token"]},
    )
    assert claims_of(checked.json()["access_token"])["scope"] == "session a:b"
    issuer.claims = {"sub": "sub-olga", "email": "olga@example.com", "email_verified": False}
    await _configure(client, issuer, options={"verify_email": False})
    params, verifier = await _sign_in(client)
    assert "status" not in params
    login = await _finalize(client, params, verifier)
    user = await _user(client, claims_of(login.json()["access_token"])["sub"])
    assert user["identifiers"] == [
        {"type": "email_address", "value": "olga@example.com", "verified": False}
    ]


async def test_a_config_replaces_the_settings_client(
    make_client: AppClient, issuer: ForgingIssuer
) -> None:
    settings = {"google": {"client_id": "a-stale-client", "issuer": issuer.url}}
    async with make_client(FixedClock(), oauth=settings, oauth_redirect_uris=APP_CALLBACK) as (
        http,
        app,
    ):
        client = InProcessClient(http, app, app.state.context.clock)
        params, _ = await _sign_in(client, "google")
        assert params["error"] == "access_denied", "the provider knows no such client"
        body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        saved = await http.put(
            APP + "/config/login/oauth/google", json=body, headers=await management(client)
        )
        assert saved.status_code == 200, saved.text
        params, verifier = await _sign_in(client, "google")
        assert (await _finalize(client, params, verifier)).status_code == 200
