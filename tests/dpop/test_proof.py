"""Every rule of DESIGN §3 / RFC 9449 §4.3, each with the wire code a breach gets."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from sessile.clock import FixedClock
from sessile.dpop import NonceIssuer, ProofPolicy
from sessile.errors import DPoPError
from tests.dpop.conftest import T0, SpyReplayStore, Validator
from tests.dpop.proofs import URL, ProofKey, b64, b64json, rfc7638

VECTORS = Path(__file__).parent.parent / "vectors"
NO_NONCE = ProofPolicy(nonce_required=False)


async def rejected(validator: Validator, headers: list[str], code: str, **kwargs: Any) -> None:
    """The proof fails with ``code`` and leaves the replay store untouched."""
    with pytest.raises(DPoPError) as caught:
        await validator(headers, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert validator.replay.calls == []
    assert validator.replay.records == {}


# --- accepted proofs -------------------------------------------------------------------


async def test_valid_proof_with_nonce(validator: Validator, key: ProofKey) -> None:
    nonce = validator.nonce()
    proof = await validator([key.proof(iat=T0, nonce=nonce, jti="j-1")])
    assert proof.jkt == rfc7638(key.public_jwk)
    assert (proof.jti, proof.iat, proof.nonce, proof.htm, proof.htu) == (
        "j-1",
        T0,
        nonce,
        "POST",
        URL,
    )
    assert dict(proof.jwk) == key.public_jwk
    # The nonce of step s is accepted through step s+2: the pair is kept that long.
    assert proof.expires_at == T0 + 180
    assert validator.replay.records == {(proof.jkt, "j-1"): T0 + 180}


async def test_valid_proof_without_nonce_when_not_required(
    validator: Validator, key: ProofKey
) -> None:
    proof = await validator([key.proof(iat=T0 - 10)], policy=NO_NONCE)
    assert proof.nonce is None
    assert proof.expires_at == T0 - 10 + 60


async def test_rfc9449_example_proof() -> None:
    """The proof of RFC 9449 §4.1, Figure 3, at the time it was made."""
    clock = FixedClock(1_562_262_616)
    validator = Validator(
        clock=clock,
        nonces=NonceIssuer(b"x" * 32),
        replay=SpyReplayStore(),
        policy=NO_NONCE,
    )
    token = (VECTORS / "rfc9449_4.1_proof.txt").read_text().strip()
    proof = await validator([token], url="https://server.example.com/token")
    assert proof.jti == "-BwC3ESc6acc2lTc"
    assert proof.htu == "https://server.example.com/token"
    assert proof.jkt == rfc7638(dict(proof.jwk))


@pytest.mark.parametrize(
    "htu",
    [
        URL + "?x=1",
        URL + "#frag",
        "HTTPS://Sessile.TEST:443/v1/session/refresh",
        "https://sessile.test/v1/./session/x/../%72efresh",
    ],
)
async def test_htu_equal_after_normalisation(validator: Validator, key: ProofKey, htu: str) -> None:
    proof = await validator([key.proof(iat=T0, nonce=validator.nonce(), htu=htu)])
    assert proof.htu == htu


async def test_allowed_es384_when_configured(validator: Validator) -> None:
    key = ProofKey("ES384")
    policy = ProofPolicy(algorithms=frozenset({"ES256", "ES384"}))
    await validator([key.proof(iat=T0, nonce=validator.nonce())], policy=policy)


async def test_the_proof_names_its_key_s_thumbprint(validator: Validator, key: ProofKey) -> None:
    proof = await validator([key.proof(iat=T0, nonce=validator.nonce())])
    assert proof.jkt == rfc7638(key.public_jwk)


async def test_rejected_proof_does_not_burn_its_jti(validator: Validator, key: ProofKey) -> None:
    await rejected(validator, [key.proof(iat=T0, jti="same")], "use_dpop_nonce")
    await rejected(
        validator,
        [key.proof(iat=T0, jti="same", htm="GET", nonce=validator.nonce())],
        "invalid_dpop_proof",
    )
    await validator([key.proof(iat=T0, jti="same", nonce=validator.nonce())])


# --- the header ------------------------------------------------------------------------


async def test_no_header(validator: Validator) -> None:
    await rejected(validator, [], "missing_dpop_proof")
    await rejected(validator, ["  "], "missing_dpop_proof")


async def test_two_headers(validator: Validator, key: ProofKey) -> None:
    a = key.proof(iat=T0, nonce=validator.nonce())
    b = key.proof(iat=T0, nonce=validator.nonce())
    await rejected(validator, [a, b], "invalid_dpop_proof")
    await rejected(validator, [f"{a}, {b}"], "invalid_dpop_proof")


@pytest.mark.parametrize(
    "value",
    ["abc", "a.b", "a.b.c.d", "a.b.c", "!!!.???.***", "eyJ9.e30.", "é.é.é", "Bearer x.y.z"],
)
async def test_not_a_compact_jws(validator: Validator, value: str) -> None:
    await rejected(validator, [value], "invalid_dpop_proof")


async def test_header_too_large(validator: Validator, key: ProofKey) -> None:
    value = key.proof(iat=T0, nonce=validator.nonce(), padding="x" * 8192)
    await rejected(validator, [value], "invalid_dpop_proof")


# --- JOSE header, key and signature ----------------------------------------------------


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "DPoP+JWT", "dpop+jwt ", 1])
async def test_wrong_typ(validator: Validator, key: ProofKey, typ: Any) -> None:
    header = key.header(typ=typ)  # typ=None leaves it out
    await rejected(validator, [key.sign(header, _claims(validator))], "invalid_dpop_proof")


async def test_alg_none(validator: Validator, key: ProofKey) -> None:
    header = key.header(alg="none")
    value = f"{b64json(header)}.{b64json(_claims(validator))}."
    await rejected(validator, [value], "invalid_dpop_proof")
    lax = ProofPolicy(algorithms=frozenset({"none", "ES256"}))
    await rejected(validator, [value], "invalid_dpop_proof", policy=lax)


async def test_alg_hs256_with_symmetric_key(validator: Validator) -> None:
    secret = b"s" * 32
    header = {"typ": "dpop+jwt", "alg": "HS256", "jwk": {"kty": "oct", "k": b64(secret)}}
    signing_input = f"{b64json(header)}.{b64json(_claims(validator))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    value = f"{signing_input}.{b64(mac)}"
    await rejected(validator, [value], "invalid_dpop_proof")
    lax = ProofPolicy(algorithms=frozenset({"HS256", "ES256"}))
    await rejected(validator, [value], "invalid_dpop_proof", policy=lax)


async def test_alg_outside_allow_list(validator: Validator) -> None:
    key = ProofKey("ES384")
    await rejected(validator, [key.proof(iat=T0, nonce=validator.nonce())], "invalid_dpop_proof")


async def test_alg_and_key_curve_disagree(validator: Validator) -> None:
    key = ProofKey("ES384")
    header = key.header(alg="ES256")
    await rejected(validator, [key.sign(header, _claims(validator))], "invalid_dpop_proof")


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "k"])
async def test_private_key_in_jwk(validator: Validator, key: ProofKey, member: str) -> None:
    jwk = {**key.public_jwk, member: key.private_d}
    value = key.sign(key.header(jwk=jwk), _claims(validator))
    await rejected(validator, [value], "invalid_dpop_proof")


@pytest.mark.parametrize("jwk", [None, "key", [], {}, {"kty": "EC"}, {"kty": "oct", "x": "y"}])
async def test_jwk_missing_or_unusable(validator: Validator, key: ProofKey, jwk: Any) -> None:
    header = key.header(jwk=jwk)  # jwk=None leaves it out
    await rejected(validator, [key.sign(header, _claims(validator))], "invalid_dpop_proof")


async def test_crit_header(validator: Validator, key: ProofKey) -> None:
    header = key.header(crit=["exp"], exp=1)
    await rejected(validator, [key.sign(header, _claims(validator))], "invalid_dpop_proof")


async def test_bad_signature(validator: Validator, key: ProofKey) -> None:
    other = ProofKey()
    forged = other.sign(key.header(), _claims(validator))
    await rejected(validator, [forged], "invalid_dpop_proof")
    head, payload, signature = key.proof(iat=T0, nonce=validator.nonce()).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[5] ^= 0x01
    await rejected(validator, [f"{head}.{payload}.{b64(bytes(raw))}"], "invalid_dpop_proof")
    other_claims = b64json(_claims(validator, jti="other"))
    await rejected(validator, [f"{head}.{other_claims}.{signature}"], "invalid_dpop_proof")


# --- claims ----------------------------------------------------------------------------


def _claims(validator: Validator, **changes: Any) -> dict[str, Any]:
    claims = {"jti": "jti-1", "htm": "POST", "htu": URL, "iat": int(T0), "nonce": validator.nonce()}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not _MISSING}


_MISSING = object()


@pytest.mark.parametrize(
    "changes",
    [
        {"jti": _MISSING},
        {"jti": 1},
        {"jti": ""},
        {"jti": "x" * 256},
        {"jti": None},
        {"jti": "a\x00b"},
        {"jti": "a\ud800b"},
        {"iat": _MISSING},
        {"iat": "1700000000"},
        {"iat": True},
        {"iat": None},
        {"iat": 10**400},
        {"htm": _MISSING},
        {"htm": 1},
        {"htm": ["POST"]},
        {"htu": _MISSING},
        {"htu": None},
        {"htu": {"url": URL}},
        {"nonce": 1},
        {"nonce": None},
    ],
    ids=repr,
)
async def test_missing_or_mistyped_claim(
    validator: Validator, key: ProofKey, changes: dict[str, Any]
) -> None:
    value = key.sign(key.header(), _claims(validator, **changes))
    await rejected(validator, [value], "invalid_dpop_proof")


@pytest.mark.parametrize("payload", [b"[]", b"not json", b'"jti"', b'{"iat": NaN}', b"\xff"])
async def test_payload_not_a_json_object(
    validator: Validator, key: ProofKey, payload: bytes
) -> None:
    value = key.sign_segments(b64json(key.header()), b64(payload))
    await rejected(validator, [value], "invalid_dpop_proof")


async def test_jti_of_maximum_length_is_accepted(validator: Validator, key: ProofKey) -> None:
    await validator([key.proof(iat=T0, nonce=validator.nonce(), jti="x" * 255)])


# --- htm and htu -----------------------------------------------------------------------


@pytest.mark.parametrize("htm", ["GET", "post", "PUT", ""])
async def test_wrong_htm(validator: Validator, key: ProofKey, htm: str) -> None:
    value = key.proof(iat=T0, nonce=validator.nonce(), htm=htm)
    await rejected(validator, [value], "invalid_dpop_proof")


@pytest.mark.parametrize(
    "htu",
    [
        "https://sessile.test/v1/session/revoke",
        "https://sessile.test/v1/session/refresh/",
        "https://evil.test/v1/session/refresh",
        "http://sessile.test/v1/session/refresh",
        "https://sessile.test:8443/v1/session/refresh",
        "https://user@sessile.test/v1/session/refresh",
        "https://sessile.test/v1/session%2Frefresh",
        "/v1/session/refresh",
        "https://sessile.test/v1/session/ref\tresh",
        "",
    ],
)
async def test_wrong_htu(validator: Validator, key: ProofKey, htu: str) -> None:
    value = key.proof(iat=T0, nonce=validator.nonce(), htu=htu)
    await rejected(validator, [value], "invalid_dpop_proof")


# --- freshness and nonces --------------------------------------------------------------


async def test_nonce_required(validator: Validator, key: ProofKey) -> None:
    await rejected(validator, [key.proof(iat=T0)], "use_dpop_nonce")


@pytest.mark.parametrize("iat", [T0 - 61, T0 - 3600, T0 + 6, T0 + 600])
async def test_iat_outside_window_without_nonce(
    validator: Validator, key: ProofKey, iat: float
) -> None:
    # With nonces off, a stale iat still gets a nonce to retry with (DESIGN §3.6).
    await rejected(validator, [key.proof(iat=iat)], "use_dpop_nonce", policy=NO_NONCE)


@pytest.mark.parametrize("iat", [T0 - 60, T0 + 5])
async def test_iat_at_the_window_edges(validator: Validator, key: ProofKey, iat: float) -> None:
    await validator([key.proof(iat=iat)], policy=NO_NONCE)


@pytest.mark.parametrize("iat", [T0 - 86_401, T0 + 86_401])
async def test_iat_outside_wide_bound_with_nonce(
    validator: Validator, key: ProofKey, iat: float
) -> None:
    value = key.proof(iat=iat, nonce=validator.nonce())
    await rejected(validator, [value], "invalid_dpop_proof")


async def test_valid_nonce_accepts_a_skewed_iat(validator: Validator, key: ProofKey) -> None:
    for skew in (-600, 600, -86_000):
        await validator([key.proof(iat=T0 + skew, nonce=validator.nonce())])


@pytest.mark.parametrize("nonce", ["unknown", "", "x" * 43, "é" * 43, "n" * 1000])
async def test_unknown_nonce(validator: Validator, key: ProofKey, nonce: str) -> None:
    await rejected(validator, [key.proof(iat=T0, nonce=nonce)], "use_dpop_nonce")
    await rejected(validator, [key.proof(iat=T0, nonce=nonce)], "use_dpop_nonce", policy=NO_NONCE)


async def test_expired_nonce(validator: Validator, clock: FixedClock, key: ProofKey) -> None:
    nonce = validator.nonce()
    clock.advance(179)
    await validator([key.proof(iat=clock.now(), nonce=nonce)])
    validator.replay.calls.clear()
    validator.replay.records.clear()
    clock.advance(1)
    await rejected(validator, [key.proof(iat=clock.now(), nonce=nonce)], "use_dpop_nonce")


# --- replay and binding ----------------------------------------------------------------


async def test_replayed_jti(validator: Validator, key: ProofKey) -> None:
    value = key.proof(iat=T0, nonce=validator.nonce())
    first = await validator([value])
    with pytest.raises(DPoPError) as caught:
        await validator([value])
    assert caught.value.code == "invalid_dpop_proof"
    assert validator.replay.records == {(first.jkt, first.jti): first.expires_at}
    # Another key may use the same jti.
    other = ProofKey()
    await validator([other.proof(iat=T0, nonce=validator.nonce(), jti=first.jti)])


async def test_endpoint_url_must_be_absolute(validator: Validator, key: ProofKey) -> None:
    # A server misconfiguration, not the client's fault: no DPoP error code for it.
    with pytest.raises(ValueError, match="endpoint URL"):
        await validator([key.proof(iat=T0, nonce=validator.nonce())], url="/v1/session/refresh")
    assert validator.replay.calls == []
