"""``sessile users …``: the management API's user operations on the command line.

The commands call the same services as the API, and print the same JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from sessile.cli.common import run_with_context, settings_from
from sessile.context import AppContext
from sessile.errors import SessileError
from sessile.http.views import session_page, user_views
from sessile.identifiers import IDENTIFIER_TYPES, parse_identifier
from sessile.store.users import User

__all__ = ["users"]

T = TypeVar("T")


def _run(ctx: click.Context, work: Callable[[AppContext], Awaitable[T]]) -> T:
    """Run ``work``; a sessile error (policy, identifier, conflict) exits 1 with its code."""
    try:
        return run_with_context(settings_from(ctx), work)
    except SessileError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _echo_user(ctx: click.Context, user: User | None, user_id: str) -> None:
    if user is None:
        raise click.ClickException(f"no user {user_id}")
    found = user

    async def work(context: AppContext) -> list[dict[str, Any]]:
        return user_views([found], await context.users.identities([found]))

    _echo_json(_run(ctx, work)[0])


def _read_password() -> str:
    """One line from stdin, without its line ending (the rest of it counts)."""
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


@click.group()
def users() -> None:
    """Users: create, look up, disable, delete, set passwords, list sessions."""


@users.command("create")
@click.option("--email", "emails", multiple=True, help="An e-mail address (repeatable).")
@click.option("--phone", "phones", multiple=True, help="A phone number, E.164 (repeatable).")
@click.option("--profile", default="{}", show_default=True, help="The profile, a JSON object.")
@click.option("--password-stdin", is_flag=True, help="Read a password from the first stdin line.")
@click.pass_context
def create(
    ctx: click.Context,
    emails: tuple[str, ...],
    phones: tuple[str, ...],
    profile: str,
    password_stdin: bool,
) -> None:
    """Create a user and print it."""
    if not emails and not phones:
        raise click.UsageError("give at least one --email or --phone")
    try:
        profile_value = json.loads(profile)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--profile") from exc
    if not isinstance(profile_value, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--profile")
    password = _read_password() if password_stdin else None
    raw = [{"type": "email_address", "value": e} for e in emails] + [
        {"type": "phone_number", "value": p} for p in phones
    ]

    async def work(context: AppContext) -> User:
        idents = [parse_identifier(r) for r in raw]
        return await context.users.create(idents, profile=profile_value, password=password)

    user = _run(ctx, work)
    _echo_user(ctx, user, user.id)


@users.command("unlock")
@click.option("--email", help="The e-mail address to unlock.")
@click.option("--phone", help="The phone number to unlock, E.164.")
@click.pass_context
def unlock(ctx: click.Context, email: str | None, phone: str | None) -> None:
    """Clear an identifier's failed logins and any lockout, including the hard one."""
    if bool(email) == bool(phone):
        raise click.UsageError("give one of --email or --phone")
    raw = (
        {"type": "email_address", "value": email}
        if email
        else {
            "type": "phone_number",
            "value": phone,
        }
    )

    async def work(context: AppContext) -> bool:
        return await context.lockout.unlock(parse_identifier(raw))

    cleared = _run(ctx, work)
    click.echo("unlocked" if cleared else "nothing to unlock")


@users.command("list")
@click.option("--identifier-type", type=click.Choice(IDENTIFIER_TYPES))
@click.option("--identifier-value", help="With --identifier-type: find the user holding it.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0))
@click.pass_context
def list_users(
    ctx: click.Context,
    identifier_type: str | None,
    identifier_value: str | None,
    limit: int,
    offset: int,
) -> None:
    """List users, oldest first, or find one by identifier (normalised as at login)."""
    if (identifier_type is None) != (identifier_value is None):
        raise click.UsageError("--identifier-type and --identifier-value go together")

    async def work(context: AppContext) -> tuple[list[dict[str, Any]], int]:
        if identifier_type is None:
            page, total = await context.users.page(limit=limit, offset=offset)
        else:
            wanted = parse_identifier({"type": identifier_type, "value": identifier_value})
            page, total = await context.users.holding(wanted, offset=offset)
        return user_views(page, await context.users.identities(page)), total

    page, total = _run(ctx, work)
    _echo_json({"users": page, "total": total, "limit": limit, "offset": offset})


@users.command("get")
@click.argument("user_id")
@click.pass_context
def get(ctx: click.Context, user_id: str) -> None:
    """Print one user."""

    async def work(context: AppContext) -> User | None:
        return await context.users.get(user_id)

    _echo_user(ctx, _run(ctx, work), user_id)


@users.command("disable")
@click.argument("user_id")
@click.pass_context
def disable(ctx: click.Context, user_id: str) -> None:
    """Disable a user: no new login, and every session is revoked."""

    async def work(context: AppContext) -> User | None:
        return await context.users.update(user_id, disabled=True)

    _echo_user(ctx, _run(ctx, work), user_id)


@users.command("enable")
@click.argument("user_id")
@click.pass_context
def enable(ctx: click.Context, user_id: str) -> None:
    """Let a disabled user log in again."""

    async def work(context: AppContext) -> User | None:
        return await context.users.update(user_id, disabled=False)

    _echo_user(ctx, _run(ctx, work), user_id)


@users.command("delete")
@click.argument("user_id")
@click.pass_context
def delete(ctx: click.Context, user_id: str) -> None:
    """Revoke every session of a user, then delete the user."""

    async def work(context: AppContext) -> bool:
        return await context.users.delete(user_id)

    if not _run(ctx, work):
        raise click.ClickException(f"no user {user_id}")
    click.echo(f"deleted {user_id}")


@users.command("set-password")
@click.argument("user_id")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first stdin line.")
@click.option("--remove", is_flag=True, help="Remove the password instead.")
@click.option("--revoke-sessions", is_flag=True, help="Also revoke every session of the user.")
@click.pass_context
def set_password_command(
    ctx: click.Context, user_id: str, password_stdin: bool, remove: bool, revoke_sessions: bool
) -> None:
    """Set (policy enforced) or remove a user's password."""
    if password_stdin == remove:
        raise click.UsageError("give exactly one of --password-stdin and --remove")
    password = None if remove else _read_password()

    async def work(context: AppContext) -> User | None:
        return await context.users.set_password(user_id, password, revoke_sessions=revoke_sessions)

    _echo_user(ctx, _run(ctx, work), user_id)


@users.command("sessions")
@click.argument("user_id")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0))
@click.pass_context
def sessions(ctx: click.Context, user_id: str, limit: int, offset: int) -> None:
    """List the user's live sessions, newest first."""

    async def work(context: AppContext) -> dict[str, Any] | None:
        if await context.users.get(user_id) is None:
            return None
        rows, total = await context.sessions.list(user_id, limit=limit, offset=offset)
        return session_page(
            rows, total, limit=limit, offset=offset, ends_at=context.sessions.ends_at
        )

    listing = _run(ctx, work)
    if listing is None:
        raise click.ClickException(f"no user {user_id}")
    _echo_json(listing)
