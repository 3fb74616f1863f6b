"""Two server processes share the replay cache and the nonce secret (DESIGN §3.6-3.7)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from redis import Redis

from tests import services
from tests.dpop.app import ROUTE
from tests.dpop.processes import PUBLIC_URL, AppProcess, migrate, run_apps
from tests.dpop.proofs import ProofKey


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "SESSILE_PUBLIC_URL": PUBLIC_URL,
        "SESSILE_DATABASE_URL": database_url,
        "SESSILE_SECRET_KEY": secrets.token_hex(32),
        **extra,
    }


@pytest.fixture(scope="module")
def postgres_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppProcess]]:
    """Two processes on one PostgreSQL database of their own."""
    services.require_postgres()
    url = services.create_postgres_database()
    try:
        migrate(url)
        with run_apps(2, tmp_path_factory.mktemp("pg-pair"), _env(url)) as apps:
            yield apps
    finally:
        services.drop_postgres_database(url)


@pytest.fixture(scope="module")
def redis_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppProcess]]:
    """Two processes with the replay cache in Redis (and secrets in a shared SQLite file)."""
    services.require_redis()
    folder = tmp_path_factory.mktemp("redis-pair")
    url = f"sqlite+aiosqlite:///{folder / 'shared.db'}"
    migrate(url)
    app_id = "t" + secrets.token_hex(8)
    env = _env(url, SESSILE_REDIS_URL=services.REDIS_URL, SESSILE_APP_ID=app_id)
    try:
        with run_apps(2, folder, env) as apps:
            yield apps
    finally:
        client = Redis.from_url(services.REDIS_URL)
        keys = list(client.scan_iter(match=f"sessile:{app_id}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def post(app: AppProcess, proof: str | None) -> httpx.Response:
    headers = {"DPoP": proof} if proof is not None else {}
    return httpx.post(app.url + ROUTE, headers=headers, timeout=10)


def nonce_from(app: AppProcess) -> str:
    response = post(app, None)
    assert response.json()["code"] == "missing_dpop_proof"
    return response.headers["DPoP-Nonce"]


def replay_across(apps: list[AppProcess]) -> None:
    a, b = apps
    key = ProofKey()
    # A nonce from one process is accepted by the other: the secret is shared.
    proof = key.proof(iat=time.time(), htu=PUBLIC_URL + ROUTE, nonce=nonce_from(a))
    accepted = post(b, proof)
    assert accepted.status_code == 200, accepted.text
    replayed = post(a, proof)
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "invalid_dpop_proof"
    assert replayed.headers["DPoP-Nonce"]
    assert post(b, proof).json()["code"] == "invalid_dpop_proof"


def test_replay_refused_by_the_other_process_postgres(postgres_pair: list[AppProcess]) -> None:
    replay_across(postgres_pair)


def test_replay_refused_by_the_other_process_redis(redis_pair: list[AppProcess]) -> None:
    replay_across(redis_pair)


@pytest.mark.parametrize("pair", ["postgres_pair", "redis_pair"])
def test_both_processes_issue_the_same_nonce(pair: str, request: pytest.FixtureRequest) -> None:
    a, b = request.getfixturevalue(pair)
    for _ in range(3):  # A step may end between the two calls.
        if nonce_from(a) == nonce_from(b):
            return
    pytest.fail("the two processes issue different nonces")
