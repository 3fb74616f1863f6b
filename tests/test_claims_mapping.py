"""The claims mapping's rules with plain values: what is accepted, and what a token gets."""

from __future__ import annotations

from typing import Any

import pytest

from sessile.claims_mapping import (
    MAX_PROFILE_BYTES,
    RESERVED_CLAIMS,
    Subject,
    check_mapping,
    inputs_of,
    resolve_mapping,
)
from sessile.errors import BadRequest

#: The example of Prelude's custom-claims guide.
GUIDE = {
    "api_version": 2,
    "user_id": {"$input": "user_id", "$type": "uuid"},
    "loyalty_tier": {"$custom_claim": "loyalty_tier"},
    "context": {
        "ip": {"$input": "ip", "$type": "string"},
        "country": {"$input": "country_code", "$type": "string"},
    },
}
ADA = Subject(
    user_id="usr_ada",
    profile={"loyalty_tier": "gold", "locales": ["fr-FR"], "billing": {"plan": "pro"}},
    external_id="crm-1",
    email="ada@example.com",
    session_id="ses_1",
    ip="203.0.113.7",
    country_code="FR",
)


def test_the_guides_example_resolves_nested_and_typed() -> None:
    assert resolve_mapping(check_mapping(GUIDE), ADA) == {
        "api_version": 2,
        "user_id": "usr_ada",
        "loyalty_tier": "gold",
        "context": {"ip": "203.0.113.7", "country": "FR"},
    }


def test_literals_are_copied_and_profile_members_keep_their_type() -> None:
    mapping = {
        "flag": True,
        "ratio": 0.5,
        "nothing": None,
        "label": "profile.first_name",  # a string is a literal, never a path
        "roles": ["a", "b"],
        "locales": {"$custom_claim": "locales"},
        "billing": {"$custom_claim": "billing"},
        "missing": {"$custom_claim": "no_such_member"},
        "sid_of": {"$input": "session_id", "$type": "string"},
        "crm": {"$input": "external_id", "$type": "string"},
        "mail": {"$input": "email", "$type": "string"},
        "phone": {"$input": "phone_number", "$type": "string"},
    }
    assert resolve_mapping(check_mapping(mapping), ADA) == {
        "flag": True,
        "ratio": 0.5,
        "nothing": None,
        "label": "profile.first_name",
        "roles": ["a", "b"],
        "locales": ["fr-FR"],
        "billing": {"plan": "pro"},
        "missing": None,
        "sid_of": "ses_1",
        "crm": "crm-1",
        "mail": "ada@example.com",
        "phone": None,
    }


def test_session_inputs_are_null_without_a_session() -> None:
    minted = Subject(user_id="usr_ada", profile={})
    assert resolve_mapping(GUIDE, minted)["context"] == {"ip": None, "country": None}
    assert inputs_of(GUIDE) == {"user_id", "ip", "country_code"}
    assert inputs_of({"a": 1, "b": {"$custom_claim": "x"}}) == frozenset()


@pytest.mark.parametrize("name", sorted(RESERVED_CLAIMS))
def test_no_reserved_claim_can_be_mapped(name: str) -> None:
    with pytest.raises(BadRequest, match="reserved"):
        check_mapping({name: "x"})
    # Nor through a stored mapping that skipped the check.
    assert resolve_mapping({name: "x", "ok": 1}, ADA) == {"ok": 1}


def test_the_claims_sessile_and_prelude_give_a_meaning_are_reserved() -> None:
    assert {"sub", "sid", "scope", "minted", "cnf", "cc", "exp", "iat", "jti"} <= RESERVED_CLAIMS
    # A nested member of the same name is only a member of a custom claim.
    assert check_mapping({"context": {"sub": 1}}) == {"context": {"sub": 1}}


@pytest.mark.parametrize(
    "mapping",
    [
        {"bad name": 1},
        {"x": {"$input": "password_hash", "$type": "string"}},
        {"x": {"$input": "user_id"}},
        {"x": {"$input": "user_id", "$type": "integer"}},
        {"x": {"$input": "ip", "$type": "uuid"}},
        {"x": {"$input": 3, "$type": "string"}},
        {"x": {"$custom_claim": ""}},
        {"x": {"$custom_claim": 1}},
        {"x": {"$custom_claim": "a" * 129}},
        {"x": {"$custom_claim": "a", "extra": 1}},
        {"x": {"$value": 1}},
        {"x": [{"nested": 1}]},
        {"x": [[1]]},
        {"x": float("nan")},
        {"x": [float("inf")]},
        {"x": "v" * 513},
        {"x": ["v" * 100] * 6},
        {"a": {"b": {"c": {"d": {"e": 1}}}}},
        {f"c{n}": n for n in range(65)},
        {"g": {f"c{n}": n for n in range(64)}},
        # A name ending in a newline: "$" alone would have let it through.
        {"tier\n": 1},
        {"g": {"tier\n": 1}},
        {"x": "a\x00b"},
        {"x": ["\udfff"]},
        {"x": {"$custom_claim": "tier\ud800"}},
    ],
)
def test_what_is_refused(mapping: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        check_mapping(mapping)


def test_an_oversized_mapping_is_refused() -> None:
    with pytest.raises(BadRequest, match="bytes"):
        check_mapping({f"c{n}": "v" * 500 for n in range(20)})


def test_profile_members_past_the_budget_are_null() -> None:
    big = "x" * (MAX_PROFILE_BYTES // 2)
    subject = Subject(user_id="u", profile={"a": big, "b": big, "c": "small"})
    mapping = {name: {"$custom_claim": name} for name in ("a", "b", "c")}
    assert resolve_mapping(check_mapping(mapping), subject) == {"a": big, "b": None, "c": "small"}
