"""A refresh proof is taken once (DESIGN §3.7), though the common refresh writes only its
rotation: the session keeps its key's newest refresh proof, and every other way goes
through the replay store. Over HTTP, against a real server on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import httpx
import pytest

from sessile.client import DPoPKey, SessionClient
from tests import services
from tests.dpop.proofs import malleated
from tests.live import LiveServer, live_server

REFRESH = "/v1/session/refresh"


@pytest.fixture(scope="module", params=["sqlite", "postgres", "postgres+redis"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The slow path's replay store is the database, or Redis."""
    database_url = None
    env = {}
    if request.param != "sqlite":
        database_url = request.getfixturevalue("new_postgres_database")()
    if request.param.endswith("redis"):
        services.require_redis()
        env["SESSILE_REDIS_URL"] = services.REDIS_URL
    with live_server(tmp_path_factory.mktemp("proofs"), database_url, env) as live:
        yield live


def _login(server: LiveServer, key: DPoPKey | None = None) -> SessionClient:
    client = SessionClient(server.url, key=key)
    client.finalize(server.challenge(server.new_user()))
    return client


def _proof(server: LiveServer, client: SessionClient, iat: float) -> str:
    return client.key.proof("POST", server.url + REFRESH, nonce=client.nonce, iat=iat)


def _refresh(server: LiveServer, token: str, proof: str) -> httpx.Response:
    return httpx.post(
        server.url + REFRESH, headers={"DPoP": proof, "X-Refresh-Token": token}, timeout=10
    )


def _token(client: SessionClient) -> str:
    assert client.tokens is not None
    assert client.tokens.refresh_token is not None
    return client.tokens.refresh_token


def _ok(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.headers["x-refresh-token"]


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code in (400, 401), response.text
    assert response.json()["code"] == code
    assert response.headers["dpop-nonce"]


def test_the_last_proof_replayed_with_the_new_token_is_refused(server: LiveServer) -> None:
    client = _login(server)
    now = time.time()
    first = _proof(server, client, now)
    rotated = _ok(_refresh(server, _token(client), first))
    _refused(_refresh(server, rotated, first), "invalid_dpop_proof")
    # Nothing rotated: the new token still works, with a new proof.
    _ok(_refresh(server, rotated, _proof(server, client, now + 1)))


def test_the_last_proofs_twin_is_the_same_proof(server: LiveServer) -> None:
    """Its ECDSA twin ``(r, n - s)`` verifies too, and is refused as the proof it is: the
    rotation and the replay store keep what a proof says (iat, jti), not its bytes."""
    client = _login(server)
    now = time.time()
    first = _proof(server, client, now)
    rotated = _ok(_refresh(server, _token(client), first))
    _refused(_refresh(server, rotated, malleated(first)), "invalid_dpop_proof")
    _ok(_refresh(server, rotated, _proof(server, client, now + 1)))


def test_an_older_proof_with_the_current_token_is_refused(server: LiveServer) -> None:
    client = _login(server)
    now = time.time()
    # A second past the login's own proof, which the new session holds as its newest.
    proofs = [_proof(server, client, now + 1 + i) for i in range(3)]
    token = _token(client)
    for proof in proofs:
        token = _ok(_refresh(server, token, proof))
    # The session keeps its last two proofs: either one is known for what it is.
    _refused(_refresh(server, token, proofs[1]), "invalid_dpop_proof")
    # An older one may be a replay too; a client holding the key signs a new proof.
    _refused(_refresh(server, token, proofs[0]), "use_dpop_nonce")
    _refused(_refresh(server, token, proofs[0]), "invalid_dpop_proof")
    _ok(_refresh(server, token, _proof(server, client, now + 4)))


def test_a_proof_signed_just_before_the_winner_gets_the_grace(server: LiveServer) -> None:
    """Two tabs refresh with one token across a second boundary: the later-signed proof
    rotates, the earlier-signed one gets the same successor."""
    client = _login(server)
    now = time.time()
    earlier, later = _proof(server, client, now), _proof(server, client, now + 1)
    first = _token(client)
    successor = _ok(_refresh(server, first, later))
    assert _ok(_refresh(server, first, earlier)) == successor


def test_a_grace_proof_replayed_with_the_current_token_is_refused(server: LiveServer) -> None:
    client = _login(server)
    now = time.time()
    first = _token(client)
    second = _ok(_refresh(server, first, _proof(server, client, now)))
    retry = _proof(server, client, now + 1)
    assert _ok(_refresh(server, first, retry)) == second  # the grace repeats the successor
    _refused(_refresh(server, second, retry), "invalid_dpop_proof")
    _ok(_refresh(server, second, _proof(server, client, now + 2)))


def test_refreshes_within_one_second_rotate_and_each_proof_counts_once(
    server: LiveServer,
) -> None:
    client = _login(server)
    now = time.time()
    one, two = _proof(server, client, now), _proof(server, client, now)
    second = _ok(_refresh(server, _token(client), one))
    third = _ok(_refresh(server, second, two))  # same iat: through the replay store
    _refused(_refresh(server, third, one), "invalid_dpop_proof")
    _refused(_refresh(server, third, two), "invalid_dpop_proof")
    _ok(_refresh(server, third, _proof(server, client, now + 1)))


def test_a_proof_taken_on_one_session_is_refused_on_another_of_its_key(
    server: LiveServer,
) -> None:
    key = DPoPKey.generate()
    first, other = _login(server, key), _login(server, key)
    proof = _proof(server, first, time.time() + 5)
    _ok(_refresh(server, _token(first), proof))
    _refused(_refresh(server, _token(other), proof), "invalid_dpop_proof")
    _ok(_refresh(server, _token(other), _proof(server, other, time.time() + 6)))


def test_a_proof_spent_on_a_bad_token_never_rotates(server: LiveServer) -> None:
    client = _login(server)
    token = _token(client)
    sid = token.split(".")[0]
    proof = _proof(server, client, time.time() + 1)
    forged = _refresh(server, f"{sid}.0.{'C' * 43}", proof)
    assert forged.status_code == 401
    _refused(_refresh(server, token, proof), "invalid_dpop_proof")
    _ok(_refresh(server, token, _proof(server, client, time.time() + 2)))


@contextlib.asynccontextmanager
async def _in_flight(
    database_url: str, session_id: str, *, iat: float, jti: str
) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """What a rotation of ``session_id`` with a proof writes, not yet committed: the
    proof becomes the session's newest. Yields the commit."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(_TAKE_PROOF.format("?", "?", "?"), (iat, jti, session_id))

        async def commit_sqlite() -> None:
            conn.execute("COMMIT")

        try:
            yield commit_sqlite
        finally:
            conn.close()
        return
    pg = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    transaction = pg.transaction()
    await transaction.start()
    await pg.execute(_TAKE_PROOF.format("$1", "$2", "$3"), iat, jti, session_id)
    try:
        yield transaction.commit
    finally:
        await pg.close()


_TAKE_PROOF = (
    "UPDATE sessions SET prev_proof_iat = last_proof_iat, prev_proof_jti = last_proof_jti,"
    " last_proof_iat = {}, last_proof_jti = {} WHERE id = {}"
)


@pytest.mark.parametrize("presented", ["current", "previous"])
async def test_a_proof_in_flight_on_one_session_is_refused_on_another_of_its_key(
    server: LiveServer, presented: str
) -> None:
    """A rotation of one session has taken a proof and not yet committed. The same proof
    on another session of the key waits for it, then is refused: on the common path
    (that session's current token) and on the slow path (its previous one, the grace)."""
    key = DPoPKey.generate()
    first, other = _login(server, key), _login(server, key)
    now = time.time()
    token = _token(other)
    if presented == "previous":
        _ok(_refresh(server, token, _proof(server, other, now + 1)))
    proof = _proof(server, first, now + 5)
    claims = json.loads(base64.urlsafe_b64decode(proof.split(".")[1] + "=="))
    session_id = _token(first).split(".")[0]
    async with (
        _in_flight(server.database_url, session_id, iat=claims["iat"], jti=claims["jti"]) as commit,
        httpx.AsyncClient(timeout=30) as http,
    ):
        answer = asyncio.create_task(
            http.post(server.url + REFRESH, headers={"DPoP": proof, "X-Refresh-Token": token})
        )
        await asyncio.sleep(0.5)
        assert not answer.done(), answer.result().text  # it waits for the rotation in flight
        await commit()
        response = await answer
    _refused(response, "invalid_dpop_proof")
