"""The development outbox: one JSON object per line (DESIGN §9), also printed to the console."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sessile.delivery.base import Message
from sessile.errors import DeliveryFailed

__all__ = ["OutboxSender"]


class OutboxSender:
    def __init__(self, path: Path, *, echo: bool = True) -> None:
        self.path = path
        self._echo = echo

    async def send(self, message: Message) -> None:
        entry = {
            "channel": message.channel,
            "to": message.to,
            "code": message.code,
            "text": message.text,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        try:
            await asyncio.to_thread(self._append, json.dumps(entry))
        except OSError as exc:
            raise DeliveryFailed() from exc
        if self._echo:
            # The development console shows where the code went: never do this in production.
            print(f"[outbox] {message.channel} to {message.to}: {message.text}", file=sys.stderr)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
