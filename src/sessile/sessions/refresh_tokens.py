"""Refresh tokens (DESIGN §4): opaque, named by their session, rotated as an HMAC chain.

A token reads ``<session id>.<generation>.<secret>``. The first secret is 256
random bits; each successor's secret is ``HMAC-SHA256(server key, session id,
generation, previous secret)``. So a presented token can be checked against the
session's current one by walking forward: a genuine older token reaches the
current hash after ``current - presented`` steps, a forged one never does. The
database keeps only SHA-256 hashes.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import cached_property

from sessile.crypto import secret_hash

__all__ = [
    "MAX_ANCESTRY",
    "RefreshToken",
    "first_token",
    "hash_token",
    "parse_token",
    "reaches",
    "successor",
]

#: How many generations back a presented token is checked for reuse.
MAX_ANCESTRY = 10_000

_SHAPE = re.compile(r"^(ses_[0-9a-f]{32})\.(\d{1,9})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class RefreshToken:
    session_id: str
    generation: int
    secret: bytes

    def __str__(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The token as the client holds it; once per token, as it is hashed and sent."""
        encoded = base64.urlsafe_b64encode(self.secret).rstrip(b"=").decode()
        return f"{self.session_id}.{self.generation}.{encoded}"


def first_token(session_id: str) -> RefreshToken:
    return RefreshToken(session_id, 0, secrets.token_bytes(32))


def parse_token(value: str) -> RefreshToken | None:
    match = _SHAPE.match(value)
    if match is None:
        return None
    secret = base64.urlsafe_b64decode(match.group(3) + "=")
    return RefreshToken(match.group(1), int(match.group(2)), secret)


def hash_token(token: RefreshToken) -> str:
    return secret_hash(str(token))


def successor(key: bytes, token: RefreshToken) -> RefreshToken:
    message = f"{token.session_id}.{token.generation}.".encode() + token.secret
    return RefreshToken(token.session_id, token.generation + 1, hmac.digest(key, message, "sha256"))


def reaches(key: bytes, token: RefreshToken, *, generation: int, token_hash: str) -> bool:
    """True if ``token`` is a genuine ancestor of the token hashed as ``token_hash``."""
    steps = generation - token.generation
    if steps <= 0 or steps > MAX_ANCESTRY:
        return False
    current = token
    for _ in range(steps):
        current = successor(key, current)
    return hmac.compare_digest(hash_token(current), token_hash)
