"""Live configuration: two nodes on one database, a change seen by the other within
``max_age``, and every change in the audit trail."""

from __future__ import annotations

import asyncio

from sessile.audit import acting_as
from sessile.clock import FixedClock
from sessile.live_config import LiveConfig
from sessile.store.database import Database


async def test_a_change_reaches_another_node_within_max_age(database: Database) -> None:
    clock = FixedClock(1_000.0)
    writer = LiveConfig(database.config, clock, max_age=0.2)
    reader = LiveConfig(database.config, clock, max_age=0.2)
    assert await reader.value("stepup") is None

    first = await writer.put("stepup", {"jwks_url": "https://a.example/jwks"})
    assert (first.version, first.created_at, first.updated_at) == (1, 1_000.0, 1_000.0)
    assert (await writer.value("stepup"))["jwks_url"] == "https://a.example/jwks"
    # The other node still holds what it read: no document, until its copy is too old.
    assert await reader.value("stepup") is None
    await asyncio.sleep(0.25)
    assert (await reader.value("stepup"))["jwks_url"] == "https://a.example/jwks"

    clock.advance(60)
    second = await writer.put("stepup", {"jwks_url": "https://b.example/jwks"})
    assert (second.version, second.created_at, second.updated_at) == (2, 1_000.0, 1_060.0)
    await asyncio.sleep(0.25)
    document = await reader.get("stepup")
    assert document is not None
    assert (document.version, document.value["jwks_url"]) == (2, "https://b.example/jwks")


async def test_delete_falls_back_and_every_change_is_audited(database: Database) -> None:
    clock = FixedClock(50.0)
    live = LiveConfig(database.config, clock)
    acting_as("api_key:key_1")
    await live.put("login_password", {"enabled": False})
    assert await live.delete("login_password")
    assert not await live.delete("login_password")
    assert await live.value("login_password") is None
    events = await database.audit.list(user_id=None, event_type="config.changed", after=0, limit=10)
    assert [(e.actor, dict(e.data)) for e in events] == [
        ("api_key:key_1", {"name": "login_password", "version": 1}),
        ("api_key:key_1", {"name": "login_password", "version": None}),
    ]


async def test_first_writes_that_race_each_become_a_version(database: Database) -> None:
    """Two nodes set a document no one has set yet: neither write fails or is lost."""
    live = [LiveConfig(database.config, FixedClock(10.0)) for _ in range(4)]
    documents = await asyncio.gather(*(node.put("claims", {"n": n}) for n, node in enumerate(live)))
    assert sorted(d.version for d in documents) == [1, 2, 3, 4]
    stored = await database.config.document("claims")
    assert stored is not None
    assert stored.version == 4
