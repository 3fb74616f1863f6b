"""When the verifier fetches the JWKS, counted on a loopback JWKS server."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from sessile.clock import FixedClock
from sessile.verify import AsyncVerifier, KeysUnavailable, TokenError, UnknownKey, Verifier
from tests.server import free_port
from tests.verify.jwks_server import jwks_server
from tests.verify.keys import AUDIENCE, ISSUER, LocalIssuer

FLOOD = 40


def _strangers() -> list[str]:
    # Every token names a different kid nobody publishes, as an attacker would.
    stranger = LocalIssuer()
    return [stranger.mint({"kid": f"forged-{i}"}) for i in range(FLOOD)]


def _codes(verifier: Verifier, tokens: list[str]) -> set[str]:
    def attempt(token: str) -> str:
        try:
            verifier.verify(token)
        except TokenError as error:
            return error.code
        return "accepted"

    with ThreadPoolExecutor(FLOOD) as pool:
        return set(pool.map(attempt, tokens))


def test_a_flood_of_unknown_kids_costs_one_fetch(issuer: LocalIssuer) -> None:
    clock = FixedClock()
    with jwks_server(issuer.jwks, delay=0.2) as jwks:
        verifier = Verifier(ISSUER, AUDIENCE, jwks_url=jwks.url, clock=clock)
        assert _codes(verifier, _strangers()) == {"unknown_key"}
        assert jwks.fetches == 1
        # Within the floor, more forgeries fetch nothing, and good tokens still pass.
        assert _codes(verifier, _strangers()) == {"unknown_key"}
        assert verifier.verify(issuer.mint()).sub == "usr_local"
        assert jwks.fetches == 1
        # Past the floor, the next flood costs exactly one more.
        clock.advance(10.5)
        assert _codes(verifier, _strangers()) == {"unknown_key"}
        assert jwks.fetches == 2


async def test_a_flood_of_unknown_kids_costs_one_fetch_async(issuer: LocalIssuer) -> None:
    clock = FixedClock()
    with jwks_server(issuer.jwks, delay=0.2) as jwks:
        verifier = AsyncVerifier(ISSUER, AUDIENCE, jwks_url=jwks.url, clock=clock)
        results = await asyncio.gather(
            *(verifier.verify(t) for t in _strangers()), return_exceptions=True
        )
        assert all(isinstance(r, UnknownKey) for r in results)
        assert jwks.fetches == 1
        assert (await verifier.verify(issuer.mint())).sid == "ses_local"
        assert jwks.fetches == 1


def test_good_tokens_arriving_together_share_the_first_fetch(issuer: LocalIssuer) -> None:
    with jwks_server(issuer.jwks, delay=0.2) as jwks:
        verifier = Verifier(ISSUER, AUDIENCE, jwks_url=jwks.url)
        assert _codes(verifier, [issuer.mint() for _ in range(FLOOD)]) == {"accepted"}
        assert jwks.fetches == 1


def test_cache_control_max_age_is_honoured(issuer: LocalIssuer) -> None:
    clock = FixedClock()
    with jwks_server(issuer.jwks, cache_control="public, max-age=60") as jwks:
        verifier = Verifier(
            ISSUER, AUDIENCE, jwks_url=jwks.url, clock=clock, min_refetch_interval=1
        )
        token = issuer.mint()
        verifier.verify(token)
        clock.advance(59)
        verifier.verify(token)
        assert jwks.fetches == 1
        clock.advance(2)
        verifier.verify(token)
        assert jwks.fetches == 2


def test_no_store_still_keeps_keys_for_the_floor(issuer: LocalIssuer) -> None:
    clock = FixedClock()
    with jwks_server(issuer.jwks, cache_control="no-store") as jwks:
        verifier = Verifier(
            ISSUER, AUDIENCE, jwks_url=jwks.url, clock=clock, min_refetch_interval=5
        )
        token = issuer.mint()
        for _ in range(10):
            verifier.verify(token)
        assert jwks.fetches == 1
        clock.advance(5)
        verifier.verify(token)
        assert jwks.fetches == 2


def test_a_rotated_key_is_accepted_after_one_refetch(issuer: LocalIssuer) -> None:
    clock = FixedClock()
    successor = LocalIssuer()
    with jwks_server(issuer.jwks) as jwks:
        verifier = Verifier(ISSUER, AUDIENCE, jwks_url=jwks.url, clock=clock)
        verifier.verify(issuer.mint())
        jwks.document = {"keys": [issuer.jwk, successor.jwk]}
        clock.advance(10)
        assert verifier.verify(successor.mint()).sub == "usr_local"
        assert verifier.verify(successor.mint()).sub == "usr_local"
        assert verifier.verify(issuer.mint()).sub == "usr_local"
        assert jwks.fetches == 2


def test_an_issuer_that_is_down(issuer: LocalIssuer) -> None:
    clock = FixedClock()
    with jwks_server(issuer.jwks, cache_control="max-age=60") as jwks:
        jwks.status = 500
        verifier = Verifier(ISSUER, AUDIENCE, jwks_url=jwks.url, clock=clock)
        for _ in range(3):
            with pytest.raises(KeysUnavailable) as caught:
                verifier.verify(issuer.mint())
            assert caught.value.status == 503
        assert jwks.fetches == 1, "failed fetches keep to the floor too"

        jwks.status = 200
        clock.advance(10)
        verifier.verify(issuer.mint())
        assert jwks.fetches == 2
        # The keys go stale while the issuer is down: known keys keep working.
        jwks.status = 500
        clock.advance(61)
        assert verifier.verify(issuer.mint()).sub == "usr_local"
        assert jwks.fetches == 3


def test_nothing_listening() -> None:
    url = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    with pytest.raises(KeysUnavailable):
        Verifier(ISSUER, AUDIENCE, jwks_url=url, timeout=2).verify(LocalIssuer().mint())


def test_a_document_that_is_not_a_jwks(issuer: LocalIssuer) -> None:
    with jwks_server({"issuer": ISSUER}) as jwks, pytest.raises(KeysUnavailable):
        Verifier(ISSUER, AUDIENCE, jwks_url=jwks.url).verify(issuer.mint())
