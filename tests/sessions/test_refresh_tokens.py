from __future__ import annotations

from sessile.sessions.refresh_tokens import (
    first_token,
    hash_token,
    parse_token,
    reaches,
    successor,
)

KEY = b"k" * 32
SID = "ses_" + "a" * 32


def test_round_trip_and_entropy() -> None:
    token = first_token(SID)
    assert len(token.secret) == 32
    assert parse_token(str(token)) == token
    assert first_token(SID) != token


def test_parse_rejects_malformed() -> None:
    good = str(first_token(SID))
    for bad in (
        "",
        "x",
        good + "A",
        good.replace("ses_", "usr_"),
        SID + ".-1." + "A" * 43,
        good + ".1",
    ):
        assert parse_token(bad) is None


def test_successor_is_deterministic_and_keyed() -> None:
    token = first_token(SID)
    assert successor(KEY, token) == successor(KEY, token)
    assert successor(KEY, token).generation == 1
    assert successor(b"other" * 8, token) != successor(KEY, token)


def test_genuine_ancestors_reach_the_current_token_and_forgeries_do_not() -> None:
    chain = [first_token(SID)]
    for _ in range(5):
        chain.append(successor(KEY, chain[-1]))
    current = chain[-1]
    for old in chain[:-1]:
        assert reaches(KEY, old, generation=current.generation, token_hash=hash_token(current))
    forged = type(current)(SID, 2, b"\x00" * 32)
    assert not reaches(KEY, forged, generation=current.generation, token_hash=hash_token(current))
    assert not reaches(KEY, current, generation=current.generation, token_hash=hash_token(current))
