from __future__ import annotations

from sessile.claims import identity_claims
from sessile.store.user_identifiers import Identifier
from sessile.store.users import User

EMAIL = Identifier("email_address", "ada@example.com")
OTHER_EMAIL = Identifier("email_address", "ada@work.example")
PHONE = Identifier("phone_number", "+33612345678")


def _user(*identifiers: Identifier, proven: tuple[Identifier, ...] = ()) -> User:
    return User("usr_1", {}, None, 0.0, 0.0, None, identifiers, frozenset(proven))


def test_each_kind_is_named_with_whether_it_is_proven() -> None:
    assert identity_claims(_user(EMAIL, PHONE, proven=(PHONE,))) == {
        "email": "ada@example.com",
        "email_verified": False,
        "phone_number": "+33612345678",
        "phone_number_verified": True,
    }


def test_a_proven_address_is_preferred_and_a_missing_kind_left_out() -> None:
    claims = identity_claims(_user(EMAIL, OTHER_EMAIL, proven=(OTHER_EMAIL,)))
    assert claims == {"email": "ada@work.example", "email_verified": True}
    assert identity_claims(_user()) == {}
