"""Redeeming a step-up challenge: one conditional update that spends it only while its
session is live and held by the redeeming key, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sessile.store.database import Database
from sessile.store.stepup import ChallengeStep, StepUpChallenge
from tests.store.test_sessions import _session

NOW = 100.0


async def _completed(database: Database, **session: object) -> StepUpChallenge:
    """A user, a live session held by ``jkt-ses_a``, and its completed challenge."""
    user_id = (await database.users.create(now=0.0)).id
    await database.sessions.create(_session(user_id, "ses_a", 10.0, **session))
    challenge = StepUpChallenge(
        id="stp_a",
        user_id=user_id,
        session_id="ses_a",
        scope="prld:pwd:write",
        steps=(ChallengeStep("verify_email", 600),),
        metadata={},
        grant_mode="session-bound",
        granted_for=300,
        position=1,
        token_jti="j1",
        otp_id=None,
        created_at=NOW,
        step_started_at=NOW,
        expires_at=NOW + 600,
    )
    await database.stepup.create(challenge)
    return challenge


async def _spent(database: Database, challenge: StepUpChallenge) -> bool:
    stored = await database.stepup.get(challenge.id)
    assert stored is not None
    return stored.redeemed_at is not None


async def test_another_key_spends_nothing(database: Database) -> None:
    challenge = await _completed(database)
    assert not await database.stepup.redeem(challenge, jkt="jkt-thief", now=NOW)
    assert not await _spent(database, challenge)
    assert await database.stepup.redeem(challenge, jkt="jkt-ses_a", now=NOW)
    assert await _spent(database, challenge)
    assert not await database.stepup.redeem(challenge, jkt="jkt-ses_a", now=NOW)


async def test_an_ended_session_spends_nothing(database: Database) -> None:
    challenge = await _completed(database)
    await database.sessions.revoke("ses_a", reason="logout", now=NOW)
    assert not await database.stepup.redeem(challenge, jkt="jkt-ses_a", now=NOW)
    assert not await _spent(database, challenge)


async def test_a_session_past_its_end_spends_nothing(database: Database) -> None:
    challenge = await _completed(database, expires_at=NOW + 50)
    # The challenge lasts until 700, its session only until 150.
    assert not await database.stepup.redeem(challenge, jkt="jkt-ses_a", now=NOW + 60)
    assert not await _spent(database, challenge)
    assert await database.stepup.redeem(challenge, jkt="jkt-ses_a", now=NOW + 40)


async def test_concurrent_redeems_spend_once(database: Database) -> None:
    challenge = await _completed(database)
    keys = ["jkt-thief"] * 5 + ["jkt-ses_a"] * 5
    results = await asyncio.gather(
        *(database.stepup.redeem(challenge, jkt=key, now=NOW) for key in keys)
    )
    assert results.count(True) == 1
    assert results[keys.index("jkt-ses_a") :].count(True) == 1
