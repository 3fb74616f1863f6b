"""``sessile webhooks create|list|add-event|activate|delete|dead-letters|redeliver``."""

from __future__ import annotations

import json

import click

from sessile.cli.common import run_with_context, settings_from
from sessile.context import AppContext
from sessile.event_types import EVENT_TYPES
from sessile.events.signing import HMAC_SHA256, RSASSA_PSS_SHA256, SIGNATURE_SCHEMES
from sessile.store.events import QueuedEvent
from sessile.store.webhooks import Webhook

__all__ = ["webhooks"]


@click.group()
def webhooks() -> None:
    """Webhook endpoints for lifecycle events."""


@webhooks.command("create")
@click.option("--url", required=True, help="Where events are POSTed.")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(EVENT_TYPES),
    help="Subscribe to this event (repeat for more); without any, to every event.",
)
@click.option(
    "--verification-token", required=True, help="Echoed to the endpoint when it is activated."
)
@click.option(
    "--signature",
    type=click.Choice(SIGNATURE_SCHEMES),
    default=RSASSA_PSS_SHA256,
    show_default=True,
    help="rsassa-pss-sha256: by a key of the JWKS; hmac-sha256: by a secret printed once.",
)
@click.pass_context
def create(
    ctx: click.Context,
    url: str,
    events: tuple[str, ...],
    verification_token: str,
    signature: str,
) -> None:
    """Register an endpoint; print its id, then, for hmac-sha256, its secret (shown once)."""

    async def work(context: AppContext) -> tuple[Webhook, str | None]:
        return await context.endpoints.create(
            url=url,
            events=list(events or EVENT_TYPES),
            verification_token=verification_token,
            signature=signature,
        )

    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("an http or https URL", param_hint="--url")
    webhook, secret = run_with_context(settings_from(ctx), work)
    click.echo(webhook.id)
    if signature == HMAC_SHA256 and secret is not None:
        click.echo(secret)
    click.echo("activate it with: sessile webhooks activate " + webhook.id, err=True)


@webhooks.command("list")
@click.pass_context
def list_all(ctx: click.Context) -> None:
    """Every endpoint with its state and event filter."""

    async def work(context: AppContext) -> list[Webhook]:
        return await context.endpoints.all()

    for webhook in run_with_context(settings_from(ctx), work):
        state = "active" if webhook.active else "inactive"
        click.echo(
            f"{webhook.id}  {state:<8} {webhook.url}  {','.join(webhook.events)}  "
            f"{webhook.signature}"
        )


@webhooks.command("add-event")
@click.argument("webhook_id")
@click.argument("event", type=click.Choice(EVENT_TYPES))
@click.pass_context
def add_event(ctx: click.Context, webhook_id: str, event: str) -> None:
    """Subscribe an endpoint to one more event."""

    async def work(context: AppContext) -> Webhook:
        return await context.endpoints.add_event(webhook_id, event)

    try:
        webhook = run_with_context(settings_from(ctx), work)
    except Exception as exc:  # a SessileError with the reason
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{webhook.id} receives {','.join(webhook.events)}")


@webhooks.command("activate")
@click.argument("webhook_id")
@click.pass_context
def activate(ctx: click.Context, webhook_id: str) -> None:
    """Send the activation challenge; the endpoint gets events once it echoes it."""

    async def work(context: AppContext) -> Webhook:
        return await context.endpoints.activate(webhook_id)

    try:
        run_with_context(settings_from(ctx), work)
    except Exception as exc:  # a SessileError with the reason
        raise click.ClickException(str(exc)) from exc
    click.echo(f"activated {webhook_id}")


@webhooks.command("delete")
@click.argument("webhook_id")
@click.pass_context
def delete(ctx: click.Context, webhook_id: str) -> None:
    """Remove an endpoint with its queued events and dead letters."""

    async def work(context: AppContext) -> bool:
        return await context.endpoints.delete(webhook_id)

    if not run_with_context(settings_from(ctx), work):
        raise click.ClickException(f"no webhook {webhook_id}")
    click.echo(f"deleted {webhook_id}")


@webhooks.command("dead-letters")
@click.argument("webhook_id")
@click.pass_context
def dead_letters(ctx: click.Context, webhook_id: str) -> None:
    """Print the endpoint's dead letters, one JSON object a line."""

    async def work(context: AppContext) -> list[QueuedEvent]:
        return await context.endpoints.dead_letters(webhook_id, limit=10_000)

    for row in run_with_context(settings_from(ctx), work):
        click.echo(json.dumps({**row.payload, "attempts": row.attempts, "error": row.last_error}))


@webhooks.command("redeliver")
@click.argument("webhook_id")
@click.option("--event", "event_ids", multiple=True, help="Only this event id (repeatable).")
@click.pass_context
def redeliver(ctx: click.Context, webhook_id: str, event_ids: tuple[str, ...]) -> None:
    """Queue the endpoint's dead letters (or the ones named) again."""

    async def work(context: AppContext) -> int:
        return await context.endpoints.redeliver(webhook_id, list(event_ids) or None)

    click.echo(f"{run_with_context(settings_from(ctx), work)} event(s) queued again")
