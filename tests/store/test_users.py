from __future__ import annotations

import asyncio

import pytest

from sessile.errors import Conflict, IdentifierAlreadyExists
from sessile.store.database import Database
from sessile.store.user_identifiers import Identifier
from sessile.store.users import merge_patch

EMAIL = Identifier("email_address", "ada@example.com")
PHONE = Identifier("phone_number", "+33612345678")


async def test_create_get_and_find(database: Database) -> None:
    user = await database.users.create(
        now=100.0, identifiers_=[EMAIL, PHONE], profile={"name": "Ada"}
    )
    assert user.id.startswith("usr_")

    loaded = await database.users.get(user.id)
    assert loaded is not None
    assert loaded.profile == {"name": "Ada"}
    assert set(loaded.identifiers) == {EMAIL, PHONE}
    assert loaded.created_at == 100.0
    assert loaded.disabled_at is None

    found = await database.users.find_by_identifier(PHONE)
    assert found is not None
    assert found.id == user.id
    assert await database.users.find_by_identifier(Identifier("email_address", "x@y.z")) is None
    assert await database.users.get("usr_missing") is None


async def test_identifier_is_unique_per_type_and_a_clash_creates_nothing(
    database: Database,
) -> None:
    first = await database.users.create(now=1.0, identifiers_=[EMAIL])
    with pytest.raises(IdentifierAlreadyExists):
        await database.users.create(now=2.0, identifiers_=[PHONE, EMAIL])
    # The failed create left no user behind and did not take the phone number.
    assert await database.users.find_by_identifier(PHONE) is None
    owner = await database.users.find_by_identifier(EMAIL)
    assert owner is not None
    assert owner.id == first.id
    # The same value under another type is a different identifier.
    other = await database.users.create(
        now=3.0, identifiers_=[Identifier("phone_number", EMAIL.value)]
    )
    assert other.id != first.id


async def test_a_chosen_id_is_the_users_and_a_taken_one_creates_nothing(
    database: Database,
) -> None:
    chosen = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    user = await database.users.create(now=1.0, identifiers_=[EMAIL], user_id=chosen)
    assert user.id == chosen
    loaded = await database.users.get(chosen)
    assert loaded is not None
    assert loaded.identifiers == (EMAIL,)
    with pytest.raises(Conflict, match="id"):
        await database.users.create(now=2.0, identifiers_=[PHONE], user_id=chosen)
    # The clash rolled the whole user back: the phone number is free, the first user intact.
    assert await database.users.find_by_identifier(PHONE) is None
    assert (await database.users.list(limit=10, offset=0))[1] == 1
    # A taken identifier with a free id is still the identifier's clash.
    with pytest.raises(IdentifierAlreadyExists):
        await database.users.create(now=3.0, identifiers_=[EMAIL], user_id="another")
    assert await database.users.get("another") is None


async def test_disable_and_delete(database: Database) -> None:
    user = await database.users.create(now=1.0, identifiers_=[EMAIL])
    assert await database.users.update(user.id, now=5.0, disabled=True) is not None
    loaded = await database.users.get(user.id)
    assert loaded is not None
    assert loaded.disabled_at == 5.0
    assert await database.users.delete(user.id, now=6.0)
    assert await database.users.get(user.id) is None
    assert await database.users.find_by_identifier(EMAIL) is None
    assert not await database.users.delete(user.id, now=6.0)


async def test_list_pages_oldest_first_with_identifiers_and_total(database: Database) -> None:
    made = [
        await database.users.create(
            now=float(n), identifiers_=[Identifier("email_address", f"u{n}@example.com")]
        )
        for n in range(5)
    ]
    bare = await database.users.create(now=10.0)  # no identifier at all

    page, total = await database.users.list(limit=2, offset=1)
    assert total == 6
    assert [u.id for u in page] == [made[1].id, made[2].id]
    assert page[0].identifiers == (Identifier("email_address", "u1@example.com"),)

    tail, _ = await database.users.list(limit=10, offset=4)
    assert [u.id for u in tail] == [made[4].id, bare.id]
    assert tail[1].identifiers == ()
    assert await database.users.list(limit=10, offset=6) == ([], 6)


async def test_update_merges_the_profile_and_sets_disabled(database: Database) -> None:
    user = await database.users.create(
        now=1.0, profile={"name": "Ada", "prefs": {"theme": "dark", "lang": "en"}, "x": 1}
    )
    updated = await database.users.update(
        user.id, now=2.0, profile_patch={"prefs": {"lang": "fr"}, "x": None, "plan": "pro"}
    )
    assert updated is not None
    assert updated.profile == {
        "name": "Ada",
        "prefs": {"theme": "dark", "lang": "fr"},
        "plan": "pro",
    }
    assert updated.updated_at == 2.0
    assert updated.created_at == 1.0

    disabled = await database.users.update(user.id, now=3.0, disabled=True)
    assert disabled is not None
    assert disabled.disabled_at == 3.0
    again = await database.users.update(user.id, now=4.0, disabled=True)
    assert again is not None
    assert again.disabled_at == 3.0, "disabling twice keeps the first time"
    assert again.profile == updated.profile
    enabled = await database.users.update(user.id, now=5.0, disabled=False)
    assert enabled is not None
    assert enabled.disabled_at is None

    assert await database.users.update("usr_missing", now=6.0, disabled=True) is None


def test_merge_patch_follows_rfc_7396() -> None:
    # Examples from RFC 7396 Appendix A (those whose target and patch are objects).
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "c"}, {"a": ["b"]}) == {"a": ["b"]}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


async def test_concurrent_profile_patches_keep_every_change(database: Database) -> None:
    user = await database.users.create(now=1.0, profile={"base": True})
    await asyncio.gather(
        *(database.users.update(user.id, now=2.0, profile_patch={f"k{n}": n}) for n in range(8))
    )
    loaded = await database.users.get(user.id)
    assert loaded is not None
    assert loaded.profile == {"base": True, **{f"k{n}": n for n in range(8)}}
