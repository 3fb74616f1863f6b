"""Delegated step-up decisions (DESIGN §12): a signed HTTP POST to the app's backend.

The body is JSON ``{type: "stepup.request", app_id, user_id, session_id, scope, metadata,
ip, user_agent, created_at}``, signed like delivery webhooks: ``Sessile-Timestamp`` and
``Sessile-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>``. The answer is
``{"decision": "continue" | "review" | "block", "steps"?: [...]}``; ``steps``, when given,
replaces the scope's configured steps. A timeout, an error status or an answer that isn't
one of these gives the configured default decision.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from sessile.config import Settings
from sessile.delivery.webhook import webhook_signature
from sessile.stepup.policy import STEP_KINDS

__all__ = ["Decision", "DecisionHook"]

log = logging.getLogger("sessile.stepup")

_DECISIONS = ("continue", "review", "block")


@dataclass(frozen=True)
class Decision:
    status: str
    #: Steps the hook asked for instead of the configured ones.
    steps: list[str] | None = None


def _parse(answer: Any) -> Decision | None:
    if not isinstance(answer, dict) or answer.get("decision") not in _DECISIONS:
        return None
    steps = answer.get("steps")
    if steps is None:
        return Decision(answer["decision"])
    if (
        not isinstance(steps, list)
        or not 0 < len(steps) <= 5
        or not all(s in STEP_KINDS for s in steps)
    ):
        return None
    return Decision(answer["decision"], list(steps))


class DecisionHook:
    def __init__(self, url: str, secret: bytes, *, timeout: float, default: str) -> None:
        self._url = url
        self._secret = secret
        self._default = Decision(default)
        self._client = httpx.AsyncClient(timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> DecisionHook:
        # Settings refuses delegated mode without both.
        assert settings.stepup_hook_url is not None
        assert settings.stepup_hook_secret is not None
        return cls(
            settings.stepup_hook_url,
            settings.stepup_hook_secret.get_secret_value().encode(),
            timeout=settings.stepup_hook_timeout,
            default=settings.stepup_hook_default,
        )

    async def decide(self, request: dict[str, Any]) -> Decision:
        body = json.dumps(
            {
                "type": "stepup.request",
                **request,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Sessile-Timestamp": timestamp,
            "Sessile-Signature": webhook_signature(self._secret, timestamp, body),
        }
        try:
            response = await self._client.post(self._url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("step-up hook failed", extra={"error": type(exc).__name__})
            return self._default
        decision = None
        if response.is_success:
            try:
                decision = _parse(response.json())
            except ValueError:
                decision = None
        if decision is None:
            log.warning(
                "step-up hook gave no usable answer", extra={"status": response.status_code}
            )
            return self._default
        return decision
