"""The revocation feed's cursor stops short of rows that may not have settled."""

from __future__ import annotations

from sessile.clock import FixedClock
from sessile.sessions.revocation_feed import SETTLE_SECONDS, RevocationFeed, settled_cursor
from sessile.store.database import Database
from sessile.store.revocations import Revocation
from tests.store.test_sessions import _session, _user


def _rows(*revoked_at: float) -> list[Revocation]:
    return [Revocation(i + 1, "usr_1", f"ses_{i}", at) for i, at in enumerate(revoked_at)]


def test_the_cursor_stops_before_the_first_unsettled_row() -> None:
    rows = _rows(10.0, 11.0, 19.0, 12.0)
    assert settled_cursor(rows, 0, settled_before=12.0) == 2
    assert settled_cursor(rows, 0, settled_before=100.0) == 4


def test_without_settled_rows_the_cursor_stays() -> None:
    assert settled_cursor(_rows(50.0), 7, settled_before=10.0) == 7
    assert settled_cursor([], 7, settled_before=10.0) == 7


async def test_a_page_and_its_cursor(database: Database) -> None:
    user_id = await _user(database)
    for i in range(2):
        await database.sessions.create(_session(user_id, f"ses_{i}", 1.0))
    await database.sessions.revoke("ses_0", reason="logout", now=100.0)
    await database.sessions.revoke("ses_1", reason="logout", now=103.0)
    clock = FixedClock(100.0 + SETTLE_SECONDS + 1.0)
    feed = RevocationFeed(database.revocations, clock)
    page = await feed.page(0, limit=10)
    assert [r.session_id for r in page.revocations] == ["ses_0", "ses_1"]
    assert page.cursor == page.revocations[0].seq
    clock.advance(10.0)
    assert (await feed.page(0, limit=10)).cursor == page.revocations[1].seq
