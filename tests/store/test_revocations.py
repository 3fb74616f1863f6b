from __future__ import annotations

from sessile.cleanup import purge_expired
from sessile.config import load_settings
from sessile.store.database import Database
from tests.store.test_sessions import _session, _user


async def test_revocations_feed_rows(database: Database) -> None:
    alice, bob = await _user(database), await _user(database)
    for i in range(3):
        await database.sessions.create(_session(alice, f"ses_a{i}", 10.0 + i))
    await database.sessions.create(_session(bob, "ses_b", 10.0))

    assert await database.sessions.revoke("ses_a0", reason="logout", now=20.0)
    assert not await database.sessions.revoke("ses_a0", reason="again", now=21.0)
    assert (
        await database.sessions.revoke_user(alice, reason="others", now=22.0, except_id="ses_a2")
        == 1
    )
    assert await database.sessions.revoke_user(bob, reason="all", now=23.0) == 1

    rows = await database.revocations.after(0, limit=100)
    assert [(r.user_id, r.session_id, r.revoked_at) for r in rows] == [
        (alice, "ses_a0", 20.0),
        (alice, "ses_a1", 22.0),
        (bob, "ses_b", 23.0),
        (bob, None, 23.0),
    ]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert await database.revocations.after(rows[1].seq, limit=100) == rows[2:]
    # The feed keeps a row while an access token it concerns may live, plus a margin.
    settings = load_settings(secret_key="s" * 48)
    now = 22.5 + settings.access_token_ttl + 300
    assert (await purge_expired(database.driver, settings, now))["revocations"] == 2
    assert await database.revocations.after(0, limit=100) == rows[2:]
