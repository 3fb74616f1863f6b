"""``sessile``: serve, migrate, manage keys and make a development certificate."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click

from sessile.cli.apikeys import apikeys
from sessile.cli.common import run_with_context, settings_from
from sessile.cli.devcert import write_dev_certificate
from sessile.cli.sessions import sessions
from sessile.cli.users import users
from sessile.cli.webhooks import webhooks
from sessile.context import AppContext

__all__ = ["main"]


@click.group()
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file of settings (the same names as SESSILE_*, lower case, without the prefix).",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """sessile: sessions with short-lived JWTs and DPoP-bound refresh tokens."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="PEM certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="PEM private key.")
@click.option("--demo", is_flag=True, help="Serve the demo app at /.")
@click.option(
    "--demo-outbox",
    is_flag=True,
    help="With --demo: show the outbox's latest codes on the login page (local requests only).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65_535),
    help="Serve /metrics on this port, a listener of its own [SESSILE_METRICS_PORT].",
)
@click.option(
    "--metrics-host",
    help="The metrics listener's address [SESSILE_METRICS_HOST, default 127.0.0.1].",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    tls_cert: str | None,
    tls_key: str | None,
    demo: bool,
    demo_outbox: bool,
    metrics_port: int | None,
    metrics_host: str | None,
) -> None:
    """Migrate the database, then serve the API (and /metrics, on a port of its own)."""
    from sessile.cli.serving import APP, serve_app
    from sessile.logs import configure_logging

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    # The workers read their settings from the environment.
    if demo:
        os.environ["SESSILE_DEMO"] = "true"
    if demo_outbox:
        os.environ["SESSILE_DEMO_OUTBOX"] = "true"
    if metrics_port is not None:
        os.environ["SESSILE_METRICS_PORT"] = str(metrics_port)
    if metrics_host is not None:
        os.environ["SESSILE_METRICS_HOST"] = metrics_host
    settings = settings_from(ctx)
    if settings.metrics_port == port:
        raise click.UsageError("the metrics listener needs a port other than the API's")
    configure_logging(settings.log_level)
    run_with_context(settings, _prepare)
    metrics_dir = _multiprocess_metrics(workers)
    try:
        serve_app(
            APP,
            host=host,
            port=port,
            workers=workers,
            tls_cert=tls_cert,
            tls_key=tls_key,
            log_level=settings.log_level,
            metrics=(
                None
                if settings.metrics_port is None
                else (settings.metrics_host, settings.metrics_port)
            ),
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _multiprocess_metrics(workers: int) -> str | None:
    """With several workers, prometheus-client keeps each worker's samples in files that
    ``/metrics`` sums: give them a fresh folder (unless the operator named one)."""
    if workers == 1 or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return None
    folder = tempfile.mkdtemp(prefix="sessile-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


async def _prepare(context: AppContext) -> None:
    await context.ring.ensure()
    await context.body_keys.ensure()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply every pending migration."""
    settings = settings_from(ctx)

    async def nothing(_context: AppContext) -> None:
        return None

    run_with_context(settings, nothing)
    click.echo("database is up to date")


@main.group()
def keys() -> None:
    """The signing-key rings: ES256 for tokens, PS256 for outgoing bodies."""


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """Show every key with its state."""
    settings = settings_from(ctx)

    async def work(context: AppContext) -> list[Any]:
        await context.ring.reload()
        await context.body_keys.reload()
        now = context.clock.now()
        keys = context.ring.all_keys() + context.body_keys.all_keys()
        return [(k, k.state(now)) for k in keys]

    click.echo(f"{'kid':<45} {'alg':<6} {'state':<10} {'created':<12} {'signs from':<12} retired")
    for key, state in run_with_context(settings, work):
        retired = f"{key.retired_at:.0f}" if key.retired_at else "-"
        click.echo(
            f"{key.kid:<45} {key.alg:<6} {state:<10} {key.created_at:<12.0f} "
            f"{key.active_at:<12.0f} {retired}"
        )


@keys.command("rotate")
@click.option(
    "--now", "immediately", is_flag=True, help="Sign with the new key at once (emergency)."
)
@click.pass_context
def keys_rotate(ctx: click.Context, immediately: bool) -> None:
    """Publish a new key in each ring; it signs after the publish delay, and the old one
    retires then. The ring of body-signing keys rotates once it has a key (it makes its
    first when something is first signed)."""
    settings = settings_from(ctx)

    async def work(context: AppContext) -> list[Any]:
        await context.ring.reload()
        await context.body_keys.reload()
        rotated = [await context.ring.rotate(immediately=immediately)]
        if context.body_keys.all_keys():
            rotated.append(await context.body_keys.rotate(immediately=immediately))
        return rotated

    for key in run_with_context(settings, work):
        click.echo(f"new key {key.kid} ({key.alg}) signs from {key.active_at:.0f}")


@main.command("dev-cert")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var"),
    show_default=True,
)
@click.option("--host", "hosts", multiple=True, default=["localhost", "127.0.0.1", "::1"])
def dev_cert(out: Path, hosts: tuple[str, ...]) -> None:
    """Write a self-signed certificate for local HTTPS development."""
    cert, key = write_dev_certificate(out, list(hosts))
    click.echo(f"wrote {cert} and {key}")
    click.echo(f"serve with: sessile serve --tls-cert {cert} --tls-key {key}")


main.add_command(sessions)
main.add_command(apikeys)
main.add_command(users)
main.add_command(webhooks)
