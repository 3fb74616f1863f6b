"""The ``sessile`` command line."""

from sessile.cli.main import main

__all__ = ["main"]
