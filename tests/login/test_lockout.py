"""Guessing budgets against a real server: failed checks count per identifier across
challenges and lock it out, growing; every worker shares the counts, with or without
Redis; resends are limited per identifier (review findings on OTP guessing and SMS
pumping)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sessile.client import SessionClient, SessionClientError
from sessile.login.lockout import LockoutPolicy
from tests.live import LiveServer, live_server

TARGET = "target@example.com"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Two worker processes on one SQLite file and no Redis."""
    env = {"SESSILE_OTP_RATE_PER_IDENTIFIER": "5/10 minutes", "SESSILE_LOCKOUT_BASE": "600"}
    with live_server(tmp_path_factory.mktemp("workers"), env=env, args=("--workers", "2")) as live:
        yield live


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_failed_checks_count_across_challenges_and_lock_the_identifier(
    two_workers: LiveServer,
) -> None:
    server = two_workers
    # Five challenges once gave 25 guesses; now six failures, over any number of
    # challenges, lock the identifier.
    for _ in range(2):
        client = SessionClient(server.url)
        client.start_otp("email_address", TARGET)
        code = server.last_message(TARGET)["code"]
        for _ in range(3):
            with pytest.raises(SessionClientError) as caught:
                client.check_otp(_wrong(code))
            assert caught.value.code == "bad_check_code"
    # Locked: even the right code of a fresh challenge is refused.
    client = SessionClient(server.url)
    client.start_otp("email_address", TARGET)
    code = server.last_message(TARGET)["code"]
    with pytest.raises(SessionClientError) as locked:
        client.check_otp(code)
    assert locked.value.code == "rate_limited"
    assert locked.value.status == 429
    # A password login for the same identifier is locked too, and says no more.
    with pytest.raises(SessionClientError) as password:
        SessionClient(server.url).login_with_password(TARGET, "any passphrase")
    assert password.value.code == "rate_limited"


def test_starts_and_resends_share_one_budget_per_identifier_across_workers(
    two_workers: LiveServer,
) -> None:
    server = two_workers
    answers = []
    for _ in range(10):
        answers.append(
            httpx.post(
                server.url + "/v1/session/login/otp",
                json={"identifier": {"type": "phone_number", "value": "+14155550199"}},
            ).status_code
        )
    assert answers.count(204) == 5, answers
    assert answers.count(429) == 5, answers


def test_resends_count_per_identifier(tmp_path_factory: pytest.TempPathFactory) -> None:
    env = {"SESSILE_OTP_RATE_PER_IDENTIFIER": "3/10 minutes", "SESSILE_OTP_RESEND_COOLDOWN": "0"}
    with live_server(tmp_path_factory.mktemp("resend"), env=env) as server:
        client = SessionClient(server.url)
        client.start_otp("phone_number", "+14155550188")
        client.retry_otp()
        client.retry_otp()
        with pytest.raises(SessionClientError) as caught:
            client.retry_otp()
        assert caught.value.code == "rate_limited"
        assert len(server.messages("+14155550188")) == 3


def test_lockout_grows_and_stops_at_the_hard_cap() -> None:
    policy = LockoutPolicy(threshold=5, base=30, longest=900, hard_cap=100)
    assert [policy.lock_for(n) for n in range(1, 6)] == [0, 0, 0, 0, 0]
    assert [policy.lock_for(n) for n in range(6, 12)] == [30, 60, 120, 240, 480, 900]
    assert policy.lock_for(99) == 900
    assert policy.lock_for(100) > 10 * 365 * 86_400, "locked until an operator clears it"


def test_an_operator_unlocks_a_hard_locked_identifier(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = {"SESSILE_LOCKOUT_THRESHOLD": "1", "SESSILE_LOCKOUT_HARD_CAP": "2"}
    data = tmp_path_factory.mktemp("hard")
    with live_server(data, env=env) as server:
        client = SessionClient(server.url)
        client.start_otp("email_address", "hard@example.com")
        code = server.last_message("hard@example.com")["code"]
        for _ in range(2):  # the second failure reaches the hard cap
            with pytest.raises(SessionClientError) as caught:
                client.check_otp(_wrong(code))
            assert caught.value.code == "bad_check_code"
        with pytest.raises(SessionClientError) as still:
            client.check_otp(code)
        assert still.value.code == "rate_limited"
        unlocked = server.cli("users", "unlock", "--email", "hard@example.com")
        assert unlocked.returncode == 0, unlocked.stderr
        assert "unlocked" in unlocked.stdout
        fresh = SessionClient(server.url)
        fresh.start_otp("email_address", "hard@example.com")
        fresh.check_otp(server.last_message("hard@example.com")["code"])
        assert fresh.list_sessions()["total"] == 1
