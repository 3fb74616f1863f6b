"""Random and mutated headers never yield anything but a documented DPoP error."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessile.clock import FixedClock
from sessile.dpop import NonceIssuer, ProofPolicy, ValidatedProof, check_proof
from sessile.errors import DPoPKeyMismatch, InvalidDPoPProof, MissingDPoPProof, UseDPoPNonce
from tests.dpop.conftest import T0
from tests.dpop.proofs import URL, ProofKey, b64json

DOCUMENTED = (InvalidDPoPProof, MissingDPoPProof, UseDPoPNonce, DPoPKeyMismatch)
CLOCK = FixedClock(T0)
NONCES = NonceIssuer(b"f" * 32)
KEY = ProofKey()
HEADER = KEY.header()
CLAIMS = {"jti": "fuzz", "htm": "POST", "htu": URL, "iat": int(T0), "nonce": NONCES.issue(T0)}
VALID = KEY.sign(HEADER, CLAIMS)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def outcome(headers: list[str]) -> ValidatedProof | None:
    """Run the checks; None when the proof is refused with a documented error."""
    try:
        return check_proof(
            headers,
            method="POST",
            url=URL,
            clock=CLOCK,
            nonces=NONCES,
            policy=ProofPolicy(),
        )
    except DOCUMENTED:
        return None


def decoded(value: str) -> list[bytes]:
    return [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in value.split(".")]


def test_the_unmutated_proof_is_valid() -> None:
    assert outcome([VALID]) is not None


@FUZZ
@given(st.lists(st.text(max_size=300), max_size=3))
def test_random_text(headers: list[str]) -> None:
    assert outcome(headers) is None


@FUZZ
@given(st.from_regex(r"\A[A-Za-z0-9_=+/-]{0,200}\.[A-Za-z0-9_-]{0,200}\.[A-Za-z0-9_-]{0,120}\Z"))
def test_random_jws_shapes(value: str) -> None:
    assert outcome([value]) is None


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.characters(codec="ascii"))
def test_flipped_character(index: int, char: str) -> None:
    mutated = VALID[:index] + char + VALID[index + 1 :]
    if outcome([mutated]) is not None:
        # Only a change base64 ignores (spare bits of the last character) may pass.
        assert decoded(mutated) == decoded(VALID)


@FUZZ
@given(st.permutations(VALID.split(".")), st.integers(0, 3))
def test_swapped_or_dropped_segments(segments: list[str], drop: int) -> None:
    if segments == VALID.split(".") and drop == 3:
        return
    if drop < 3:
        segments = segments[:drop] + segments[drop + 1 :]
    assert outcome([".".join(segments)]) is None


def _mutate(document: dict[str, Any], data: st.DataObject, names: list[str]) -> dict[str, Any]:
    mutated = dict(document)
    name = data.draw(st.sampled_from([*names, "extra"]))
    if data.draw(st.booleans()) and name in mutated:
        del mutated[name]
    else:
        mutated[name] = data.draw(json_values)
    return mutated


@FUZZ
@given(st.data())
def test_altered_header_re_signed(data: st.DataObject) -> None:
    header = _mutate(HEADER, data, ["typ", "alg", "jwk", "crit", "kid", "b64"])
    result = outcome([KEY.sign(header, CLAIMS)])
    if result is not None:  # Only harmless changes pass, with the proof's own key.
        assert header["typ"] == "dpop+jwt"
        assert header["alg"] == "ES256"
        assert dict(result.jwk) == header["jwk"]
        assert "crit" not in header


@FUZZ
@given(st.data())
def test_altered_claims_re_signed(data: st.DataObject) -> None:
    claims = _mutate(CLAIMS, data, ["jti", "htm", "htu", "iat", "nonce"])
    result = outcome([KEY.sign(HEADER, claims)])
    if result is not None:
        assert (result.htm, result.htu, result.nonce) == ("POST", URL, CLAIMS["nonce"])
        assert isinstance(claims["jti"], str)
        assert result.jti == claims["jti"]


@FUZZ
@given(st.data())
def test_altered_claims_not_re_signed(data: st.DataObject) -> None:
    claims = _mutate(CLAIMS, data, ["jti", "htm", "htu", "iat", "nonce"])
    head, _, signature = VALID.split(".")
    mutated = f"{head}.{b64json(claims)}.{signature}"
    result = outcome([mutated])
    if result is not None:
        assert json.loads(decoded(mutated)[1]) == CLAIMS
