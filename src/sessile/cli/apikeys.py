"""``sessile apikeys create|list|revoke``: keys for the management API."""

from __future__ import annotations

import click

from sessile.api_keys import ApiKey
from sessile.api_scopes import API_SCOPES
from sessile.cli.common import run_with_context, settings_from
from sessile.context import AppContext

__all__ = ["apikeys"]


@click.group()
def apikeys() -> None:
    """Management API keys."""


@apikeys.command("create")
@click.option("--name", required=True, help="What the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(API_SCOPES),
    help="Allow only this (repeat for more); without any, the key may do everything.",
)
@click.pass_context
def create(ctx: click.Context, name: str, scopes: tuple[str, ...]) -> None:
    """Make a key and print it once: it is stored only as a hash."""

    async def work(context: AppContext) -> tuple[ApiKey, str]:
        return await context.api_keys.create(name, scopes=list(scopes) if scopes else None)

    key, secret = run_with_context(settings_from(ctx), work)
    click.echo(secret)
    click.echo(f"key {key.id} ({name}); keep it secret, it is not shown again", err=True)


@apikeys.command("list")
@click.pass_context
def list_keys(ctx: click.Context) -> None:
    """Show every key (never the secret)."""

    async def work(context: AppContext) -> list[ApiKey]:
        return await context.api_keys.list()

    for key in run_with_context(settings_from(ctx), work):
        state = "revoked" if key.revoked_at else "active"
        scopes = "all" if key.scopes is None else ",".join(key.scopes)
        click.echo(f"{key.id}  {state:<8} {key.name}  [{scopes}]")


@apikeys.command("revoke")
@click.argument("key_id")
@click.pass_context
def revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key at once."""

    async def work(context: AppContext) -> bool:
        return await context.api_keys.revoke(key_id)

    if not run_with_context(settings_from(ctx), work):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"revoked {key_id}")
