"""``sessile users …``: the management API's user operations on the command line."""

from __future__ import annotations

import click

__all__ = ["users"]


@click.group()
def users() -> None:
    """Users."""
