"""What account safety keeps in the store, on SQLite and PostgreSQL: identities linked
without a proof of their address, the account's oldest proven identifier, and the links in
notices that end every session (single use, expiring)."""

from __future__ import annotations

import asyncio
import hashlib

from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier

EMAIL = Identifier("email_address", "ada@example.com")
PHONE = Identifier("phone_number", "+33612345678")


async def _link(database: Database, user_id: str, provider: str, *, unproven: bool) -> None:
    assert await database.identities.link(
        provider=provider,
        subject=f"sub-{provider}",
        user_id=user_id,
        email=EMAIL.value,
        email_verified=False,
        now=1.0,
        unproven=unproven,
    )


async def test_unproven_identities_are_unlinked_but_the_kept_one(database: Database) -> None:
    user = await database.users.create(now=1.0, identifiers_=[EMAIL])
    other = await database.users.create(now=1.0, identifiers_=[PHONE])
    await _link(database, user.id, "lax", unproven=True)
    await _link(database, user.id, "google", unproven=True)
    await _link(database, user.id, "github", unproven=False)
    await _link(database, other.id, "okta", unproven=True)
    assert await database.identities.has_unproven(user.id)

    unlinked = await database.identities.unlink_unproven(user.id, keep=("google", "sub-google"))
    assert unlinked == ["lax"]
    left = await database.identities.for_users([user.id])
    assert [(i.provider, i.unproven) for i in left[user.id]] == [
        ("github", False),
        ("google", True),
    ]
    assert await database.identities.unlink_unproven(user.id, keep=None) == ["google"]
    assert not await database.identities.has_unproven(user.id)
    assert await database.identities.has_unproven(other.id), "another user's stay"


async def test_the_oldest_proven_identifier(database: Database) -> None:
    user = await database.users.create(now=1.0, identifiers_=[EMAIL, PHONE])
    assert await database.identifiers.oldest_proven(user.id) is None
    assert await database.identifiers.prove(user.id, PHONE, now=5.0)
    assert await database.identifiers.prove(user.id, EMAIL, now=7.0)
    assert await database.identifiers.oldest_proven(user.id) == PHONE
    later = Identifier("email_address", "later@example.com")
    assert await database.identifiers.add(user.id, later, now=9.0, proven=True)
    assert await database.identifiers.oldest_proven(user.id) == PHONE
    assert await database.identifiers.remove(user.id, PHONE, now=10.0)
    assert await database.identifiers.oldest_proven(user.id) == EMAIL


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def test_an_end_sessions_link_works_once_and_expires(database: Database) -> None:
    user = await database.users.create(now=1.0, identifiers_=[EMAIL])
    links = database.end_session_links
    await links.create(_hash("live"), user.id, now=10.0, expires_at=100.0)
    await links.create(_hash("old"), user.id, now=10.0, expires_at=50.0)
    assert await links.is_live(_hash("live"), now=60.0)
    assert not await links.is_live(_hash("old"), now=60.0)
    assert not await links.is_live(_hash("unknown"), now=60.0)

    assert await links.spend(_hash("old"), now=60.0) is None, "expired"
    assert await links.spend(_hash("unknown"), now=60.0) is None
    # Two at once: one winner.
    spent = await asyncio.gather(*(links.spend(_hash("live"), now=60.0) for _ in range(4)))
    assert sorted(spent, key=str) == [None, None, None, user.id]
    assert not await links.is_live(_hash("live"), now=60.0)


async def test_unused_challenge_tokens_of_taken_methods_are_voided(database: Database) -> None:
    user = await database.users.create(now=1.0, identifiers_=[EMAIL])
    other = await database.users.create(now=1.0, identifiers_=[PHONE])
    for name, owner, method in [
        ("google", user.id, "oauth_google"),
        ("password", user.id, "password"),
        ("code", user.id, "otp_email"),
        ("theirs", other.id, "oauth_google"),
    ]:
        await database.challenges.create(
            _hash(name), user_id=owner, auth_method=method, now=1.0, expires_at=100.0
        )
    assert await database.challenges.consume(_hash("password"), now=2.0) is not None
    voided = await database.challenges.void_unused(user.id, ["oauth_google", "password"], now=3.0)
    assert voided == 1, "the used one was already spent"
    assert await database.challenges.consume(_hash("google"), now=4.0) is None
    assert await database.challenges.consume(_hash("code"), now=4.0) is not None
    assert await database.challenges.consume(_hash("theirs"), now=4.0) is not None
