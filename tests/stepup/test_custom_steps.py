"""Custom steps (PRELUDE-API §6.2): the app's own step, proven by a verification token its
backend signs with a key of the JWKS at the configured ``jwks_url``, through
``/stepup/continue``. The configuration is set through ``…/config/stepup``, as a backend
written from Prelude's docs does; then every way a token can be wrong is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.live import LiveServer, live_server
from tests.stepup.app_backend import AppBackend, app_backend
from tests.stepup.conftest import MANY
from tests.stepup.flow import StepUpClient, claims_of, log_in

SCOPE = "kyc:write"


@pytest.fixture(scope="module")
def backend() -> Iterator[AppBackend]:
    with app_backend() as running:
        yield running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend: AppBackend) -> Iterator[LiveServer]:
    env = {"SESSILE_EVENT_ALLOW_PRIVATE_URLS": "true", **MANY}
    with live_server(tmp_path_factory.mktemp("stepup-custom"), env=env) as live:
        backend.sessile_url = live.url
        configured = httpx.post(
            f"{live.url}/v2/session/apps/default/config/stepup",
            headers={"Authorization": f"Bearer {live.api_key()}"},
            json={
                "jwks_url": backend.jwks_url,
                "step_keys": [{"key": "kyc_review", "description": "A KYC review"}],
                "allowed_scopes": [
                    {
                        "scope": SCOPE,
                        "mode": "direct",
                        "direct": {
                            "identifier_types": [],
                            "granted_for": 600,
                            "steps": [
                                {"order": 1, "key": "kyc_review", "expiration_duration": 0},
                                {"order": 2, "key": "verify_email", "expiration_duration": 0},
                            ],
                        },
                    }
                ],
            },
        )
        assert configured.status_code == 201, configured.text
        yield live


def _challenge(client: StepUpClient) -> tuple[str, dict[str, Any]]:
    asked = client.request(SCOPE)
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "review"
    token: str = asked.json()["challenge_token"]
    return token, claims_of(token)


def _code(response: httpx.Response) -> str:
    code: str = response.json()["code"]
    return code


def test_a_custom_step_then_a_code_step_grant_the_scope(
    server: LiveServer, backend: AppBackend
) -> None:
    client = log_in(server)
    challenge, claims = _challenge(client)
    assert claims["current_step"] == "kyc_review"
    verification = backend.verification_token(
        sub=claims["sub"], challenge_id=claims["challenge_id"], key="kyc_review"
    )
    moved = client.proceed(challenge, verification)
    assert moved.status_code == 200, moved.text
    assert set(moved.json()) == {"challenge_token"}
    after = claims_of(moved.json()["challenge_token"])
    assert after["current_step"] == "verify_email"
    assert [s["done"] for s in after["steps"]] == [True, False]
    completed = client.code_step(moved.json()["challenge_token"])
    granted = claims_of(client.session.refresh(completed).access_token)
    assert granted["scope"].split() == ["session", SCOPE]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (
            {"signing_key": RSAKey.generate_key(2048, private=True)},
            400,
            "invalid_verification_token",
        ),
        ({"kid": "not-in-the-jwks"}, 400, "invalid_verification_token"),
        (
            {"signing_key": ECKey.generate_key("P-256", private=True), "alg": "ES256"},
            400,
            "invalid_verification_token",
        ),
        (
            {"signing_key": OctKey.generate_key(256), "alg": "HS256"},
            400,
            "invalid_verification_token",
        ),
        ({"lifetime": -120}, 400, "invalid_verification_token"),
        ({"sub": "usr_someone_else"}, 403, "token_mismatch"),
        ({"challenge_id": "stp_another_one"}, 403, "token_mismatch"),
        ({"key": "verify_email"}, 409, "step_bypassed"),
        ({"key": "no_such_step"}, 404, "step_not_found"),
        ({"status": "pending"}, 409, "step_not_completed"),
    ],
)
def test_a_wrong_verification_token_is_refused(
    server: LiveServer, backend: AppBackend, change: dict[str, Any], status: int, code: str
) -> None:
    client = log_in(server)
    challenge, claims = _challenge(client)
    fields: dict[str, Any] = {
        "sub": claims["sub"],
        "challenge_id": claims["challenge_id"],
        "key": "kyc_review",
        **change,
    }
    refused = client.proceed(challenge, backend.verification_token(**fields))
    assert (refused.status_code, _code(refused)) == (status, code), refused.text
    # The challenge did not move: the right token still goes through.
    right = backend.verification_token(
        sub=claims["sub"], challenge_id=claims["challenge_id"], key="kyc_review"
    )
    assert client.proceed(challenge, right).status_code == 200


def test_a_verification_token_works_once(server: LiveServer, backend: AppBackend) -> None:
    client = log_in(server)
    first, claims = _challenge(client)
    token = backend.verification_token(
        sub=claims["sub"], challenge_id=claims["challenge_id"], key="kyc_review", jti="only-once"
    )
    assert client.proceed(first, token).status_code == 200
    # The same jti on another challenge of the same user: refused as used.
    second, other = _challenge(client)
    again = backend.verification_token(
        sub=other["sub"], challenge_id=other["challenge_id"], key="kyc_review", jti="only-once"
    )
    refused = client.proceed(second, again)
    assert (refused.status_code, _code(refused)) == (409, "token_reused")


def test_another_users_token_cannot_move_my_challenge(
    server: LiveServer, backend: AppBackend
) -> None:
    mine = log_in(server)
    thief = log_in(server)
    challenge, claims = _challenge(mine)
    token = backend.verification_token(
        sub=claims["sub"], challenge_id=claims["challenge_id"], key="kyc_review"
    )
    # The thief's Bearer token and key with my challenge and a right token.
    thief.verification = None
    taken = thief.proceed(challenge, token)
    assert (taken.status_code, _code(taken)) == (403, "token_mismatch")
    # My Bearer token with the thief's key.
    stolen = mine.proceed(challenge, token, key=thief.key)
    assert (stolen.status_code, _code(stolen)) == (403, "token_mismatch")
    assert mine.proceed(challenge, token).status_code == 200


def _one_custom_step(live: LiveServer, jwks_url: str | None) -> None:
    """Configure ``SCOPE`` with the app's one step, ``kyc_review``, and this ``jwks_url``."""
    body: dict[str, Any] = {
        "step_keys": [{"key": "kyc_review", "description": ""}],
        "allowed_scopes": [
            {
                "scope": SCOPE,
                "mode": "direct",
                "direct": {"granted_for": 60, "steps": [{"order": 1, "key": "kyc_review"}]},
            }
        ],
    }
    if jwks_url is not None:
        body["jwks_url"] = jwks_url
    configured = httpx.put(
        f"{live.url}/v2/session/apps/default/config/stepup",
        headers={"Authorization": f"Bearer {live.api_key()}"},
        json=body,
    )
    assert configured.status_code == 200, configured.text


def _refused(live: LiveServer, backend: AppBackend) -> None:
    """A right token for the step is refused as unverifiable."""
    client = log_in(live)
    challenge, claims = _challenge(client)
    token = backend.verification_token(
        sub=claims["sub"], challenge_id=claims["challenge_id"], key="kyc_review"
    )
    refused = client.proceed(challenge, token)
    assert (refused.status_code, _code(refused)) == (400, "invalid_verification_token")


def test_a_verification_token_needs_a_jwks_url(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Without ``jwks_url`` no custom step can be proven, whatever the token."""
    with (
        app_backend() as backend,
        live_server(tmp_path_factory.mktemp("no-jwks"), env=MANY) as live,
    ):
        _one_custom_step(live, None)
        _refused(live, backend)


def test_a_jwks_url_on_a_private_address_is_never_fetched(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The ``jwks_url`` is the key holder's choice: a loopback one is not fetched unless
    the operator allows private addresses, so no token it would check gets through."""
    with (
        app_backend() as backend,
        live_server(tmp_path_factory.mktemp("private-jwks"), env=MANY) as live,
    ):
        fetched: list[str] = []
        original = backend.jwks

        def counting() -> dict[str, Any]:
            fetched.append("jwks")
            return original()

        backend.jwks = counting  # type: ignore[method-assign]
        _one_custom_step(live, backend.jwks_url)
        _refused(live, backend)
        assert fetched == []
