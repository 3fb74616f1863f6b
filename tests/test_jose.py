"""The JOSE header rules, the Bearer scheme and the challenge header that access tokens,
DPoP proofs and sessile.verify share."""

from __future__ import annotations

from typing import Any

import pytest

from sessile.jose import (
    ASYMMETRIC_ALGORITHMS,
    BearerError,
    HeaderError,
    bearer_token,
    challenge,
    check_header,
)

OK = {"typ": "at+jwt", "alg": "ES256", "kid": "k1"}


def test_the_allow_list_holds_no_symmetric_or_unsigned_algorithm() -> None:
    assert "ES256" in ASYMMETRIC_ALGORITHMS
    assert not {"none", "HS256", "HS384", "HS512"} & ASYMMETRIC_ALGORITHMS


def test_a_good_header_gives_its_alg() -> None:
    assert check_header(OK, types={"at+jwt"}, algorithms={"ES256"}, kid=True) == "ES256"


@pytest.mark.parametrize(
    ("header", "member"),
    [
        ({**OK, "typ": "JWT"}, "typ"),
        ({"alg": "ES256", "kid": "k1"}, "typ"),
        ({**OK, "typ": 1}, "typ"),
        ({**OK, "typ": "AT+JWT"}, "typ"),  # exact unless compared as a media type
        ({**OK, "alg": "ES384"}, "alg"),  # not configured
        ({**OK, "alg": "none"}, "alg"),
        ({**OK, "kid": ""}, "kid"),
        ({"typ": "at+jwt", "alg": "ES256"}, "kid"),
    ],
)
def test_each_member_is_checked(header: dict[str, Any], member: str) -> None:
    with pytest.raises(HeaderError) as failed:
        check_header(header, types={"at+jwt"}, algorithms={"ES256"}, kid=True)
    assert failed.value.member == member


def test_a_configured_symmetric_algorithm_is_still_refused() -> None:
    with pytest.raises(HeaderError):
        check_header({**OK, "alg": "HS256"}, types={"at+jwt"}, algorithms={"HS256"})


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"])
def test_typ_as_a_media_type(typ: str) -> None:
    header = {**OK, "typ": typ}
    assert check_header(header, types={"at+jwt"}, algorithms={"ES256"}, media_type=True)


def test_bearer_token() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("  bearer   abc  ") == "abc"
    for missing in (None, "", "Basic abc", "Token abc"):
        with pytest.raises(BearerError) as failed:
            bearer_token(missing)
        assert failed.value.reason == "missing"
    for malformed in ("Bearer", "Bearer ", "Bearer a b"):
        with pytest.raises(BearerError) as failed:
            bearer_token(malformed)
        assert failed.value.reason == "malformed"


def test_challenge_quotes_safely_and_leaves_out_none() -> None:
    assert challenge("Bearer") == "Bearer"
    assert challenge("DPoP", realm=None, error="use_dpop_nonce") == 'DPoP error="use_dpop_nonce"'
    assert challenge("Bearer", error="invalid_token", error_description='a "b" \\ c\né') == (
        'Bearer error="invalid_token", error_description="a b  c"'
    )
