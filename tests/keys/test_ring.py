from __future__ import annotations

import jwt as pyjwt
import pytest

from sessile.access_tokens import AccessTokens
from sessile.clock import FixedClock
from sessile.crypto import DecryptionError
from sessile.keys import KeyRing
from sessile.store.database import Database

SECRET = b"k" * 48
TTL = 300
DELAY = 600


def _ring(database: Database, clock: FixedClock, secret: bytes = SECRET) -> KeyRing:
    return KeyRing(
        database.keys,
        secret,
        clock,
        token_lifetime=TTL,
        publish_delay=DELAY,
        rotation_interval=30 * 86400,
        reload_interval=0,
    )


def _tokens(ring: KeyRing, clock: FixedClock) -> AccessTokens:
    return AccessTokens(ring, clock, issuer="https://auth.example", audience="app", ttl=TTL)


def _pyjwt_verify(token: str, jwks: list[dict[str, object]], now: float) -> dict[str, object]:
    keyset = pyjwt.PyJWKSet.from_dict({"keys": jwks})
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in keyset.keys if k.key_id == kid)
    claims: dict[str, object] = pyjwt.decode(
        token,
        key.key,
        algorithms=["ES256"],
        audience="app",
        issuer="https://auth.example",
        options={"verify_exp": False},
    )
    assert claims["exp"] > now  # type: ignore[operator]
    return claims


async def test_rotation_publishes_before_signing_and_keeps_old_key_while_tokens_live(
    database: Database,
) -> None:
    clock = FixedClock(1_000_000.0)
    ring = _ring(database, clock)
    tokens = _tokens(ring, clock)
    await ring.ensure()
    [first] = ring.all_keys()
    old_token, _ = await tokens.issue(user_id="usr_1", session_id="ses_1")
    assert pyjwt.get_unverified_header(old_token)["kid"] == first.kid

    new = await ring.rotate()
    published = {k["kid"] for k in await ring.published()}
    assert published == {first.kid, new.kid}, "the new key is published at once"
    clock.advance(DELAY - 10)
    still_old, _ = await tokens.issue(user_id="usr_1", session_id="ses_1")
    assert pyjwt.get_unverified_header(still_old)["kid"] == first.kid, "but does not sign yet"

    clock.advance(10)
    new_token, _ = await tokens.issue(user_id="usr_1", session_id="ses_2")
    assert pyjwt.get_unverified_header(new_token)["kid"] == new.kid
    jwks = await ring.published()
    assert {k["kid"] for k in jwks} == {first.kid, new.kid}, (
        "the old key stays while its tokens live"
    )
    # A token from each key verifies against the published JWKS with PyJWT.
    assert _pyjwt_verify(still_old, jwks, clock.now())["sid"] == "ses_1"
    assert _pyjwt_verify(new_token, jwks, clock.now())["sid"] == "ses_2"
    # sessile's own verification agrees.
    assert (await tokens.verify(still_old)).sid == "ses_1"

    clock.advance(TTL + 61)
    assert {k["kid"] for k in await ring.published()} == {new.kid}, (
        "gone once its last token expired"
    )
    await ring.ensure()
    assert [k.kid for k in ring.all_keys()] == [new.kid]


async def test_access_token_claims(database: Database) -> None:
    clock = FixedClock(2_000_000.0)
    ring = _ring(database, clock)
    await ring.ensure()
    token, exp = await _tokens(ring, clock).issue(user_id="usr_1", session_id="ses_1")
    header = pyjwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    claims = _pyjwt_verify(token, await ring.published(), clock.now())
    assert claims["iss"] == "https://auth.example"
    assert claims["aud"] == "app"
    assert claims["sub"] == "usr_1"
    assert claims["iat"] == claims["nbf"] == 2_000_000
    assert claims["exp"] == exp == 2_000_000 + TTL
    assert isinstance(claims["jti"], str)
    assert claims["scope"] == "session"


async def test_scheduled_rotation(database: Database) -> None:
    clock = FixedClock(3_000_000.0)
    ring = _ring(database, clock)
    await ring.ensure()
    await ring.ensure()
    assert len(ring.all_keys()) == 1
    clock.advance(30 * 86400)
    await ring.ensure()
    assert len(ring.all_keys()) == 2


async def test_emergency_rotation_signs_at_once(database: Database) -> None:
    clock = FixedClock(4_000_000.0)
    ring = _ring(database, clock)
    await ring.ensure()
    new = await ring.rotate(immediately=True)
    token, _ = await _tokens(ring, clock).issue(user_id="usr_1", session_id="ses_1")
    assert pyjwt.get_unverified_header(token)["kid"] == new.kid


async def test_two_rings_on_one_database_share_keys(database: Database) -> None:
    clock = FixedClock(5_000_000.0)
    one, two = _ring(database, clock), _ring(database, clock)
    await one.ensure()
    await two.ensure()
    assert [k.kid for k in one.all_keys()] == [k.kid for k in two.all_keys()]
    token, _ = await _tokens(one, clock).issue(user_id="usr_1", session_id="ses_1")
    assert (await _tokens(two, clock).verify(token)).sub == "usr_1"


async def test_private_keys_are_encrypted_under_the_server_secret(database: Database) -> None:
    clock = FixedClock(6_000_000.0)
    await _ring(database, clock).ensure()
    [row] = await database.keys.all("ES256")
    assert '"d"' not in row.private_jwk_encrypted
    assert "d" not in row.public_jwk
    other = _ring(database, clock, secret=b"z" * 48)
    await other.reload()
    with pytest.raises(DecryptionError):
        await other.signing_key()
