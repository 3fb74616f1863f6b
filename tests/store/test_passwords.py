from __future__ import annotations

from sessile.store.database import Database


async def test_set_and_clear_the_password_hash(database: Database) -> None:
    user = await database.users.create(now=1.0, password_hash="old")
    assert await database.passwords.set_hash(user.id, "new", now=2.0)
    loaded = await database.users.get(user.id)
    assert loaded is not None
    assert (loaded.password_hash, loaded.updated_at) == ("new", 2.0)
    assert await database.passwords.set_hash(user.id, None, now=3.0)
    cleared = await database.users.get(user.id)
    assert cleared is not None
    assert cleared.password_hash is None
    assert not await database.passwords.set_hash("usr_missing", "x", now=4.0)
