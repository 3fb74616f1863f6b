"""``sessile serve --workers N``: each worker listens on a socket of its own, so a burst of
keep-alive connections spreads across the workers instead of landing on one."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from sessile.cli.listeners import SharedAddress, spreads_connections
from tests.server import RunningServer, run_server

pytestmark = pytest.mark.skipif(
    not spreads_connections(), reason="SO_REUSEPORT spreads connections on Linux only"
)

_LISTEN, _ESTABLISHED = "0A", "01"


def _sockets(port: int, state: str) -> set[int]:
    """Inodes of this machine's IPv4 TCP sockets on local ``port`` in ``state``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            inodes.add(int(fields[9]))
    return inodes


def _owners(inodes: set[int]) -> Counter[int]:
    """How many of ``inodes`` each process holds."""
    held: Counter[int] = Counter()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:  # gone, or not ours
            continue
        for link in links:
            if link.startswith("socket:[") and int(link[8:-1]) in inodes:
                held[int(pid)] += 1
    return held


def _listeners(port: int) -> Counter[int]:
    return _owners(_sockets(port, _LISTEN))


def _port(server: RunningServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def _wait_for_listeners(port: int, count: int, exclude: int | None = None) -> Counter[int]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        listeners = _listeners(port)
        if len(listeners) == count and exclude not in listeners:
            return listeners
        time.sleep(0.1)
    raise AssertionError(f"expected {count} listening workers on {port}, saw {_listeners(port)}")


async def _burst(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """``count`` connections opened at once, each answered once, as a page or proxy would."""
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in range(count))
    )
    for _, writer in connections:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    for reader, _ in connections:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        assert head.startswith(b"HTTP/1.1 200"), head
    return connections


def test_each_worker_listens_on_its_own_socket_and_a_burst_spreads(tmp_path: Path) -> None:
    with run_server(tmp_path, args=("--workers", "2")) as server:
        port = _port(server)
        listeners = _wait_for_listeners(port, 2)
        assert server.process.pid not in listeners  # the supervisor holds the port, idle
        assert all(count == 1 for count in listeners.values())

        async def spread() -> Counter[int]:
            connections = await _burst(port, 64)
            held = _owners(_sockets(port, _ESTABLISHED))
            for _, writer in connections:
                writer.close()
            return held

        held = asyncio.run(spread())
        # One shared socket hands a burst to whichever worker wakes first, often all 64.
        assert set(held) == set(listeners), held
        assert min(held.values()) >= 8, held
        assert sum(held.values()) == 64


def test_a_worker_that_dies_takes_its_listener_and_no_connection_waits_on_it(
    tmp_path: Path,
) -> None:
    with run_server(tmp_path, args=("--workers", "2")) as server:
        port = _port(server)
        victim, survivor = sorted(_wait_for_listeners(port, 2))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while victim in _listeners(port) and time.monotonic() < deadline:
            time.sleep(0.01)
        # Until its replacement listens, every new connection goes to the survivor.
        with httpx.Client(timeout=5) as http:
            for _ in range(20):
                with httpx.Client(timeout=5) as fresh:  # a new connection each time
                    assert fresh.get(server.url + "/healthz").status_code == 200
            assert http.get(server.url + "/readyz").status_code == 200
        replaced = _wait_for_listeners(port, 2, exclude=victim)
        assert survivor in replaced
        asyncio.run(_burst(port, 16))


def test_the_address_pickles_as_a_listener_of_its_own(tmp_path: Path) -> None:
    with SharedAddress.hold("127.0.0.1", 0) as held:
        port = held.getsockname()[1]
        # The supervisor's socket is bound, never listening: nothing connects to it.
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass
        worker = pickle.loads(pickle.dumps(held))
        try:
            assert type(worker) is socket.socket
            assert worker.getsockname() == ("127.0.0.1", port)
            worker.listen()
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
        finally:
            worker.close()


_TRY_TO_LISTEN = """
import socket, sys
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
try:
    sock.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(3)
"""


# The other user can't reach this virtualenv's interpreter (it may live under /root).
_SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
@pytest.mark.skipif(not os.path.exists(_SYSTEM_PYTHON), reason="needs the system's python3")
def test_only_the_servers_own_user_can_listen_beside_its_workers(tmp_path: Path) -> None:
    with run_server(tmp_path, args=("--workers", "2")) as server:
        port = _port(server)
        _wait_for_listeners(port, 2)
        # The kernel lets only sockets of the same user join a SO_REUSEPORT group: another
        # user's process can't take a share of the connections (nor could it before).
        other_user = subprocess.run(
            [_SYSTEM_PYTHON, "-c", _TRY_TO_LISTEN, str(port)],
            user=65534,
            cwd="/",
            timeout=30,
            check=False,
        )
        assert other_user.returncode == 3
        assert len(_listeners(port)) == 2
