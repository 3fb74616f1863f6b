"""Ways into a social login that must stay shut, each tried against the running server
and the real provider: replayed, foreign, missing or forged ``state``; a redirect URI off
the list; a wrong or missing PKCE verifier; the provider's refusal; providers not set up."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sessile.client import SessionClient, SessionClientError
from sessile.store.user_identifiers import Identifier
from tests.live import LiveServer
from tests.login.oauth.conftest import DISABLED, NEW, RESENDER, sign_in
from tests.oauth.browser import APP_CALLBACK, Browser, pkce_pair
from tests.oauth.provider import OidcProvider

CALLBACK = "/v1/session/login/oauth/google/callback"


def _to_callback(server: LiveServer, browser: Browser, challenge: str) -> str:
    """Sign in at the provider and stop where it sends the browser back to sessile."""
    url = browser.start(server.url, "google", challenge)
    landing = browser.go(url, login=NEW.login, password=NEW.password, stop_at=server.url + CALLBACK)
    return landing.url


def _refused(answer: httpx.Response, code: str = "invalid_oauth_state") -> None:
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["code"] == code
    assert "location" not in answer.headers


def _landing(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(APP_CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_a_replayed_callback_is_refused_and_makes_no_session(server: LiveServer) -> None:
    verifier, challenge = pkce_pair()
    with Browser() as browser:
        callback = _to_callback(server, browser, challenge)
        params = _landing(browser.callback(callback))
        client = SessionClient(server.url)
        assert client.finalize_oauth(params["challenge_token"], verifier) is not None
        before = client.list_sessions()["total"]
        replayed = browser.callback(callback)
    _refused(replayed)
    assert "already used" in replayed.json()["message"]
    assert client.list_sessions()["total"] == before


def test_state_from_another_browser_is_refused(server: LiveServer) -> None:
    verifier, challenge = pkce_pair()
    with Browser() as owner, Browser() as other:
        callback = _to_callback(server, owner, challenge)
        # Login CSRF: someone else's browser (its own login under way, or none) lands on it.
        other.start(server.url, "google", pkce_pair()[1])
        _refused(other.callback(callback))
        _refused(httpx.get(server.url + callback.removeprefix(server.url)))
        # The state is not spent by the refusals: its own browser still gets in.
        params = _landing(owner.callback(callback))
    assert SessionClient(server.url).finalize_oauth(params["challenge_token"], verifier)


def test_a_missing_or_unknown_state_is_refused(server: LiveServer) -> None:
    with Browser() as browser:
        callback = _to_callback(server, browser, pkce_pair()[1])
        parts = urlsplit(callback)
        query = parse_qs(parts.query)
        code = query["code"][0]
        _refused(browser.http.get(server.url + CALLBACK, params={"code": code}))
        forged = {"code": code, "state": "x" * 43}
        _refused(browser.http.get(server.url + CALLBACK, params=forged))
        # The state of a login with another provider is no good here either.
        other = {"code": code, "state": query["state"][0]}
        _refused(
            browser.http.get(server.url + "/v1/session/login/oauth/okta/callback", params=other)
        )
        assert _landing(browser.callback(callback))["challenge_token"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/app/callback",
        APP_CALLBACK + "/../../evil",
        APP_CALLBACK + "x",
        APP_CALLBACK + "?next=https://evil.example",
        APP_CALLBACK.upper(),
        "http://127.0.0.1:9/app/",
    ],
)
def test_a_redirect_uri_not_on_the_list_is_refused(server: LiveServer, redirect_uri: str) -> None:
    with Browser() as browser:
        answer = browser.authorize(server.url, "google", pkce_pair()[1], redirect_uri)
    _refused(answer, "invalid_redirect_uri")


def test_a_wrong_or_missing_code_verifier_gets_no_session(server: LiveServer) -> None:
    verifier, challenge = pkce_pair()
    with Browser() as browser:
        url = browser.start(server.url, "google", challenge)
        params = browser.go(url, login=NEW.login, password=NEW.password).params
    thief = SessionClient(server.url)
    with pytest.raises(SessionClientError) as wrong:
        thief.finalize_oauth(params["challenge_token"], pkce_pair()[0])
    assert wrong.value.code == "invalid_challenge_token"
    assert thief.tokens is None
    # One wrong guess spends the token: even the right verifier can't use it now.
    with pytest.raises(SessionClientError) as spent:
        SessionClient(server.url).finalize_oauth(params["challenge_token"], verifier)
    assert spent.value.code == "token_reused"

    verifier, challenge = pkce_pair()
    with Browser() as browser:
        url = browser.start(server.url, "google", challenge)
        params = browser.go(url, login=NEW.login, password=NEW.password).params
    with pytest.raises(SessionClientError) as missing:
        SessionClient(server.url).finalize(params["challenge_token"])
    assert missing.value.code == "invalid_challenge_token"


def test_plain_pkce_and_malformed_challenges_are_refused(server: LiveServer) -> None:
    verifier, _challenge = pkce_pair()
    base = server.url + "/v1/session/login/oauth/google/authorize"
    plain = {
        "redirect_uri": APP_CALLBACK,
        "code_challenge": verifier,
        "code_challenge_method": "plain",
    }
    _refused(httpx.post(base, json=plain), "bad_request")
    short = {"redirect_uri": APP_CALLBACK, "code_challenge": "abc", "code_challenge_method": "S256"}
    _refused(httpx.post(base, json=short), "bad_request")
    _refused(httpx.post(base, json={"redirect_uri": APP_CALLBACK}), "bad_request")


def test_the_providers_refusal_reaches_the_app(server: LiveServer) -> None:
    with Browser() as browser:
        browser.deny = True
        url = browser.start(server.url, "google", pkce_pair()[1])
        params = browser.go(url, login=NEW.login, password=NEW.password).params
    assert params["error"] == "access_denied"
    assert params["error_description"] == "The person refused to share their profile."
    assert "challenge_token" not in params


@pytest.mark.parametrize("provider", ["okta", "github", "apple", "my-idp"])
def test_a_provider_not_configured_is_refused(server: LiveServer, provider: str) -> None:
    with Browser() as browser:
        answer = browser.authorize(server.url, provider, pkce_pair()[1])
    _refused(answer, "oauth_provider_not_configured")


def test_the_configured_providers_are_listed(server: LiveServer) -> None:
    answer = httpx.get(server.url + "/v1/session/login/oauth/providers")
    assert answer.json() == {"providers": ["google"]}


def test_a_disabled_account_is_not_reached(server: LiveServer) -> None:
    params, verifier = sign_in(server, DISABLED)
    assert SessionClient(server.url).finalize_oauth(params["challenge_token"], verifier)
    user = server.user(Identifier("email_address", "eve@example.com"))
    assert user is not None
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key()}"})
    patched = api.patch(f"/v2/session/apps/default/users/{user.id}", json={"disabled": True})
    assert patched.status_code == 200
    again, _ = sign_in(server, DISABLED)
    assert again["error"] == "access_denied"
    assert "challenge_token" not in again


def test_an_unarmed_link_challenge_sends_no_code(server: LiveServer) -> None:
    """The otp_required token, without the verifier, can't make sessile mail the owner."""
    server.new_user("target@example.com")
    params, verifier = sign_in(server, RESENDER)
    token = params["challenge_token"]
    headers = {"X-Verification-Token": token}
    retry = httpx.post(server.url + "/v1/session/login/otp/retry", headers=headers)
    assert retry.status_code == 400
    assert retry.json()["code"] == "bad_check_code"
    assert server.messages("target@example.com") == []
    client = SessionClient(server.url)
    assert client.finalize_oauth(token, verifier) is None
    assert len(server.messages("target@example.com")) == 1
    # Finalizing again with the verifier sends nothing more.
    assert SessionClient(server.url).finalize_oauth(token, verifier) is None
    assert len(server.messages("target@example.com")) == 1


@pytest.mark.parametrize("iss", [None, ""], ids=["left-out", "empty"])
def test_an_answer_without_the_iss_its_provider_sends_is_refused(
    stack: tuple[LiveServer, OidcProvider], iss: str | None
) -> None:
    # RFC 9207 §2.4: the provider's metadata says it sends ``iss`` with every answer, so an
    # answer without one (made by another provider, or stripped on the way) is refused.
    server, provider = stack
    metadata = httpx.get(provider.issuer + "/.well-known/openid-configuration", timeout=5)
    assert metadata.json()["authorization_response_iss_parameter_supported"] is True
    with Browser() as browser:
        callback = _to_callback(server, browser, pkce_pair()[1])
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
        assert query.pop("iss") == provider.issuer
        if iss is not None:
            query["iss"] = iss
        params = _landing(browser.http.get(server.url + CALLBACK, params=query))
    assert params["error"] == "invalid_request"
    assert "no issuer" in params["error_description"]
    assert "challenge_token" not in params
