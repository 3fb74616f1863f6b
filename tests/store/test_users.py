from __future__ import annotations

import pytest

from sessile.errors import IdentifierAlreadyExists
from sessile.store.database import Database
from sessile.store.users import Identifier

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


async def test_disable_and_delete(database: Database) -> None:
    user = await database.users.create(now=1.0, identifiers_=[EMAIL])
    assert await database.users.set_disabled(user.id, now=5.0, disabled=True)
    loaded = await database.users.get(user.id)
    assert loaded is not None
    assert loaded.disabled_at == 5.0
    assert await database.users.delete(user.id)
    assert await database.users.get(user.id) is None
    assert await database.users.find_by_identifier(EMAIL) is None
    assert not await database.users.delete(user.id)
