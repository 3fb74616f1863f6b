"""The rules with no I/O, with plain values and a fixed time: claims, Cache-Control, fetch policy,
the Authorization header and the error answer."""

from __future__ import annotations

from typing import Any

import pytest

from sessile.verify import (
    ExpiredToken,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidToken,
    KeysUnavailable,
    MissingToken,
    TokenNotYetValid,
)
from sessile.verify._http import bearer_token, error_answer
from sessile.verify._jwks import KeyCache, max_age_of, parse_jwks
from sessile.verify.claims import check_claims
from tests.verify.keys import LocalIssuer

NOW = 1_800_000_000.0


def _claims(**overrides: Any) -> dict[str, Any]:
    claims = {
        "iss": "https://a.example",
        "aud": "app",
        "sub": "usr_1",
        "sid": "ses_1",
        "iat": NOW,
        "exp": NOW + 300,
        "jti": "j",
        "scope": "session",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _check(payload: dict[str, Any], now: float = NOW, leeway: float = 30) -> object:
    return check_claims(
        payload, issuer="https://a.example", audiences=("app",), now=now, leeway=leeway
    )


def test_exp_boundary_with_leeway() -> None:
    _check(_claims(), now=NOW + 329)
    with pytest.raises(ExpiredToken) as caught:
        _check(_claims(), now=NOW + 330)
    assert caught.value.expired_at == NOW + 300


def test_nbf_and_iat_boundary_with_leeway() -> None:
    _check(_claims(nbf=NOW + 30, iat=NOW + 30))
    with pytest.raises(TokenNotYetValid):
        _check(_claims(nbf=NOW + 31))
    with pytest.raises(TokenNotYetValid):
        _check(_claims(iat=NOW + 31, exp=NOW + 600))


@pytest.mark.parametrize("aud", [["other", "app"], "app"])
def test_audience_forms(aud: object) -> None:
    _check(_claims(aud=aud))


@pytest.mark.parametrize("aud", [None, [], ["other"], "App", [1], {"app": 1}])
def test_bad_audiences(aud: object) -> None:
    with pytest.raises(InvalidAudience):
        _check(_claims(aud=aud))


@pytest.mark.parametrize(
    "iss", [None, "https://a.example/", "https://A.example", ["https://a.example"]]
)
def test_issuer_is_compared_exactly(iss: object) -> None:
    with pytest.raises(InvalidIssuer):
        _check(_claims(iss=iss))


@pytest.mark.parametrize(
    ("claim", "value"),
    [("exp", 10**400), ("exp", float("inf")), ("iat", "now"), ("sid", ""), ("jti", 1)],
)
def test_ill_typed_claims(claim: str, value: object) -> None:
    with pytest.raises(InvalidClaim) as caught:
        _check(_claims(**{claim: value}))
    assert caught.value.claim == claim


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("public, max-age=300, stale-while-revalidate=300", 300.0),
        ("MAX-AGE=60", 60.0),
        ('max-age="42"', 42.0),
        ("s-maxage=10", None),
        ("public, no-cache", 0.0),
        ("no-store, max-age=600", 0.0),
        ("max-age=abc", None),
    ],
)
def test_max_age_of(value: str | None, expected: float | None) -> None:
    assert max_age_of(value) == expected


def test_fetch_policy() -> None:
    cache = KeyCache(min_interval=10, default_max_age=300)
    assert cache.should_fetch("k", NOW)
    cache.store(parse_jwks(LocalIssuer("k").jwks, ("ES256",)), max_age=None, now=NOW)
    assert not cache.should_fetch("k", NOW + 299)
    assert cache.should_fetch("k", NOW + 300), "stale after the default max-age"
    assert not cache.should_fetch("unknown", NOW + 9.9), "the floor"
    assert cache.should_fetch("unknown", NOW + 10)
    assert cache.should_fetch("unknown", NOW - 3600), "a clock that went backwards"
    cache.store(cache.keys, max_age=10**9, now=NOW)
    assert cache.should_fetch("k", NOW + 86_400), "at least daily"
    cache.record_failure(NOW + 86_400)
    assert cache.failed
    assert "k" in cache.keys, "keys survive a failed fetch"
    assert not cache.should_fetch("k", NOW + 86_405)


def test_static_keys_are_never_fetched() -> None:
    cache = KeyCache.of({})
    assert not cache.should_fetch("anything", NOW)
    assert not cache.should_fetch("anything", float("inf"))


def test_parse_jwks_skips_what_it_cannot_use() -> None:
    good = LocalIssuer("good").jwk
    document = {
        "keys": [
            good,
            {**LocalIssuer("enc").jwk, "use": "enc"},
            {**LocalIssuer("rsa").jwk, "alg": "RS256"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
            {**LocalIssuer().jwk, "kid": None},
            "not a key",
        ]
    }
    assert list(parse_jwks(document, ("ES256",))) == ["good"]


def test_bearer_token() -> None:
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("  BEARER   abc  ") == "abc"
    for missing in (None, "", "Basic abc", "Token abc", "Bearerabc"):
        with pytest.raises(MissingToken):
            bearer_token(missing)
    for bad in ("Bearer", "Bearer ", "Bearer a b"):
        with pytest.raises(InvalidToken):
            bearer_token(bad)


def test_error_answer() -> None:
    answer = error_answer(ExpiredToken(NOW, 'Has "quotes" and \\ and\nnewline'), realm="api")
    assert answer.status == 401
    # Quotes, backslashes and control characters cannot break out of the quoted-string.
    assert answer.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token", error_description="Has quotes and  andnewline"'
    )
    assert answer.body["code"] == "expired_token"
    assert error_answer(MissingToken()).headers["WWW-Authenticate"] == "Bearer"
    unavailable = error_answer(KeysUnavailable())
    assert unavailable.status == 503
    assert "WWW-Authenticate" not in unavailable.headers
