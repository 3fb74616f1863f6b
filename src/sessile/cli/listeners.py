"""One listening socket per worker, so the kernel spreads connections across workers.

With one socket shared by every worker, the worker that wakes first accepts every
connection waiting, and a connection stays with the worker that accepted it. A page,
a proxy or a load balancer opens its keep-alive connections in a burst, so one
worker can end up serving nearly all of them while the others idle: on two workers at
70 % load, one used 89 % of the CPU the two spent (``bench/refresh.py --workers 2 --latency``).

On Linux, each worker binds a socket of its own to the address with ``SO_REUSEPORT``,
and the kernel hands each new connection to one of them by a hash of its addresses.
The supervisor's own socket is bound the same way but never listens: it holds the
address while workers come and go, and it never takes a connection. A worker's socket
closes with it, so no connection waits on a worker that is gone.

uvicorn passes a worker its sockets by pickling them into the new process; a
:class:`SharedAddress` pickles as "bind a listener of your own to this address".
"""

from __future__ import annotations

import socket
import sys
from typing import Any

__all__ = ["SharedAddress", "spreads_connections"]


def spreads_connections() -> bool:
    """Whether the kernel spreads connections across ``SO_REUSEPORT`` listeners."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _reuse_port_socket(family: int, address: Any) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class SharedAddress(socket.socket):
    """The supervisor's hold on ``host:port``; each worker that receives it listens on
    a socket of its own bound to the same address."""

    @classmethod
    def hold(cls, host: str, port: int) -> SharedAddress:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        held = _reuse_port_socket(family, (host, port))
        # The same bound descriptor, as this class.
        return cls(family, socket.SOCK_STREAM, fileno=held.detach())

    def __reduce__(self) -> tuple[Any, tuple[int, Any]]:
        # In the worker: a listener of its own on the very address (the port the
        # supervisor got, even when it asked for port 0).
        return _reuse_port_socket, (int(self.family), self.getsockname())
