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
    help="What the key may do (repeat for more): "
    "revocations:read for a token verifier, users:read and users:write for a backend "
    "that manages users, and so on.",
)
@click.option(
    "--all-scopes",
    is_flag=True,
    help="A key that may do everything, now and in later versions (an operator's key).",
)
@click.pass_context
def create(ctx: click.Context, name: str, scopes: tuple[str, ...], all_scopes: bool) -> None:
    """Make a key and print it once: it is stored only as a hash.

    Say what the key may do: a key that can do everything is asked for by name
    (--all-scopes), so that none is made by forgetting --scope."""
    choices = ", ".join(API_SCOPES)
    if all_scopes and scopes:
        raise click.UsageError("give --scope or --all-scopes, not both")
    if not all_scopes and not scopes:
        raise click.UsageError(
            f"say what the key may do: --scope SCOPE (repeat for more; one of {choices}), "
            "or --all-scopes for a key that may do everything"
        )

    async def work(context: AppContext) -> tuple[ApiKey, str]:
        return await context.api_keys.create(name, scopes=None if all_scopes else list(scopes))

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
