"""The standalone code login of Prelude's newer API (PRELUDE-API §2.20, §2.21, §2.9): ``/otp``
with an identifier and a PKCE ``code_challenge``, ``/otp/check`` with the code answering a
``session-start`` challenge token, and ``/login/finalize`` with the verifier."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from sessile.client import SessionClient, SessionClientError
from sessile.store.user_identifiers import Identifier
from tests.dpop.proofs import malleated
from tests.live import LiveServer, live_server
from tests.oauth.browser import pkce_pair
from tests.stepup.flow import claims_of


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"SESSILE_OTP_RATE_PER_IP": "10000/minute"}
    with live_server(tmp_path_factory.mktemp("code-login"), env=env) as live:
        yield live


def _email() -> str:
    return f"code-{secrets.token_hex(4)}@example.com"


def _start(server: LiveServer, email: str, code_challenge: str | None) -> str:
    body: dict[str, Any] = {"identifier": {"type": "email_address", "value": email}}
    if code_challenge is not None:
        body["code_challenge"] = code_challenge
    started = httpx.post(server.url + "/v1/session/otp", json=body)
    assert started.status_code == 204, started.text
    assert started.content == b""
    verification: str = started.headers["X-Verification-Token"]
    return verification


def _check(server: LiveServer, verification: str, code: str) -> httpx.Response:
    return httpx.post(
        server.url + "/v1/session/otp/check",
        json={"code": code},
        headers={"X-Verification-Token": verification},
    )


def test_a_code_then_finalize_with_the_verifier(server: LiveServer) -> None:
    email = _email()
    verifier, challenge = pkce_pair()
    verification = _start(server, email, challenge)
    checked = _check(server, verification, server.last_message(email)["code"])
    assert checked.status_code == 200, checked.text
    assert set(checked.json()) == {"challenge_token"}
    token = checked.json()["challenge_token"]
    claims = claims_of(token)
    assert claims["grant_mode"] == "session-start"
    assert claims["pkce_challenge"] == challenge
    assert claims["sub"] == server.user_by_email(email).id

    client = SessionClient(server.url)
    tokens = client.finalize_oauth(token, verifier)
    assert tokens is not None
    assert claims_of(tokens.access_token)["sub"] == claims["sub"]
    assert server.user_by_email(email).is_proven("email_address")
    # Single use.
    with pytest.raises(SessionClientError) as again:
        SessionClient(server.url).finalize_oauth(token, verifier)
    assert again.value.code == "token_reused"


def test_a_session_start_tokens_twin_is_spent_with_it(server: LiveServer) -> None:
    """Its ECDSA twin ``(r, n - s)`` verifies too: a login is spent by the challenge it
    names, not by the token's bytes, so the twin opens no second session."""
    email = _email()
    verification = _start(server, email, None)
    token = _check(server, verification, server.last_message(email)["code"]).json()[
        "challenge_token"
    ]
    assert SessionClient(server.url).finalize(token).access_token
    with pytest.raises(SessionClientError) as again:
        SessionClient(server.url).finalize(malleated(token))
    assert again.value.code == "token_reused"


def test_a_bound_login_needs_its_verifier(server: LiveServer) -> None:
    email = _email()
    verifier, challenge = pkce_pair()
    verification = _start(server, email, challenge)
    token = _check(server, verification, server.last_message(email)["code"]).json()[
        "challenge_token"
    ]
    with pytest.raises(SessionClientError) as missing:
        SessionClient(server.url).finalize(token)
    assert missing.value.code == "invalid_challenge_token"
    # A wrong guess spent it: even the right verifier comes too late, the owner starts again.
    with pytest.raises(SessionClientError) as spent:
        SessionClient(server.url).finalize_oauth(token, verifier)
    assert spent.value.code == "token_reused"


def test_a_bound_login_cannot_take_the_older_route(server: LiveServer) -> None:
    """``/login/otp/check`` makes a session at once: a login bound to a code challenge is
    refused there, unspent, so its verifier can't be skipped."""
    email = _email()
    verifier, challenge = pkce_pair()
    verification = _start(server, email, challenge)
    code = server.last_message(email)["code"]
    shortcut = SessionClient(server.url)
    shortcut._protocol.verification_token = verification
    with pytest.raises(SessionClientError) as refused:
        shortcut.check_otp(code)
    assert refused.value.code == "invalid_challenge_token"
    assert shortcut.tokens is None
    token = _check(server, verification, code).json()["challenge_token"]
    assert SessionClient(server.url).finalize_oauth(token, verifier) is not None


def test_without_a_code_challenge_any_key_finalizes(server: LiveServer) -> None:
    email = _email()
    verification = _start(server, email, None)
    token = _check(server, verification, server.last_message(email)["code"]).json()[
        "challenge_token"
    ]
    assert "pkce_challenge" not in claims_of(token)
    assert SessionClient(server.url).finalize(token).access_token


def test_a_wrong_code_and_a_forged_token(server: LiveServer) -> None:
    email = _email()
    verification = _start(server, email, None)
    code = server.last_message(email)["code"]
    wrong = _check(server, verification, "000000" if code != "000000" else "111111")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "bad_check_code")
    token = _check(server, verification, code).json()["challenge_token"]
    # The same claims signed by a key that isn't sessile's open nothing.
    forged = jwt.encode(
        {"alg": "ES256", "typ": "login+jwt", "kid": "forged"},
        claims_of(token),
        ECKey.generate_key("P-256", private=True),
        algorithms=["ES256"],
    )
    with pytest.raises(SessionClientError) as caught:
        SessionClient(server.url).finalize(forged)
    assert caught.value.code == "invalid_challenge_token"
    assert SessionClient(server.url).finalize(token).access_token


def test_an_unknown_address_is_answered_alike_with_sign_up_off(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = {"SESSILE_OTP_SIGNUP": "false"}
    with live_server(tmp_path_factory.mktemp("code-login-closed"), env=env) as closed:
        email = _email()
        verification = _start(closed, email, None)
        assert closed.messages(email) == []
        guessed = _check(closed, verification, "123456")
        assert guessed.json()["code"] == "bad_check_code"
        assert closed.user(Identifier("email_address", email)) is None
