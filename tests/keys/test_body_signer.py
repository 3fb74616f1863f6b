"""``BodySigner``: RSASSA-PSS-SHA256 body signatures with keys of their own ring, checked
here with ``cryptography`` alone against the published JWK, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from joserfc.jwk import ECKey

from sessile.clock import FixedClock
from sessile.crypto import DecryptionError
from sessile.keys import BodyKeyRing, BodySignature, BodySigner, KeyRing
from sessile.keys.body_signer import RETIRED_BODY_KEY_LINGER
from sessile.store.database import Database

SECRET = b"k" * 48
DELAY = 600
BODY = b'{"app_id":"default","events":[]}'


def _body_ring(database: Database, clock: FixedClock, secret: bytes = SECRET) -> BodyKeyRing:
    return BodyKeyRing(
        database.keys,
        secret,
        clock,
        publish_delay=DELAY,
        rotation_interval=30 * 86400,
        reload_interval=0,
    )


def _token_ring(database: Database, clock: FixedClock) -> KeyRing:
    return KeyRing(
        database.keys,
        SECRET,
        clock,
        token_lifetime=300,
        publish_delay=DELAY,
        rotation_interval=30 * 86400,
        reload_interval=0,
    )


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    n, e = (int.from_bytes(_b64url(jwk[name]), "big") for name in ("n", "e"))
    return rsa.RSAPublicNumbers(e, n).public_key()


def _verifies(signed: BodySignature, jwks: list[dict[str, Any]], body: bytes, salt: int) -> bool:
    jwk = next((k for k in jwks if k["kid"] == signed.kid), None)
    if jwk is None:
        return False
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
    try:
        _public_key(jwk).verify(_b64url(signed.signature), body, pss, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


async def test_a_signature_verifies_with_the_published_key_as_ps256(database: Database) -> None:
    clock = FixedClock(1_000_000.0)
    ring = _body_ring(database, clock)
    await ring.ensure()
    assert await ring.published() == [], "no key until something needs a signature"

    signed = await BodySigner(ring).sign(BODY)
    [jwk] = await ring.published()
    assert {k: jwk[k] for k in ("kty", "alg", "use", "kid")} == {
        "kty": "RSA",
        "alg": "PS256",
        "use": "sig",
        "kid": signed.kid,
    }
    assert not {"d", "p", "q", "dp", "dq", "qi"} & jwk.keys()
    assert "=" not in signed.signature
    assert "+" not in signed.signature
    assert len(_b64url(signed.signature)) == 256, "RSA 2048"
    assert _verifies(signed, [jwk], BODY, salt=32), "salt as long as the digest (PS256)"
    assert _verifies(signed, [jwk], BODY, salt=padding.PSS.AUTO), "a detecting receiver agrees"
    assert not _verifies(signed, [jwk], BODY + b" ", salt=32)
    row = (await database.keys.all("PS256"))[0]
    assert '"d"' not in row.private_jwk_encrypted


async def test_rotation_publishes_first_and_keeps_the_retired_key_for_late_checks(
    database: Database,
) -> None:
    clock = FixedClock(2_000_000.0)
    ring = _body_ring(database, clock)
    signer = BodySigner(ring)
    first = await signer.sign(BODY)

    new = await ring.rotate()
    assert {k["kid"] for k in await ring.published()} == {first.kid, new.kid}
    clock.advance(DELAY - 1)
    assert (await signer.sign(BODY)).kid == first.kid, "published, but not signing yet"
    clock.advance(1)
    late_old = first
    current = await signer.sign(BODY)
    assert current.kid == new.kid

    clock.advance(RETIRED_BODY_KEY_LINGER - 1)
    await ring.ensure()
    jwks = await ring.published()
    assert _verifies(late_old, jwks, BODY, salt=32), "the retired key is still published"
    clock.advance(2)
    await ring.ensure()
    assert [k["kid"] for k in await ring.published()] == [new.kid]
    assert [k.kid for k in await database.keys.all("PS256")] == [new.kid]


async def test_the_token_ring_never_sees_the_body_keys(database: Database) -> None:
    clock = FixedClock(3_000_000.0)
    tokens = _token_ring(database, clock)
    await tokens.ensure()
    clock.advance(10)
    body = _body_ring(database, clock)
    await BodySigner(body).sign(BODY)
    await body.rotate(immediately=True)
    await tokens.ensure()

    kid, key = await tokens.signing_key()
    assert isinstance(key, ECKey)
    assert [k["alg"] for k in await tokens.published()] == ["ES256"]
    assert all(k["alg"] == "PS256" for k in await body.published())
    assert await tokens.public_key((await body.published())[0]["kid"]) is None
    assert kid == tokens.all_keys()[0].kid


async def test_two_nodes_sign_with_one_key(database: Database) -> None:
    clock = FixedClock(4_000_000.0)
    one, two = _body_ring(database, clock), _body_ring(database, clock)
    first = await BodySigner(one).sign(BODY)
    second = await BodySigner(two).sign(BODY)
    assert first.kid == second.kid
    assert len(await database.keys.all("PS256")) == 1


async def test_a_ring_rotated_while_empty_signs_with_the_new_key_at_once(
    database: Database,
) -> None:
    clock = FixedClock(5_000_000.0)
    ring = _body_ring(database, clock)
    await ring.reload()
    made = await ring.rotate()
    assert (await BodySigner(ring).sign(BODY)).kid == made.kid


async def test_another_server_secret_cannot_sign(database: Database) -> None:
    clock = FixedClock(6_000_000.0)
    await BodySigner(_body_ring(database, clock)).sign(BODY)
    with pytest.raises(DecryptionError):
        await BodySigner(_body_ring(database, clock, secret=b"z" * 48)).sign(BODY)


async def test_a_first_key_made_on_another_node_is_published_at_once(database: Database) -> None:
    """The first body key signs as soon as it is made, so a node whose ring is still empty
    looks for it when asked for the JWKS, not only at its next reload."""
    import asyncio

    clock = FixedClock(1_000.0)
    here = BodyKeyRing(database.keys, SECRET, clock, publish_delay=DELAY, rotation_interval=86400)
    elsewhere = BodySigner(_body_ring(database, clock))
    assert await here.published() == []
    signed = await elsewhere.sign(BODY)
    await asyncio.sleep(1.05)
    published = await here.published()
    assert _verifies(signed, published, BODY, salt=32)
