from __future__ import annotations

from sessile.api_keys import ApiKeys
from sessile.audit_trail import AuditTrail
from sessile.clock import FixedClock
from sessile.store.database import Database


async def test_api_keys(database: Database) -> None:
    clock = FixedClock(1.0)
    keys = ApiKeys(database.api_keys, AuditTrail(database.audit, clock), clock)
    key, secret = await keys.create("backend")
    assert secret.startswith(f"sk_{key.id}_")
    clock.current = 2.0
    found = await keys.authenticate(secret)
    assert found is not None
    assert found.id == key.id
    assert await keys.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert await keys.authenticate("sk_nope") is None
    [listed] = await keys.list()
    assert listed.last_used_at == 2.0
    assert secret not in repr(listed)
    # Only the hash of the secret is stored.
    stored = await database.api_keys.active(key.id)
    assert stored is not None
    assert secret.rsplit("_", 1)[1] not in stored[1]
    clock.current = 3.0
    assert await keys.revoke(key.id)
    clock.current = 4.0
    assert await keys.authenticate(secret) is None
    assert not await keys.revoke(key.id)


async def test_last_use_is_written_at_most_once_a_minute(database: Database) -> None:
    clock = FixedClock(100.0)
    keys = ApiKeys(database.api_keys, AuditTrail(database.audit, clock), clock)
    key, secret = await keys.create("backend", scopes=["users:read", "users:read"])
    assert key.scopes == ("users:read",)
    assert await keys.authenticate(secret) is not None
    clock.current = 130.0
    assert await keys.authenticate(secret) is not None
    [listed] = await keys.list()
    assert listed.last_used_at == 100.0
    clock.current = 161.0
    assert await keys.authenticate(secret) is not None
    [listed] = await keys.list()
    assert listed.last_used_at == 161.0
