"""Identifiers: a type prefix plus 128 random bits, e.g. ``usr_…`` and ``ses_…``."""

from __future__ import annotations

import secrets

__all__ = ["new_id"]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"
