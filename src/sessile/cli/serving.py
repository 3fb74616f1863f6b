"""Serve an ASGI app with uvicorn, as ``sessile serve`` does: one worker in this
process, or several in processes of their own, each on a listener of its own
(:mod:`sessile.cli.listeners`)."""

from __future__ import annotations

import logging
from typing import Any

import click

from sessile.cli.listeners import SharedAddress, spreads_connections
from sessile.logs import uvicorn_log_config

__all__ = ["APP", "serve_app"]

log = logging.getLogger("sessile.serve")

#: sessile's app factory, as uvicorn imports it in each worker.
APP = "sessile.http.app:create_app_from_env"


def serve_app(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    tls_cert: str | None = None,
    tls_key: str | None = None,
) -> None:
    """Serve the app factory ``app`` (``module:function``) until a signal stops it."""
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
    if workers == 1 or not spreads_connections():
        uvicorn.run(app, **options)
        return
    config = uvicorn.Config(app, **options)
    try:
        address = SharedAddress.hold(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    with address:
        scheme = "https" if tls_cert else "http"
        bound = address.getsockname()[1]
        log.info("serving on %s://%s:%d with %d workers", scheme, host, bound, workers)
        Multiprocess(config, sockets=[address]).run()
