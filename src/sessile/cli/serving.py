"""Serve an ASGI app with uvicorn, as ``sessile serve`` does: one worker in this
process, or several in processes of their own, each on a listener of its own
(:mod:`sessile.cli.listeners`); and, when asked, a second listener for ``/metrics``,
which the app tells apart by the port a request came in on."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from typing import Any

import click

from sessile.cli.listeners import SharedAddress, spreads_connections
from sessile.logs import uvicorn_log_config

__all__ = ["APP", "serve_app"]

log = logging.getLogger("sessile.serve")

#: sessile's app factory, as uvicorn imports it in each worker.
APP = "sessile.http.app:create_app_from_env"
#: uvicorn's exit status when the server did not start.
_STARTUP_FAILURE = 3


def serve_app(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    metrics: tuple[str, int] | None = None,
) -> None:
    """Serve the app factory ``app`` (``module:function``) until a signal stops it, on
    ``host:port`` and, when given, on the ``metrics`` address too."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "ssl_certfile": tls_cert,
        "ssl_keyfile": tls_key,
        "log_config": uvicorn_log_config(log_level),
        "server_header": False,
        # uvicorn.access logs at WARNING only (logs.py): its per-request line is never
        # written, so it is not built either.
        "access_log": False,
        "proxy_headers": False,
    }
    shared = workers > 1 and spreads_connections()
    if metrics is None and not shared:
        uvicorn.run(app, **options)
        return
    config = uvicorn.Config(app, **options)
    with contextlib.ExitStack() as held:
        addresses = [(host, port), *([metrics] if metrics else [])]
        sockets = [held.enter_context(_listen(*a, shared=shared)) for a in addresses]
        scheme = "https" if tls_cert else "http"
        bound = sockets[0].getsockname()[1]
        log.info("serving on %s://%s:%d with %d workers", scheme, host, bound, workers)
        if metrics:
            log.info("metrics on %s://%s:%d/metrics", scheme, metrics[0], metrics[1])
        if workers > 1:
            Multiprocess(config, sockets=sockets).run()
            return
        server = uvicorn.Server(config)
        server.run(sockets=sockets)
        if not server.started:
            sys.exit(_STARTUP_FAILURE)


def _listen(host: str, port: int, *, shared: bool) -> socket.socket:
    """``host:port`` bound: as a :class:`SharedAddress` when each worker listens on its
    own socket, else one socket every worker accepts on. uvicorn makes it listen."""
    try:
        if shared:
            return SharedAddress.hold(host, port)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.set_inheritable(True)
        return sock
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
