"""``sessile sessions list|revoke``."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from sessile.cli.common import run_with_context, settings_from
from sessile.context import AppContext
from sessile.store.session_rows import SessionRow

__all__ = ["sessions"]


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@click.group()
def sessions() -> None:
    """A user's sessions."""


@sessions.command("list")
@click.option("--user", "user_id", required=True, help="The user id (usr_…).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.pass_context
def list_sessions(ctx: click.Context, user_id: str, limit: int) -> None:
    """List the user's live sessions, newest first."""

    async def work(context: AppContext) -> tuple[list[SessionRow], int]:
        return await context.sessions.list(user_id, limit=limit, offset=0)

    rows, total = run_with_context(settings_from(ctx), work)
    click.echo(f"{total} live session(s)")
    for row in rows:
        device = " ".join(p for p in (row.device_type, row.device_model, row.os_version) if p)
        click.echo(
            f"{row.id}  created {_when(row.created_at)}  last seen {_when(row.last_seen_at)}"
            f"  {device}  {row.country_code or '--'}"
        )


@sessions.command("revoke")
@click.option("--user", "user_id", help="Revoke every session of this user.")
@click.option("--session", "session_id", help="Revoke this one session.")
@click.pass_context
def revoke(ctx: click.Context, user_id: str | None, session_id: str | None) -> None:
    """Revoke all of a user's sessions, or one session."""
    if bool(user_id) == bool(session_id):
        raise click.UsageError("give exactly one of --user and --session")

    async def work(context: AppContext) -> int:
        if session_id:
            return int(await context.sessions.revoke_one(session_id, reason="admin"))
        assert user_id is not None
        return await context.sessions.revoke_user(user_id, reason="admin")

    count = run_with_context(settings_from(ctx), work)
    click.echo(f"revoked {count} session(s)")
    if session_id and not count:
        ctx.exit(1)
