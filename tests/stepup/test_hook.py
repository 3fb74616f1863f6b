"""The delegation hook (PRELUDE-API §6.1) against an app backend written from the docs: the
request body and headers, its signature checked with sessile's JWKS, each documented answer,
each documented failure (the request then gets the default, ``block``), and the grant modes
the hook chooses."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sessile.client import SessionClientError
from tests.events.management import Management
from tests.events.receiver import receiver
from tests.live import LiveServer, live_server
from tests.stepup.app_backend import AppBackend, app_backend
from tests.stepup.conftest import MANY
from tests.stepup.flow import claims_of, log_in

SCOPE = "transfer:write"


@pytest.fixture(scope="module")
def backend() -> Iterator[AppBackend]:
    with app_backend() as running:
        yield running


@pytest.fixture(scope="module")
def delegated(
    tmp_path_factory: pytest.TempPathFactory, backend: AppBackend
) -> Iterator[LiveServer]:
    env = {
        "SESSILE_STEPUP_MODE": "delegated",
        "SESSILE_STEPUP_HOOK_URL": backend.hook_url,
        "SESSILE_STEPUP_JWKS_URL": backend.jwks_url,
        "SESSILE_STEPUP_SCOPES": json.dumps({SCOPE: []}),
        "SESSILE_STEPUP_HOOK_TIMEOUT": "0.5",
        # The app's backend is on loopback in these tests.
        "SESSILE_EVENT_ALLOW_PRIVATE_URLS": "true",
        **MANY,
    }
    with live_server(tmp_path_factory.mktemp("stepup-hook"), env=env) as live:
        backend.sessile_url = live.url
        yield live


@pytest.fixture
def hook(backend: AppBackend) -> AppBackend:
    backend.received.clear()
    backend.headers.clear()
    backend.bad_signatures = 0
    backend.status = 200
    backend.delay = 0.0
    backend.trickle = 0.0
    return backend


def _answer(**fields: Any) -> dict[str, Any]:
    return {"granted_for": 60, "grant_mode": "session-bound", **fields}


def test_the_request_is_prelude_s_and_signed_with_sessile_s_jwks(
    delegated: LiveServer, hook: AppBackend
) -> None:
    client = log_in(delegated)
    hook.answer = _answer(
        status="review", steps=[{"key": "verify_email", "expiration_duration": 120}]
    )
    asked = client.request(SCOPE, {"amount": "500", "currency": "USD"})
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "review"

    (body,) = hook.received
    user = delegated.user_by_email(client.email)
    assert body == {
        "scope_requested": SCOPE,
        "user_id": user.id,
        "identifiers": [{"type": "email_address", "value": client.email}],
        "signals": {
            "user_agent": body["signals"]["user_agent"],
            "platform": "WEB",
            "ip": "127.0.0.1",
        },
        "metadata": {"amount": "500", "currency": "USD"},
    }
    (headers,) = hook.headers
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].endswith("SessionStepUpHook/1.0")
    assert headers["x-webhook-signature-key-id"]
    assert hook.bad_signatures == 0

    challenge = claims_of(asked.json()["challenge_token"])
    assert challenge["grant_mode"] == "session-bound"
    assert challenge["steps"] == [
        {"order": 1, "expiration_duration": 120, "key": "verify_email", "done": False}
    ]
    assert challenge["exp"] <= time.time() + 121, "the step's own duration bounds the token"
    completed = client.code_step(asked.json()["challenge_token"])
    granted = claims_of(client.session.refresh(completed).access_token)
    assert granted["scope"].split() == ["session", SCOPE]
    assert granted["exp"] <= time.time() + 61, "the token ends with the 60 s grant"


def test_continue_grants_at_once(delegated: LiveServer, hook: AppBackend) -> None:
    client = log_in(delegated)
    hook.answer = _answer(status="continue")
    asked = client.request(SCOPE)
    assert asked.json()["status"] == "continue"
    completed = asked.json()["challenge_token"]
    assert claims_of(completed)["current_step"] == "completed"
    assert SCOPE in claims_of(client.session.refresh(completed).access_token)["scope"].split()


def test_block_gives_no_challenge(delegated: LiveServer, hook: AppBackend) -> None:
    client = log_in(delegated)
    hook.answer = {"status": "block"}
    assert client.request(SCOPE).json() == {"status": "block"}


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        ({"status": "continue"}, 500, "invalid_status_code"),
        (b"this is not json", 200, "response_decode_failed"),
        (b"x" * (65 * 1024), 200, "response_decode_failed"),
        ({"status": "maybe"}, 200, "invalid_status"),
        (_answer(status="review"), 200, "missing_steps"),
        (_answer(status="review", steps=[]), 200, "missing_steps"),
        (_answer(status="continue", grant_mode="forever"), 200, "invalid_grant_mode"),
        (_answer(status="continue", granted_for=86_401), 200, "invalid_granted_for"),
        (_answer(status="continue", granted_for=0), 200, "invalid_granted_for"),
        (_answer(status="review", steps=[{"key": "has space"}]), 200, "invalid_step"),
        (
            _answer(status="review", steps=[{"key": "k", "expiration_duration": -1}]),
            200,
            "invalid_step",
        ),
        (["a", "list"], 200, "invalid_response"),
    ],
)
def test_a_failed_hook_gives_block(
    delegated: LiveServer, hook: AppBackend, answer: Any, status: int, reason: str
) -> None:
    client = log_in(delegated)
    hook.answer, hook.status = answer, status
    refused = client.request(SCOPE)
    assert refused.json() == {"status": "block"}
    assert _last_failure(delegated) == reason


def _last_failure(server: LiveServer) -> str:
    """The reason of the last hook failure the server logged."""
    for line in reversed(server.server.output().splitlines()):
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("message") == "step-up hook failed":
                reason: str = record["reason"]
                return reason
    raise AssertionError("no hook failure logged")


def test_a_failure_is_a_step_up_hook_failed_event(delegated: LiveServer, hook: AppBackend) -> None:
    """§5.5: ``step_up.hook_failed`` with the reason, to the webhooks that subscribe."""
    with receiver() as inbox:
        api = Management(delegated.url, delegated.api_key())
        api.subscribe(inbox, events=["step_up.hook_failed"])
        client = log_in(delegated)
        hook.answer, hook.status = {"status": "nonsense"}, 200
        assert client.request(SCOPE).json() == {"status": "block"}
        [event] = inbox.wait_for(1)
    assert event["type"] == "step_up.hook_failed"
    payload = event["payload"]
    assert payload["reason"] == "invalid_status"
    assert payload["user_id"] == delegated.user_by_email(client.email).id
    assert payload["scope_requested"] == SCOPE
    assert inbox.rejected == 0, "signed with sessile's JWKS key"


def test_a_slow_hook_is_cut_off(delegated: LiveServer, hook: AppBackend) -> None:
    client = log_in(delegated)
    hook.answer, hook.delay = _answer(status="continue"), 1.5
    started = time.monotonic()
    assert client.request(SCOPE).json() == {"status": "block"}
    assert time.monotonic() - started < 1.4, "the 0.5 s timeout cut the wait"


def test_a_hook_that_trickles_its_answer_is_cut_off(
    delegated: LiveServer, hook: AppBackend
) -> None:
    """Each byte within the timeout, the whole answer far beyond it: one deadline."""
    client = log_in(delegated)
    hook.answer, hook.trickle = _answer(status="continue"), 0.2
    started = time.monotonic()
    assert client.request(SCOPE).json() == {"status": "block"}
    assert time.monotonic() - started < 2.0, "the 0.5 s deadline covers the whole answer"
    assert _last_failure(delegated) == "request_failed"


def test_single_use_reaches_one_token(delegated: LiveServer, hook: AppBackend) -> None:
    client = log_in(delegated)
    hook.answer = _answer(status="continue", grant_mode="single-use", granted_for=0)
    completed = client.request(SCOPE).json()["challenge_token"]
    assert claims_of(completed)["grant_mode"] == "single-use"
    assert SCOPE in claims_of(client.session.refresh(completed).access_token)["scope"].split()
    assert claims_of(client.session.refresh().access_token)["scope"] == "session"


def test_profile_bound_reaches_every_session(delegated: LiveServer, hook: AppBackend) -> None:
    mine = log_in(delegated)
    other = log_in(delegated, mine.email)
    stranger = log_in(delegated)
    hook.answer = _answer(status="continue", grant_mode="profile-bound")
    completed = mine.request(SCOPE).json()["challenge_token"]
    assert SCOPE in claims_of(mine.session.refresh(completed).access_token)["scope"].split()
    assert SCOPE in claims_of(other.session.refresh().access_token)["scope"].split()
    assert claims_of(stranger.session.refresh().access_token)["scope"] == "session"


def test_session_bound_stays_on_its_session(delegated: LiveServer, hook: AppBackend) -> None:
    mine = log_in(delegated)
    other = log_in(delegated, mine.email)
    hook.answer = _answer(status="continue")
    completed = mine.request(SCOPE).json()["challenge_token"]
    mine.session.refresh(completed)
    assert SCOPE in claims_of(mine.session.refresh().access_token)["scope"].split()
    assert claims_of(other.session.refresh().access_token)["scope"] == "session"
    with pytest.raises(SessionClientError) as again:
        mine.session.refresh(completed)
    assert again.value.code == "token_reused"


def test_a_hook_that_is_down_gives_block(tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.server import free_port

    env = {
        "SESSILE_STEPUP_MODE": "delegated",
        "SESSILE_STEPUP_HOOK_URL": f"http://127.0.0.1:{free_port()}/nobody",
        "SESSILE_EVENT_ALLOW_PRIVATE_URLS": "true",
    }
    with live_server(tmp_path_factory.mktemp("stepup-down"), env=env) as server:
        client = log_in(server)
        assert client.request("prld:pwd:write").json() == {"status": "block"}


def test_a_hook_on_a_private_address_is_never_called(
    tmp_path_factory: pytest.TempPathFactory, backend: AppBackend
) -> None:
    """The hook URL is the key holder's choice: loopback is refused unless allowed."""
    backend.received.clear()
    env = {"SESSILE_STEPUP_MODE": "delegated", "SESSILE_STEPUP_HOOK_URL": backend.hook_url}
    with live_server(tmp_path_factory.mktemp("stepup-private"), env=env) as server:
        client = log_in(server)
        assert client.request("prld:pwd:write").json() == {"status": "block"}
    assert backend.received == []
