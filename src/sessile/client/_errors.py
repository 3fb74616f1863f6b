from __future__ import annotations

from typing import Any

__all__ = ["SessionClientError"]


class SessionClientError(Exception):
    """An error answer from the server; ``code`` is the wire code (``unauthorized``, …)."""

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body
