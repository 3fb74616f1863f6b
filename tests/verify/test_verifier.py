"""The verifier against a real server's tokens, and against forgeries of them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.jwk import ECKey

from sessile.clock import FixedClock
from sessile.verify import (
    AsyncVerifier,
    BadSignature,
    Claims,
    ExpiredToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidToken,
    TokenError,
    TokenNotYetValid,
    UnknownKey,
    UnsupportedAlgorithm,
    Verifier,
)
from tests.live import LiveServer
from tests.verify.keys import AUDIENCE, ISSUER, LocalIssuer, b64url, unsigned


def _parts(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    return _json(header), _json(payload), signature


def _json(part: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def _public_pem(server: LiveServer, kid: str) -> bytes:
    jwks = pyjwt.PyJWKClient(server.url + "/.well-known/jwks.json").get_jwk_set()
    jwk = next(k for k in jwks.keys if k.key_id == kid)
    return jwk.key.public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_accepts_a_real_token(server: LiveServer, access_token: str) -> None:
    claims = Verifier(server.url, "default").verify(access_token)
    assert isinstance(claims, Claims)
    assert claims.sub.startswith("usr_")
    assert claims.sid.startswith("ses_")
    assert claims.scope == "session"
    assert claims.scopes == {"session"}
    assert claims.iss == server.url
    assert claims.aud == ("default",)
    assert claims.exp - claims.iat == 300
    assert claims.jti
    assert dict(claims.raw)["sub"] == claims.sub
    assert dict(claims.extra) == {"cc": {}}  # custom claims: none configured


async def test_async_verifier_accepts_a_real_token(server: LiveServer, access_token: str) -> None:
    claims = await AsyncVerifier(server.url, "default").verify(access_token)
    assert claims.sid.startswith("ses_")


def test_rejects_hs256_signed_with_the_public_key(server: LiveServer, access_token: str) -> None:
    header, payload, _ = _parts(access_token)
    pem = _public_pem(server, str(header["kid"]))
    signing_input = unsigned({**header, "alg": "HS256"}, payload)
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    forged = signing_input + "." + b64url(mac)
    with pytest.raises(UnsupportedAlgorithm) as caught:
        Verifier(server.url, "default").verify(forged)
    assert caught.value.code == "unsupported_algorithm"
    assert caught.value.alg == "HS256"


def test_rejects_alg_none(server: LiveServer, access_token: str) -> None:
    header, payload, _ = _parts(access_token)
    for alg in ("none", "None", "NONE"):
        with pytest.raises(UnsupportedAlgorithm):
            Verifier(server.url, "default").verify(unsigned({**header, "alg": alg}, payload) + ".")


def test_rejects_a_tampered_payload(server: LiveServer, access_token: str) -> None:
    header, payload, signature = _parts(access_token)
    tampered = unsigned(header, {**payload, "sub": "usr_someone_else"}) + "." + signature
    with pytest.raises(BadSignature) as caught:
        Verifier(server.url, "default").verify(tampered)
    assert caught.value.code == "invalid_signature"


def test_rejects_the_wrong_audience(server: LiveServer, access_token: str) -> None:
    with pytest.raises(InvalidAudience) as caught:
        Verifier(server.url, "billing").verify(access_token)
    assert caught.value.code == "invalid_audience"
    assert caught.value.audience == "default"
    # Any one of several accepted audiences will do.
    assert Verifier(server.url, ["billing", "default"]).verify(access_token).aud == ("default",)


def test_rejects_the_wrong_issuer(server: LiveServer, access_token: str) -> None:
    impostor = Verifier(
        "https://impostor.example", "default", jwks_url=server.url + "/.well-known/jwks.json"
    )
    with pytest.raises(InvalidIssuer) as caught:
        impostor.verify(access_token)
    assert caught.value.issuer == server.url


def test_expiry_respects_the_leeway(issuer: LocalIssuer) -> None:
    clock = FixedClock()
    verifier = Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks, leeway=30, clock=clock)
    token = issuer.mint(exp=int(clock.now()) - 20)
    assert verifier.verify(token).sub == "usr_local"
    clock.advance(10)
    with pytest.raises(ExpiredToken) as caught:
        verifier.verify(token)
    assert caught.value.code == "expired_token"
    strict = Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks, leeway=0, clock=clock)
    with pytest.raises(ExpiredToken):
        strict.verify(issuer.mint(exp=int(clock.now()) - 1))


def test_not_before_and_issued_at_in_the_future(issuer: LocalIssuer) -> None:
    clock = FixedClock(1_800_000_000.0)
    verifier = Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks, leeway=30, clock=clock)
    later = 1_800_000_000 + 60
    with pytest.raises(TokenNotYetValid):
        verifier.verify(issuer.mint(nbf=later, iat=1_800_000_000, exp=later + 300))
    with pytest.raises(TokenNotYetValid):
        verifier.verify(issuer.mint(nbf=None, iat=later, exp=later + 300))
    clock.advance(31)
    assert verifier.verify(issuer.mint(nbf=later, iat=later, exp=later + 300)).nbf == later


def test_unknown_kid(issuer: LocalIssuer) -> None:
    stranger = LocalIssuer(kid="not-published")
    with pytest.raises(UnknownKey) as caught:
        Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(stranger.mint())
    assert caught.value.kid == "not-published"
    assert caught.value.code == "unknown_key"


def test_a_token_signed_by_another_key_under_a_known_kid(issuer: LocalIssuer) -> None:
    impostor = LocalIssuer(kid=issuer.kid)
    with pytest.raises(BadSignature):
        Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(impostor.mint())


@pytest.mark.parametrize("typ", [None, "JWT", "dpop+jwt", "at+JWT+x"])
def test_typ_must_be_at_jwt(issuer: LocalIssuer, typ: str | None) -> None:
    header = {"alg": "ES256", "kid": issuer.kid} | ({"typ": typ} if typ else {})
    token = jws.serialize_compact(header, json.dumps(issuer.claims()), issuer.key)
    with pytest.raises(InvalidToken, match="typ"):
        Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(token)


def test_the_media_type_form_of_typ_is_accepted(issuer: LocalIssuer) -> None:
    token = issuer.mint({"typ": "application/at+jwt"})
    assert Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(token).sub == "usr_local"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", None),
        ("sid", None),
        ("jti", None),
        ("exp", None),
        ("iat", None),
        ("exp", "soon"),
        ("exp", True),
        ("sub", 42),
    ],
)
def test_required_claims(issuer: LocalIssuer, claim: str, value: object) -> None:
    with pytest.raises(InvalidClaim) as caught:
        Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(issuer.mint(**{claim: value}))
    assert caught.value.claim == claim


def test_nan_exp_is_not_forever(issuer: LocalIssuer) -> None:
    payload = json.dumps({**issuer.claims(), "exp": float("nan")}).encode()
    assert b"NaN" in payload
    header = {"alg": "ES256", "typ": "at+jwt", "kid": issuer.kid}
    token = jws.serialize_compact(header, payload, issuer.key)
    with pytest.raises(InvalidClaim):
        Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(token)


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "x" * 10_000, "é.é.é", "...."])
def test_malformed_tokens(issuer: LocalIssuer, garbage: str) -> None:
    with pytest.raises(TokenError) as caught:
        Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(garbage)
    assert caught.value.status == 401


def test_a_key_is_bound_to_its_alg(issuer: LocalIssuer) -> None:
    jwks = {"keys": [{**issuer.jwk, "alg": "ES384"}]}
    verifier = Verifier(ISSUER, AUDIENCE, jwks=jwks, algorithms=("ES256", "ES384"))
    with pytest.raises(UnsupportedAlgorithm):
        verifier.verify(issuer.mint())


@pytest.mark.parametrize("algorithms", [("HS256",), ("none",), ("ES256", "HS512"), ()])
def test_symmetric_and_none_algorithms_cannot_be_allowed(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="algorithms"):
        Verifier(ISSUER, AUDIENCE, jwks={"keys": []}, algorithms=algorithms)


def test_an_oct_key_in_the_jwks_is_ignored(issuer: LocalIssuer) -> None:
    secret = b"s" * 32
    jwks = {"keys": [{"kty": "oct", "kid": "hmac", "k": b64url(secret)}]}
    signing_input = unsigned({"alg": "ES256", "typ": "at+jwt", "kid": "hmac"}, issuer.claims())
    with pytest.raises(UnknownKey):
        Verifier(ISSUER, AUDIENCE, jwks=jwks).verify(signing_input + "." + b64url(b"x" * 64))


def test_custom_claims_land_in_extra(issuer: LocalIssuer) -> None:
    claims = Verifier(ISSUER, AUDIENCE, jwks=issuer.jwks).verify(issuer.mint(plan="pro", org="o1"))
    assert dict(claims.extra) == {"plan": "pro", "org": "o1"}
    assert claims.raw["plan"] == "pro"
    with pytest.raises(TypeError):
        claims.extra["plan"] = "free"  # type: ignore[index]
    assert hash(claims) == hash(claims)


def test_public_key_import_rejects_private_members(issuer: LocalIssuer) -> None:
    # A JWKS that leaks a private key still only yields a public key to verify with.
    private = {**issuer.key.as_dict(private=True), "kid": issuer.kid, "alg": "ES256"}
    verifier = Verifier(ISSUER, AUDIENCE, jwks={"keys": [private]})
    assert verifier.verify(issuer.mint()).sub == "usr_local"
    assert not ECKey.import_key(issuer.jwk).is_private
