from __future__ import annotations

import asyncio

from sessile.cleanup import purge_expired
from sessile.config import load_settings
from sessile.store.database import Database
from sessile.store.keys import SigningKeyRow


async def test_challenge_is_consumed_once(database: Database) -> None:
    user = await database.users.create(now=0.0)
    await database.challenges.create(
        "hash-1", user_id=user.id, auth_method="password", now=10.0, expires_at=70.0
    )
    first = await database.challenges.consume("hash-1", now=20.0)
    assert first is not None
    assert (first.user_id, first.auth_method) == (user.id, "password")
    assert await database.challenges.consume("hash-1", now=21.0) is None
    assert await database.challenges.consume("hash-unknown", now=21.0) is None


async def test_challenge_expires(database: Database) -> None:
    user = await database.users.create(now=0.0)
    await database.challenges.create(
        "hash-2", user_id=user.id, auth_method="otp", now=10.0, expires_at=70.0
    )
    assert await database.challenges.consume("hash-2", now=70.0) is None
    purged = await purge_expired(database.driver, load_settings(secret_key="s" * 48), 71.0)
    assert purged["challenge_tokens"] == 1


async def test_concurrent_consumers_get_one_winner(database: Database) -> None:
    user = await database.users.create(now=0.0)
    await database.challenges.create(
        "hash-3", user_id=user.id, auth_method="otp", now=10.0, expires_at=70.0
    )
    results = await asyncio.gather(
        *(database.challenges.consume("hash-3", now=11.0) for _ in range(8))
    )
    assert sum(r is not None for r in results) == 1


def _key(kid: str, created: float, active: float, alg: str = "ES256") -> SigningKeyRow:
    return SigningKeyRow(kid, alg, {"kty": "EC", "kid": kid}, "enc-" + kid, created, active, None)


async def test_key_rotate_and_expire(database: Database) -> None:
    assert await database.keys.rotate(_key("k1", 1.0, 1.0), unless_newer_than=-1.0)
    assert not await database.keys.rotate(_key("k1b", 2.0, 2.0), unless_newer_than=-1.0)
    assert await database.keys.rotate(_key("k2", 10.0, 20.0))
    keys = await database.keys.all("ES256")
    assert [(k.kid, k.retired_at) for k in keys] == [("k1", 20.0), ("k2", None)]
    assert keys[1].public_jwk == {"kty": "EC", "kid": "k2"}
    assert await database.keys.delete_expired("ES256", before=19.0) == 0
    assert await database.keys.delete_expired("ES256", before=21.0) == 1
    assert [k.kid for k in await database.keys.all("ES256")] == ["k2"]


async def test_each_algorithm_rotates_and_expires_its_own_keys(database: Database) -> None:
    assert await database.keys.rotate(_key("es1", 1.0, 1.0), unless_newer_than=-1.0)
    # The first PS256 key is made while an ES256 key exists: it is a first key all the same.
    assert await database.keys.rotate(_key("ps1", 2.0, 2.0, "PS256"), unless_newer_than=-1.0)
    assert await database.keys.rotate(_key("ps2", 3.0, 5.0, "PS256"))
    assert [(k.kid, k.retired_at) for k in await database.keys.all("ES256")] == [("es1", None)]
    assert [(k.kid, k.retired_at) for k in await database.keys.all("PS256")] == [
        ("ps1", 5.0),
        ("ps2", None),
    ]
    assert await database.keys.delete_expired("ES256", before=10.0) == 0
    assert await database.keys.delete_expired("PS256", before=10.0) == 1
    assert [k.kid for k in await database.keys.all("ES256")] == ["es1"]


async def test_server_secret_first_writer_wins(database: Database) -> None:
    assert await database.secrets.get("nonce") is None
    assert await database.secrets.get_or_create("nonce", "first", now=1.0) == "first"
    assert await database.secrets.get_or_create("nonce", "second", now=2.0) == "first"
    assert await database.secrets.get("nonce") == "first"


async def test_concurrent_first_keys_make_one(database: Database) -> None:
    results = await asyncio.gather(
        *(database.keys.rotate(_key(f"k{i}", 1.0, 1.0), unless_newer_than=-1.0) for i in range(4))
    )
    assert sum(results) == 1
    assert len(await database.keys.all("ES256")) == 1
