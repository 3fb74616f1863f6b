from __future__ import annotations

import asyncio
import dataclasses

import asyncpg
import pytest

from sessile.store.database import Database
from sessile.store.drivers import IntegrityViolation
from sessile.store.drivers.postgres import _dsn
from sessile.store.session_rows import Rotation, SessionRow


async def _user(database: Database) -> str:
    return (await database.users.create(now=0.0)).id


def _session(user_id: str, session_id: str, created_at: float, **changes: object) -> SessionRow:
    row = SessionRow(
        id=session_id,
        user_id=user_id,
        jkt="jkt-" + session_id,
        auth_method="otp",
        refresh_hash="h0-" + session_id,
        generation=0,
        previous_hash=None,
        rotated_at=None,
        created_at=created_at,
        last_seen_at=created_at,
        expires_at=created_at + 1000,
        revoked_at=None,
        revoked_reason=None,
        device_type="desktop",
        device_model=None,
        os_version="Linux",
        browser="Chrome 120",
        country_code="FR",
        ip="127.0.0.1",
        user_agent="Mozilla/5.0",
    )
    return dataclasses.replace(row, **changes)  # type: ignore[arg-type]


async def test_create_and_get_round_trip(database: Database) -> None:
    user_id = await _user(database)
    row = _session(user_id, "ses_a", 10.0)
    await database.sessions.create(row)
    assert await database.sessions.get("ses_a") == row
    assert await database.sessions.get("ses_missing") is None


async def test_rotate_live_is_conditional(database: Database) -> None:
    user_id = await _user(database)
    await database.sessions.create(_session(user_id, "ses_a", 10.0))
    rotate = database.sessions.rotate_live
    common = {"new_hash": "h1", "now": 20.0, "idle_since": 0.0}

    # Another key, another generation or another hash: nothing happens.
    assert (
        await rotate("ses_a", generation=0, current_hash="h0-ses_a", jkt="other", **common) is None
    )
    assert (
        await rotate("ses_a", generation=1, current_hash="h0-ses_a", jkt="jkt-ses_a", **common)
        is None
    )
    assert (
        await rotate("ses_a", generation=0, current_hash="forged", jkt="jkt-ses_a", **common)
        is None
    )
    # Idle since before its last use, or past its end: nothing happens either.
    idle = {**common, "idle_since": 15.0}
    assert (
        await rotate("ses_a", generation=0, current_hash="h0-ses_a", jkt="jkt-ses_a", **idle)
        is None
    )
    late = {**common, "now": 2000.0}
    assert (
        await rotate("ses_a", generation=0, current_hash="h0-ses_a", jkt="jkt-ses_a", **late)
        is None
    )

    rotated = await rotate(
        "ses_a", generation=0, current_hash="h0-ses_a", jkt="jkt-ses_a", **common
    )
    row = await database.sessions.get("ses_a")
    assert row is not None
    assert (row.generation, row.refresh_hash, row.previous_hash) == (1, "h1", "h0-ses_a")
    assert row.rotated_at == 20.0
    assert row.last_seen_at == 20.0
    # It returns what the new tokens need of the row, as the row now reads.
    assert rotated == Rotation(
        row.id, row.user_id, row.expires_at, row.granted_scope, row.granted_until
    )
    # The same rotation again loses: the row has moved on.
    assert (
        await rotate("ses_a", generation=0, current_hash="h0-ses_a", jkt="jkt-ses_a", **common)
        is None
    )

    await database.sessions.revoke("ses_a", reason="logout", now=30.0)
    after = {**common, "new_hash": "h2", "now": 31.0}
    assert await rotate("ses_a", generation=1, current_hash="h1", jkt="jkt-ses_a", **after) is None


async def test_revoke_one_checks_owner(database: Database) -> None:
    alice, bob = await _user(database), await _user(database)
    await database.sessions.create(_session(alice, "ses_a", 10.0))
    assert not await database.sessions.revoke("ses_a", reason="x", now=11.0, user_id=bob)
    row = await database.sessions.get("ses_a")
    assert row is not None
    assert row.revoked_at is None
    assert await database.sessions.revoke("ses_a", reason="logout", now=12.0, user_id=alice)
    assert not await database.sessions.revoke("ses_a", reason="again", now=13.0)
    row = await database.sessions.get("ses_a")
    assert row is not None
    assert (row.revoked_at, row.revoked_reason) == (12.0, "logout")


async def test_revoke_user_all_or_others(database: Database) -> None:
    alice, bob = await _user(database), await _user(database)
    for i in range(3):
        await database.sessions.create(_session(alice, f"ses_a{i}", 10.0 + i))
    await database.sessions.create(_session(bob, "ses_b", 10.0))

    assert (
        await database.sessions.revoke_user(alice, reason="others", now=20.0, except_id="ses_a1")
        == 2
    )
    live, total = await database.sessions.list_active(
        alice, now=21.0, idle_since=0.0, limit=10, offset=0
    )
    assert [s.id for s in live] == ["ses_a1"]
    assert total == 1
    assert await database.sessions.revoke_user(alice, reason="all", now=22.0) == 1
    assert (
        await database.sessions.list_active(alice, now=23.0, idle_since=0.0, limit=10, offset=0)
    )[1] == 0
    # Bob's session was never touched.
    assert (await database.sessions.list_active(bob, now=23.0, idle_since=0.0, limit=10, offset=0))[
        1
    ] == 1


async def test_list_is_newest_first_paged_and_skips_dead_sessions(database: Database) -> None:
    alice = await _user(database)
    for i in range(5):
        await database.sessions.create(_session(alice, f"ses_{i}", 100.0 + i))
    await database.sessions.create(_session(alice, "ses_expired", 50.0, expires_at=150.0))
    await database.sessions.create(_session(alice, "ses_idle", 60.0, last_seen_at=60.0))

    page, total = await database.sessions.list_active(
        alice, now=200.0, idle_since=90.0, limit=2, offset=1
    )
    assert total == 5
    assert [s.id for s in page] == ["ses_3", "ses_2"]
    rest, _ = await database.sessions.list_active(
        alice, now=200.0, idle_since=90.0, limit=10, offset=4
    )
    assert [s.id for s in rest] == ["ses_0"]


async def test_touch_moves_last_seen_forward_only(database: Database) -> None:
    alice = await _user(database)
    await database.sessions.create(_session(alice, "ses_a", 10.0))
    await database.sessions.touch("ses_a", now=50.0)
    await database.sessions.touch("ses_a", now=40.0)
    row = await database.sessions.get("ses_a")
    assert row is not None
    assert row.last_seen_at == 50.0


async def test_deleting_a_user_deletes_their_sessions(database: Database) -> None:
    alice = await _user(database)
    await database.sessions.create(_session(alice, "ses_a", 10.0))
    await database.users.delete(alice, now=20.0)
    assert await database.sessions.get("ses_a") is None


DAY = 86_400.0


async def test_purge_ended_drops_only_sessions_ended_before_the_cutoff(database: Database) -> None:
    """Revoked, absolutely expired and idle sessions go once their end is older than the
    cutoff; live ones and recently ended ones stay. Batches are bounded."""
    user_id = await _user(database)
    now, idle = 100 * DAY, 10 * DAY
    cutoff = now - 30 * DAY
    old = now - 60 * DAY
    gone = {
        "ses_revoked_long_ago": _session(user_id, "ses_revoked_long_ago", old, revoked_at=old),
        "ses_expired_long_ago": _session(
            user_id, "ses_expired_long_ago", old, expires_at=old + 1, last_seen_at=old + 1
        ),
        "ses_idle_long_ago": _session(
            user_id, "ses_idle_long_ago", old, expires_at=now + DAY, last_seen_at=old
        ),
    }
    kept = {
        "ses_live": _session(user_id, "ses_live", old, expires_at=now + DAY, last_seen_at=now),
        "ses_revoked_lately": _session(
            user_id,
            "ses_revoked_lately",
            old,
            expires_at=now + DAY,
            last_seen_at=now - DAY,
            revoked_at=now - DAY,
        ),
        "ses_idle_lately": _session(
            user_id, "ses_idle_lately", old, expires_at=now + DAY, last_seen_at=now - idle - DAY
        ),
    }
    for row in [*gone.values(), *kept.values()]:
        await database.sessions.create(row)
    # Two more revoked long ago, to see the batches bounded.
    for n in range(2):
        await database.sessions.create(_session(user_id, f"ses_extra_{n}", old, revoked_at=old))

    purge = database.sessions.purge_ended
    assert await purge(before=cutoff, idle_timeout=idle, batch_size=2, max_batches=2) == 4
    assert await purge(before=cutoff, idle_timeout=idle, batch_size=2, max_batches=2) == 1
    assert await purge(before=cutoff, idle_timeout=idle, batch_size=2, max_batches=2) == 0
    for session_id in gone:
        assert await database.sessions.get(session_id) is None, session_id
    for session_id, row in kept.items():
        assert await database.sessions.get(session_id) == row, session_id


async def test_a_new_session_past_the_cap_ends_the_oldest_live_ones(database: Database) -> None:
    user_id = await _user(database)
    other = await _user(database)
    for n in range(4):
        await database.sessions.create(_session(user_id, f"ses_{n}", 10.0 + n))
    # Already ended, and another user's: neither counts nor is touched.
    await database.sessions.create(_session(user_id, "ses_revoked", 1.0, revoked_at=2.0))
    await database.sessions.create(_session(user_id, "ses_expired", 1.0, expires_at=5.0))
    await database.sessions.create(_session(other, "ses_other", 1.0))

    ended = await database.sessions.create(_session(user_id, "ses_4", 20.0), keep=3)
    assert sorted(ended) == ["ses_0", "ses_1"]
    for session_id in ("ses_0", "ses_1"):
        row = await database.sessions.get(session_id)
        assert row is not None
        assert (row.revoked_at, row.revoked_reason) == (20.0, "session_limit")
    for session_id in ("ses_2", "ses_3", "ses_4", "ses_other"):
        row = await database.sessions.get(session_id)
        assert row is not None
        assert row.revoked_at is None
    revoked = await database.revocations.after(0, limit=10)
    assert sorted(r.session_id or "" for r in revoked) == ["ses_0", "ses_1"]
    assert await database.sessions.create(_session(user_id, "ses_5", 21.0), keep=4) == []


async def test_a_session_that_fails_to_be_stored_ends_none(database: Database) -> None:
    user_id = await _user(database)
    for n in range(3):
        await database.sessions.create(_session(user_id, f"ses_{n}", 10.0 + n))
    with pytest.raises(IntegrityViolation):
        # Its id is taken: the cap's revocations roll back with it.
        await database.sessions.create(_session(user_id, "ses_2", 20.0), keep=1)
    for n in range(3):
        row = await database.sessions.get(f"ses_{n}")
        assert row is not None
        assert row.revoked_at is None


async def _waiting_on_a_lock(conn: asyncpg.Connection) -> None:
    """Return once another backend of this database waits for a row lock."""
    for _ in range(500):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nothing waited for a lock")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_purge_leaves_a_session_a_rotation_holds(database: Database) -> None:
    user_id = await _user(database)
    for session_id in ("ses_a", "ses_b"):
        await database.sessions.create(_session(user_id, session_id, 10.0, revoked_at=11.0))
    rotation = await asyncpg.connect(_dsn(database.engine.url.render_as_string(False)))
    purge = database.sessions.purge_ended
    try:
        async with rotation.transaction():
            await rotation.execute("SELECT id FROM sessions WHERE id = 'ses_a' FOR UPDATE")
            # It doesn't wait for the held row: it takes the other, and leaves that one.
            done = purge(before=100.0, idle_timeout=DAY, batch_size=10, max_batches=1)
            assert await asyncio.wait_for(done, 5) == 1
            assert await database.sessions.get("ses_a") is not None
            assert await database.sessions.get("ses_b") is None
        assert await purge(before=100.0, idle_timeout=DAY, batch_size=10, max_batches=1) == 1
        assert await database.sessions.get("ses_a") is None
    finally:
        await rotation.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("act", ["revoke all", "delete the user"])
async def test_a_users_sessions_are_locked_in_the_rotations_order(
    database: Database, act: str
) -> None:
    """A batch of rotations locks its keys' rows in id order. Revoking all of a user's
    sessions, or deleting the user (whose cascade deletes them in its own order), locks
    them in that order first, or the two could deadlock."""
    user_id = await _user(database)
    # Stored, and so scanned, in the other order than their ids.
    await database.sessions.create(_session(user_id, "ses_z", 10.0))
    await database.sessions.create(_session(user_id, "ses_a", 11.0))
    rotation = await asyncpg.connect(_dsn(database.engine.url.render_as_string(False)))
    try:
        # As a batch of rotations would: ses_a, then ses_z, with the other between.
        held = rotation.transaction()
        await held.start()
        await rotation.execute("SELECT id FROM sessions WHERE id = 'ses_a' FOR UPDATE")
        acting = asyncio.create_task(
            database.sessions.revoke_user(user_id, reason="logout", now=20.0)
            if act == "revoke all"
            else database.users.delete(user_id, now=20.0)
        )
        await _waiting_on_a_lock(rotation)
        # The other holds nothing yet, so this doesn't deadlock.
        await rotation.execute("SELECT id FROM sessions WHERE id = 'ses_z' FOR UPDATE")
        await held.commit()
        await acting
    finally:
        await rotation.close()
    after = [await database.sessions.get(session_id) for session_id in ("ses_a", "ses_z")]
    if act == "delete the user":
        assert after == [None, None]
    else:
        assert [row.revoked_at if row else None for row in after] == [20.0, 20.0]
