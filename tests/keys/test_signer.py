"""The ES256 signer's tokens are ordinary JWS: joserfc and PyJWT verify them."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from joserfc import jws
from joserfc.jwk import ECKey

from sessile.keys.signer import ES256Signer


def test_tokens_verify_with_joserfc_and_pyjwt() -> None:
    key = ECKey.generate_key("P-256", private=True)
    token = ES256Signer("k1", key, typ="at+jwt").sign({"sub": "usr_1", "n": 1})
    verified = jws.deserialize_compact(token, key, algorithms=["ES256"])
    assert verified.headers() == {"alg": "ES256", "typ": "at+jwt", "kid": "k1"}
    assert json.loads(verified.payload) == {"sub": "usr_1", "n": 1}
    public_pem = key.as_pem(private=False)
    assert pyjwt.decode(token, public_pem, algorithms=["ES256"]) == {"sub": "usr_1", "n": 1}


def test_another_key_does_not_verify() -> None:
    token = ES256Signer("k1", ECKey.generate_key("P-256", private=True), typ="at+jwt").sign({})
    other = ECKey.generate_key("P-256", private=True)
    with pytest.raises(Exception, match="signature"):
        jws.deserialize_compact(token, other, algorithms=["ES256"])


@pytest.mark.parametrize("curve", ["P-384", "P-521"])
def test_only_p256_keys(curve: str) -> None:
    with pytest.raises(ValueError, match="P-256"):
        ES256Signer("k1", ECKey.generate_key(curve, private=True), typ="at+jwt")
