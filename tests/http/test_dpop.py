"""DPoPVerifier on a real ASGI route: nonces on every response, errors, clock skew."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from secrets import token_hex

import httpx
import pytest
from redis.asyncio import Redis

from sessile.clock import FixedClock
from sessile.config import Settings
from sessile.dpop import ReplayStore
from sessile.http.dpop import DPoPVerifier
from sessile.shared_secrets import SharedSecrets
from sessile.store.database import Database
from sessile.store.migrate import upgrade
from sessile.store.replay import RedisReplayStore, SqlReplayStore, create_replay_store
from tests import services
from tests.dpop.app import CHALLENGE_ROUTE, ROUTE, create_app
from tests.dpop.conftest import T0
from tests.dpop.proofs import ProofKey, malleated, rfc7638

PUBLIC_URL = "https://sessile.test"
URL = PUBLIC_URL + ROUTE


@dataclass
class Server:
    client: httpx.AsyncClient
    clock: FixedClock
    verifier: DPoPVerifier

    async def post(self, proof: str | None, **headers: str) -> httpx.Response:
        if proof is not None:
            headers["DPoP"] = proof
        return await self.client.post(ROUTE, headers=headers)


async def make_server(
    tmp_path: Path, replay: str = "sql", **settings: object
) -> AsyncIterator[Server]:
    """A DPoP route on SQLite, its replay records in the database or (``replay="redis"``)
    in Redis."""
    config = Settings(public_url=PUBLIC_URL, data_dir=tmp_path, **settings)  # type: ignore[arg-type]
    database = Database.from_url(config.sqlalchemy_url)
    await upgrade(database.engine)
    clock = FixedClock(T0)
    secrets = SharedSecrets(database.secrets, b"s" * 32, clock)
    store: ReplayStore = SqlReplayStore(database.driver)
    redis = None
    if replay == "redis":
        services.require_redis()
        redis = Redis.from_url(services.REDIS_URL)
        store = RedisReplayStore(redis, prefix=f"sessile:test-{token_hex(6)}:dpop:jti:")
    verifier = DPoPVerifier(config, clock=clock, secrets=secrets, replay=store)
    transport = httpx.ASGITransport(app=create_app(verifier))
    # The client talks to some other host name: htu must come from the public URL.
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.7:8000") as client:
        yield Server(client, clock, verifier)
    if redis is not None:
        await redis.aclose()
    await database.close()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async for running in make_server(tmp_path):
        yield running


@pytest.fixture
async def lax_server(tmp_path: Path) -> AsyncIterator[Server]:
    async for running in make_server(tmp_path, dpop_nonce_required=False):
        yield running


def assert_error(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == code
    assert body["error"] == ("use_dpop_nonce" if code == "use_dpop_nonce" else "invalid_dpop_proof")
    assert response.headers["WWW-Authenticate"].startswith("DPoP error=")
    assert response.headers["DPoP-Nonce"]


async def test_nonce_round_trip_then_success(server: Server) -> None:
    key = ProofKey()
    first = await server.post(key.proof(iat=T0))
    assert_error(first, "use_dpop_nonce")
    nonce = first.headers["DPoP-Nonce"]
    second = await server.post(key.proof(iat=T0, nonce=nonce, jti="j"))
    assert second.status_code == 200
    assert second.json() == {"jkt": rfc7638(key.public_jwk), "jti": "j", "htu": URL}
    assert second.headers["DPoP-Nonce"] == nonce


async def test_every_failure_carries_a_nonce(server: Server) -> None:
    key = ProofKey()
    assert_error(await server.post(None), "missing_dpop_proof")
    assert_error(await server.post("x.y.z"), "invalid_dpop_proof")
    nonce = (await server.post(None)).headers["DPoP-Nonce"]
    replayed = key.proof(iat=T0, nonce=nonce)
    assert (await server.post(replayed)).status_code == 200
    assert_error(await server.post(replayed), "invalid_dpop_proof")


async def test_two_dpop_headers(server: Server) -> None:
    key = ProofKey()
    nonce = (await server.post(None)).headers["DPoP-Nonce"]
    headers = [("DPoP", key.proof(iat=T0, nonce=nonce)), ("DPoP", key.proof(iat=T0, nonce=nonce))]
    response = await server.client.post(ROUTE, headers=headers)
    assert_error(response, "invalid_dpop_proof")


async def test_htu_comes_from_the_public_url_not_host(server: Server) -> None:
    key = ProofKey()
    nonce = (await server.post(None)).headers["DPoP-Nonce"]
    as_seen = await server.post(key.proof(iat=T0, nonce=nonce, htu="http://10.0.0.7:8000" + ROUTE))
    assert_error(as_seen, "invalid_dpop_proof")
    spoofed = await server.post(
        key.proof(iat=T0, nonce=nonce, htu="https://evil.test" + ROUTE), Host="evil.test"
    )
    assert_error(spoofed, "invalid_dpop_proof")
    assert (await server.post(key.proof(iat=T0, nonce=nonce), Host="evil.test")).status_code == 200


async def test_replay_is_refused(server: Server) -> None:
    key = ProofKey()
    nonce = (await server.post(None)).headers["DPoP-Nonce"]
    proof = key.proof(iat=T0, nonce=nonce)
    assert (await server.post(proof)).status_code == 200
    assert_error(await server.post(proof), "invalid_dpop_proof")


async def test_nonce_follows_the_clock(server: Server) -> None:
    before = (await server.post(None)).headers["DPoP-Nonce"]
    server.clock.advance(60)
    after = (await server.post(None)).headers["DPoP-Nonce"]
    assert before != after
    server.clock.advance(180)
    key = ProofKey()
    stale = key.proof(iat=server.clock.now(), nonce=before)
    assert_error(await server.post(stale), "use_dpop_nonce")


@pytest.mark.parametrize("skew", [-600, 600])
@pytest.mark.parametrize("nonce_required", [True, False])
async def test_client_clock_ten_minutes_off(
    server: Server, lax_server: Server, skew: int, nonce_required: bool
) -> None:
    """One use_dpop_nonce round trip, then success, whatever the client's clock says."""
    target = server if nonce_required else lax_server
    key = ProofKey()
    client_now = target.clock.now() + skew
    responses = [await target.post(key.proof(iat=client_now))]
    while responses[-1].status_code == 401 and len(responses) < 3:
        nonce = responses[-1].headers["DPoP-Nonce"]
        responses.append(await target.post(key.proof(iat=client_now, nonce=nonce)))
    assert [r.status_code for r in responses] == [401, 200]
    assert responses[0].json()["code"] == "use_dpop_nonce"


async def test_lax_server_accepts_a_fresh_proof_without_nonce(lax_server: Server) -> None:
    response = await lax_server.post(ProofKey().proof(iat=T0))
    assert response.status_code == 200
    assert response.headers["DPoP-Nonce"]


async def test_replay_store_choice(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        plain = Settings(data_dir=tmp_path)
        assert isinstance(create_replay_store(plain, database.driver), SqlReplayStore)
        with_redis = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0")
        store = create_replay_store(with_redis, database.driver)
        assert isinstance(store, RedisReplayStore)
        assert store.key("jkt", "jti") == "sessile:default:dpop:jti:jkt:jti"
    finally:
        await database.close()


@pytest.fixture(params=["sql", "redis"])
async def any_store_server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Server]:
    async for running in make_server(tmp_path, replay=request.param):
        yield running


async def test_a_proofs_twin_is_a_replay(any_store_server: Server) -> None:
    """``(r, n - s)`` verifies as well as ``(r, s)``: the replay rule keys on what the proof
    says (its key and jti), so the twin of a used proof is that proof again."""
    server = any_store_server
    key = ProofKey()
    nonce = (await server.post(None)).headers["DPoP-Nonce"]
    proof = key.proof(iat=T0, nonce=nonce)
    assert (await server.post(proof)).status_code == 200
    assert_error(await server.post(malleated(proof)), "invalid_dpop_proof")


async def test_a_step_up_proofs_twin_is_a_replay(any_store_server: Server) -> None:
    """A step-up proof is accepted once per signing, whatever its signature's bytes; a new
    signing of the same claims (Prelude's SDK sends one for a corrected code, with the
    challenge's jti and, within a second, the same iat) is a new proof."""
    server = any_store_server
    key = ProofKey()
    url = PUBLIC_URL + CHALLENGE_ROUTE

    async def check(proof: str) -> httpx.Response:
        return await server.client.post(CHALLENGE_ROUTE, headers={"DPoP": proof})

    proof = key.proof(iat=T0, htu=url, jti="the-challenge-jti")
    assert (await check(proof)).status_code == 200
    twin = malleated(proof)
    assert twin != proof
    assert_error(await check(twin), "invalid_dpop_proof")
    assert_error(await check(proof), "invalid_dpop_proof")
    again = key.proof(iat=T0, htu=url, jti="the-challenge-jti")
    assert again != proof
    assert (await check(again)).status_code == 200
    assert_error(await check(malleated(again)), "invalid_dpop_proof")
