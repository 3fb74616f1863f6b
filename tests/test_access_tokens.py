"""Access tokens: what sessile signs, and what its own check (``/me``, the management of a
session) accepts: its typ, alg and key, the claim rules of sessile.verify, and grants."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc import jwt

from sessile.access_tokens import AccessTokens
from sessile.clock import FixedClock
from sessile.errors import BadRequest, Unauthorized
from sessile.keys import KeyRing
from sessile.store.database import Database

NOW = 2_000_000.0
TTL = 300


async def _tokens(database: Database, clock: FixedClock) -> tuple[AccessTokens, KeyRing]:
    ring = KeyRing(
        database.keys,
        b"k" * 48,
        clock,
        token_lifetime=TTL,
        publish_delay=600,
        rotation_interval=30 * 86400,
        reload_interval=0,
    )
    await ring.ensure()
    tokens = AccessTokens(ring, clock, issuer="https://auth.example", audience="app", ttl=TTL)
    return tokens, ring


async def _signed(ring: KeyRing, header: dict[str, Any], claims: dict[str, Any]) -> str:
    kid, key = await ring.signing_key()
    return jwt.encode({"alg": "ES256", "kid": kid, **header}, claims, key, algorithms=["ES256"])


def _claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": "https://auth.example",
        "aud": "app",
        "sub": "usr_1",
        "sid": "ses_1",
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + TTL,
        "jti": "j",
        "scope": "session",
    }
    return {**base, **changes}


async def test_an_issued_token_verifies(database: Database) -> None:
    clock = FixedClock(NOW)
    tokens, _ = await _tokens(database, clock)
    token, exp = await tokens.issue(user_id="usr_1", session_id="ses_1")
    claims = await tokens.verify(token)
    assert (claims.sub, claims.sid, claims.exp, exp) == ("usr_1", "ses_1", exp, NOW + TTL)
    clock.advance(TTL + 31)  # past the 30 s leeway
    with pytest.raises(Unauthorized):
        await tokens.verify(token)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"typ": "JWT"}, "wrong type or algorithm"),
        ({}, "wrong type or algorithm"),
        ({"typ": "at+jwt", "kid": ""}, "unknown key"),
        ({"typ": "at+jwt", "kid": "kid-nobody-has"}, "unknown key"),
    ],
)
async def test_the_header_is_checked(
    database: Database, header: dict[str, Any], message: str
) -> None:
    tokens, ring = await _tokens(database, FixedClock(NOW))
    token = await _signed(ring, header, _claims())
    with pytest.raises(Unauthorized, match=message):
        await tokens.verify(token)


async def test_the_claim_rules_are_sessile_verifys(database: Database) -> None:
    tokens, ring = await _tokens(database, FixedClock(NOW))
    for claims in (_claims(iss="https://evil.example"), _claims(aud="other"), _claims(exp=1)):
        with pytest.raises(Unauthorized, match="invalid or expired"):
            await tokens.verify(await _signed(ring, {"typ": "at+jwt"}, claims))
    with pytest.raises(Unauthorized, match="malformed"):
        await tokens.verify("not.a.token")


async def test_a_grant_joins_the_scope_and_caps_the_lifetime(database: Database) -> None:
    tokens, _ = await _tokens(database, FixedClock(NOW))
    token, exp = await tokens.issue(
        user_id="usr_1", session_id="ses_1", granted_scope="prld:pwd:write", granted_until=NOW + 60
    )
    assert exp == NOW + 60
    assert (await tokens.verify(token)).scopes == frozenset({"session", "prld:pwd:write"})
    ended, _ = await tokens.issue(
        user_id="usr_1", session_id="ses_1", granted_scope="prld:pwd:write", granted_until=NOW
    )
    assert (await tokens.verify(ended)).scopes == frozenset({"session"})


async def test_a_minted_token_is_marked_and_capped(database: Database) -> None:
    tokens, ring = await _tokens(database, FixedClock(NOW))
    token, exp = await tokens.mint({"sub": "svc"}, ttl=600)
    _, key = await ring.signing_key()
    claims = jwt.decode(token, key).claims
    assert (claims["minted"], claims["sub"], claims["sid"]) == (True, "svc", "minted")
    assert exp == claims["exp"] == NOW + 600
    # Past 24 hours away, exp is capped (Prelude's rule), not refused.
    _, capped = await tokens.mint({"exp": int(NOW) + 86_401}, ttl=60)
    assert capped == NOW + 86_400
    with pytest.raises(BadRequest):
        await tokens.mint({"exp": int(NOW) - 1}, ttl=60)


async def test_sessiles_own_check_refuses_a_minted_token(database: Database) -> None:
    """Whatever else it says: a minted token stands for no session."""
    tokens, ring = await _tokens(database, FixedClock(NOW))
    minted, _ = await tokens.mint({"sub": "usr_1"})
    with pytest.raises(Unauthorized, match="minted"):
        await tokens.verify(minted)
    # The mark alone decides, as in sessile.verify: any value, on otherwise good claims.
    for mark in (True, False, None, "no"):
        signed = await _signed(ring, {"typ": "at+jwt"}, _claims(minted=mark))
        with pytest.raises(Unauthorized, match="minted"):
            await tokens.verify(signed)


@pytest.mark.parametrize(
    "claims",
    [
        {"sid": "ses_1"},
        {"scope": "session prld:pwd:write"},
        {"cc": {}},
        {"minted": False},
        {"iss": "https://auth.example"},
        {"aud": "app"},
        {"cnf": {"jkt": "x"}},
        {"email_verified": True},
        {"challenge_id": "stp_1"},
    ],
)
async def test_a_minted_token_cannot_carry_a_reserved_claim(
    database: Database, claims: dict[str, Any]
) -> None:
    tokens, _ = await _tokens(database, FixedClock(NOW))
    with pytest.raises(BadRequest, match=next(iter(claims))):
        await tokens.mint({"sub": "usr_1", **claims})


async def test_a_minted_token_takes_the_subject_times_and_id_it_is_given(
    database: Database,
) -> None:
    tokens, ring = await _tokens(database, FixedClock(NOW))
    given = {"sub": "usr_9", "iat": int(NOW) - 5, "nbf": int(NOW) - 5, "jti": "mine", "x": 1}
    token, _ = await tokens.mint(given, user_claims={"sub": "usr_1", "cc": {}, "tier": "gold"})
    _, key = await ring.signing_key()
    claims = jwt.decode(token, key).claims
    assert {name: claims[name] for name in given} == given
    # The claims mapping's (cc among them) come from sessile, under the caller's.
    assert (claims["cc"], claims["tier"]) == ({}, "gold")
    assert (claims["sid"], claims["scope"], claims["aud"]) == ("minted", "session", "app")
