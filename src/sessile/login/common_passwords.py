"""The common-password list (OWASP ASVS 5.0 V6.2.4): passwords attackers try first.

The list ships with the package: 20,000 common passwords, lowercased, as Django ships
them (``common-passwords.LICENSE`` beside it says where it comes from). Matching is
case-insensitive, so ``Password123`` is as common as ``password123``.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

__all__ = ["is_common", "size"]

_LIST = "common-passwords.txt.gz"


@cache
def _passwords() -> frozenset[str]:
    raw = resources.files(__package__).joinpath(_LIST).read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    return password.strip().lower() in _passwords()


def size() -> int:
    """How many passwords the list holds."""
    return len(_passwords())
