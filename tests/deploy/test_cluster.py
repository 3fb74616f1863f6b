"""Faults under load on the local topology (deploy/local): a node killed, PostgreSQL
restarted, Redis stopped, a slow database (a node behind a latency proxy), a failover to
the replica. Each runs a bounded load of real refreshes (and logins, through nginx), then
checks what every client saw and that every session is still whole: alive, at the
generation its client holds (none rotated twice)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from deploy.local.cluster import DATABASE, Cluster, Node
from deploy.local.services import HOST, free_port

from tests.deploy.conftest import DATABASE_TIMEOUT
from tests.deploy.load import Load, Session, Sessions, login, refresh
from tests.proxy import TcpProxy

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.redis]

CLIENTS = 12
#: No request may take longer, whatever fails: the database timeout plus nginx's share.
BOUND = DATABASE_TIMEOUT * 2 + 2


async def _start(
    cluster: Cluster, clients: int = CLIENTS, logins: int = 20
) -> tuple[Sessions, list[Session], list[str]]:
    sessions = Sessions(cluster.url, cluster.database_url)
    async with httpx.AsyncClient(timeout=30) as http:
        try:
            logged_in = await sessions.log_in(http, clients)
        except AssertionError as error:
            raise AssertionError(f"{error}; {cluster.logged('unavailable')[-3:]}") from None
    return sessions, logged_in, await sessions.challenges(logins)


async def _check_whole(sessions: Sessions, load: Load) -> None:
    """After the fault: every session refreshes, and the database agrees with its client."""
    assert not load.lost, f"sessions lost: {load.lost}"
    assert all(a.status != 500 for a in load.answers), [a for a in load.answers if a.status == 500]
    await load.settle()
    stored = await sessions.stored(s.id for s in load.sessions)
    for session in load.sessions:
        generation, revoked_at = stored[session.id]
        assert revoked_at is None, f"{session.id} was revoked"
        assert generation == session.generation, f"{session.id} rotated past its client"
    assert all(a.seconds < BOUND for a in load.answers), max(a.seconds for a in load.answers)


async def test_a_node_killed_under_load_loses_nothing(cluster: Cluster) -> None:
    sessions, logged_in, challenges = await _start(cluster)
    victim = cluster.nodes[1]
    async with Load(cluster.url, logged_in, challenges) as load:
        await load.run_for(2)
        victim.kill()
        await load.run_for(4)
    # What the clients saw: answers, or 502 / a cut connection for what the dead node held.
    assert {a.status for a in load.failures()} <= {0, 502}, load.failures()
    assert sum(a.status == 200 for a in load.of("refresh")) > CLIENTS * 5
    assert any(a.status == 200 for a in load.of("login"))
    await _check_whole(sessions, load)

    # A refresh whose answer was lost, retried through another node: the same successor.
    async with httpx.AsyncClient(timeout=30) as http:
        session = load.sessions[0]
        old = Session(session.key, session.token, session.nonce)
        first, successor = await refresh(http, cluster.url, session)
        again, repeated = await refresh(http, cluster.url, old)
        assert (first.status, again.status) == (200, 200)
        assert repeated == successor
    victim.start()
    victim.wait_ready()


async def test_postgres_restarted_answers_503_then_recovers(cluster: Cluster) -> None:
    sessions, logged_in, challenges = await _start(cluster)
    assert cluster.primary is not None
    async with Load(cluster.url, logged_in, challenges) as load:
        await load.run_for(1.5)
        await asyncio.to_thread(cluster.primary.restart)
        await load.run_for(5)
    failures = load.failures()
    assert failures, "the restart went unnoticed: no request met the outage"
    unhandled = cluster.unhandled()
    assert not unhandled, unhandled[0][-1500:]
    for answer in failures:
        assert (answer.status, answer.code) == (503, "service_unavailable"), answer
        assert answer.retry_after is not None
        assert int(answer.retry_after) >= 1
    # Recovered without a restart of sessile: requests after the outage succeed.
    last_failure = max(a.at for a in failures)
    assert any(a.status == 200 and a.at > last_failure for a in load.answers)
    await _check_whole(sessions, load)


async def test_redis_down_fails_closed(cluster: Cluster) -> None:
    sessions, logged_in, challenges = await _start(cluster, logins=10)
    assert cluster.redis is not None
    async with httpx.AsyncClient(timeout=30) as http:
        session = logged_in[0]
        before = Session(session.key, session.token, session.nonce)
        cluster.redis.stop()
        try:
            async with Load(cluster.url, logged_in[1:], challenges[:5]) as load:
                await load.run_for(2)
            # The common refresh needs no Redis: its replay check rides in the rotation.
            assert any(a.status == 200 for a in load.of("refresh"))
            # A login's proof can't be checked for replay: refused, never let through.
            logins = load.of("login")
            assert logins
            assert all((a.status, a.code) == (503, "service_unavailable") for a in logins), logins
            odd = [a for a in load.answers if a.status not in (200, 503)]
            assert not odd, odd[:3]

            # The same proof and token twice: the second is a replay, never a success.
            proof = before.key.proof(
                "POST", cluster.url + "/v1/session/refresh", nonce=before.nonce
            )
            headers = {"DPoP": proof, "X-Refresh-Token": before.token}
            first = await http.post(cluster.url + "/v1/session/refresh", headers=headers)
            replay = await http.post(cluster.url + "/v1/session/refresh", headers=headers)
            assert first.status_code == 200, first.text
            assert replay.status_code == 503, replay.text
            session.token = first.headers["X-Refresh-Token"]

            # Rate limits live in Redis: a code login is refused, not let through unlimited.
            otp = await http.post(
                cluster.url + "/v1/session/login/otp",
                json={"identifier": {"type": "email_address", "value": "a@example.com"}},
            )
            assert (otp.status_code, otp.json()["code"]) == (503, "service_unavailable")
            assert "Retry-After" in otp.headers
        finally:
            cluster.redis.start()
        answer, _ = await login(http, cluster.url, challenges[-1])
        assert answer.status == 200, answer
    load.sessions.append(session)
    await _check_whole(sessions, load)


async def test_a_slow_database_times_out_without_piling_up(cluster: Cluster) -> None:
    assert cluster.primary is not None
    proxy = TcpProxy(HOST, cluster.primary.port)
    await proxy.start()
    port = free_port()
    node = Node(port, 1, cluster.root / "slow-node", {
        **cluster.nodes[0].env,
        "SESSILE_DATABASE_URL": f"postgresql+asyncpg://postgres@{HOST}:{proxy.port}/{DATABASE}",
        "SESSILE_PUBLIC_URL": f"http://{HOST}:{port}",
    })  # fmt: skip
    try:
        await asyncio.to_thread(node.start)
        await asyncio.to_thread(node.wait_ready)
        sessions = Sessions(node.url, cluster.database_url)
        async with httpx.AsyncClient(timeout=30) as http:
            logged_in = await sessions.log_in(http, CLIENTS)

        # Slow, within the timeout: every refresh succeeds, and p99 stays under the timeout.
        proxy.delay = 0.02
        async with Load(node.url, logged_in) as slow:
            await slow.run_for(3)
        seconds = sorted(a.seconds for a in slow.answers)
        assert {a.status for a in slow.answers} == {200}, slow.failures()[:3]
        assert seconds[int(len(seconds) * 0.99)] < DATABASE_TIMEOUT, seconds[-5:]

        # Slower than the timeout: each request gives up in bounded time with a 503, and
        # they don't pile up: the connections stay within the pools' bounds.
        proxy.delay = DATABASE_TIMEOUT * 2
        async with Load(node.url, logged_in) as stuck:
            await stuck.run_for(DATABASE_TIMEOUT * 2)
        assert stuck.answers
        for answer in stuck.answers:
            assert (answer.status, answer.code) == (503, "service_unavailable"), answer
            assert answer.seconds < DATABASE_TIMEOUT * 2 + 1, answer
        # The driver's 10 connections, the engine's 10 + 10 overflow, and a few opening.
        assert proxy.most_open <= 35, proxy.most_open

        proxy.delay = 0
        async with Load(node.url, logged_in) as after:
            await after.run_for(0.5)
        await _check_whole(sessions, after)
    finally:
        await asyncio.to_thread(node.stop)
        await proxy.stop()


async def test_failover_to_the_replica_keeps_committed_sessions(cluster: Cluster) -> None:
    sessions, logged_in, challenges = await _start(cluster)
    assert cluster.primary is not None
    assert cluster.standby is not None
    async with Load(cluster.url, logged_in, challenges) as load:
        await load.run_for(1.5)
        cluster.primary.kill()
        await asyncio.sleep(1)
        await asyncio.to_thread(cluster.standby.promote)
        await load.run_for(3)
    for answer in load.failures():
        assert (answer.status, answer.code) == (503, "service_unavailable"), answer
    assert cluster.standby.psql("SELECT pg_is_in_recovery()") == "f"
    # Every refresh a client was answered was committed on the replica too (synchronous
    # replication): each session goes on from the token its client holds.
    await _check_whole(sessions, load)
