"""What every command shares: settings with clear errors, and an app context to work in."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from sessile.audit import acting_as
from sessile.config import ConfigError, Settings, load_settings
from sessile.context import AppContext
from sessile.store.migrate import upgrade

__all__ = ["run_with_context", "settings_from"]

T = TypeVar("T")


def settings_from(ctx: click.Context) -> Settings:
    config: Path | None = ctx.obj.get("config") if ctx.obj else None
    if config is not None:
        # Worker processes load their settings again, from the environment.
        os.environ["SESSILE_CONFIG"] = str(config.resolve())
    try:
        return load_settings(config)
    except ConfigError as exc:
        _stop(exc)


def run_with_context(settings: Settings, work: Callable[[AppContext], Awaitable[T]]) -> T:
    async def runner() -> T:
        acting_as("cli")
        context = AppContext.build(settings)
        try:
            await upgrade(context.db.engine)
            return await work(context)
        finally:
            await context.db.close()

    try:
        return asyncio.run(runner())
    except ConfigError as exc:  # what the settings name, found unusable (the secret's file)
        _stop(exc)


def _stop(error: ConfigError) -> NoReturn:
    click.echo(f"sessile: {error}", err=True)
    sys.exit(2)
