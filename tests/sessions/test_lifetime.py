"""When a session ends: its absolute end or the idle timeout, whichever first; written once
in Python (``sessions.lifetime``) and once in SQL (the store's list), and the two agree."""

from __future__ import annotations

import dataclasses

from sessile.sessions.lifetime import ends_at, is_live
from sessile.store.database import Database
from tests.store.test_sessions import _session, _user

IDLE = 100.0
NOW = 1_000.0


def test_a_session_ends_at_its_absolute_end_or_when_idle_whichever_first() -> None:
    row = _session("usr_1", "ses_1", 0.0, last_seen_at=950.0, expires_at=1_020.0)
    assert ends_at(row, IDLE) == 1_020.0  # the absolute end comes first
    idle = dataclasses.replace(row, expires_at=5_000.0)
    assert ends_at(idle, IDLE) == 1_050.0  # the idle timeout comes first


def test_live_means_unrevoked_and_not_yet_ended() -> None:
    row = _session("usr_1", "ses_1", 0.0, last_seen_at=950.0, expires_at=5_000.0)
    assert is_live(row, NOW, IDLE)
    assert not is_live(row, 1_050.0, IDLE)  # the end itself is past
    assert not is_live(dataclasses.replace(row, expires_at=NOW), NOW, IDLE)
    assert not is_live(dataclasses.replace(row, revoked_at=999.0), NOW, IDLE)


async def test_the_store_lists_exactly_the_live_sessions(database: Database) -> None:
    user_id = await _user(database)
    rows = [
        _session(user_id, "ses_live", 10.0, last_seen_at=950.0, expires_at=5_000.0),
        _session(user_id, "ses_idle", 20.0, last_seen_at=900.0, expires_at=5_000.0),
        _session(user_id, "ses_ended", 30.0, last_seen_at=990.0, expires_at=NOW),
        _session(
            user_id,
            "ses_revoked",
            40.0,
            last_seen_at=990.0,
            expires_at=5_000.0,
            revoked_at=995.0,
            revoked_reason="logout",
        ),
        _session(user_id, "ses_soon", 50.0, last_seen_at=901.0, expires_at=1_000.5),
    ]
    for row in rows:
        await database.sessions.create(row)
    listed, total = await database.sessions.list_active(
        user_id, now=NOW, idle_since=NOW - IDLE, limit=10, offset=0
    )
    expected = {r.id for r in rows if is_live(r, NOW, IDLE)}
    assert expected == {"ses_live", "ses_soon"}
    assert {r.id for r in listed} == expected
    assert total == len(expected)
