"""The step-up delegation hook (PRELUDE-API §6.1): for a scope in ``delegated`` mode, the
app's backend decides each request.

sessile POSTs ``{scope_requested, user_id, identifiers[{type, value}], signals{user_agent,
platform, ip}, metadata}``, signed like its webhooks: ``X-Webhook-Signature`` is the
unpadded base64url RSASSA-PSS SHA-256 signature of the body by a key of the app's JWKS
(``/.well-known/jwks.json``), and ``X-Webhook-Signature-Key-Id`` names it. The hook answers
``{status, granted_for, grant_mode, steps[{key, expiration_duration}]}`` within five
seconds and 64 KB. Anything else is a failure, with one of the documented reasons; the
request then gets the configured default decision, and a ``step_up.hook_failed`` event
tells the app's backend why.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from sessile.stepup.config import GRANT_MODES, MAX_STEPS, Decision, Step

__all__ = ["BodySigning", "DelegationHook", "HookFailed", "HookRequest", "parse_answer"]

log = logging.getLogger("sessile.stepup")

USER_AGENT = "sessile-SessionStepUpHook/1.0"
SIGNATURE_HEADER = "X-Webhook-Signature"
KEY_ID_HEADER = "X-Webhook-Signature-Key-Id"
MAX_ANSWER_BYTES = 64 * 1024
_MAX_SECONDS = 86_400
_STEP_KEY = re.compile(r"^[a-zA-Z0-9._:-]{1,64}$")

Reason = Literal[
    "request_failed",
    "invalid_status_code",
    "response_decode_failed",
    "invalid_status",
    "missing_steps",
    "invalid_granted_for",
    "invalid_grant_mode",
    "invalid_step",
    "invalid_response",
]


class SignedBody(Protocol):
    @property
    def kid(self) -> str: ...

    @property
    def signature(self) -> str: ...


class BodySigning(Protocol):
    async def sign(self, body: bytes) -> SignedBody: ...


class HookFailed(Exception):
    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: Reason = reason


@dataclass(frozen=True)
class HookRequest:
    scope: str
    user_id: str
    identifiers: Sequence[tuple[str, str]]
    user_agent: str | None
    platform: str
    ip: str | None
    metadata: Mapping[str, str]

    def body(self) -> bytes:
        return json.dumps(
            {
                "scope_requested": self.scope,
                "user_id": self.user_id,
                "identifiers": [{"type": t, "value": v} for t, v in self.identifiers],
                "signals": {
                    "user_agent": self.user_agent or "",
                    "platform": self.platform,
                    "ip": self.ip or "",
                },
                "metadata": dict(self.metadata),
            },
            separators=(",", ":"),
        ).encode()


def _seconds(value: Any, reason: Reason) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_SECONDS:
        raise HookFailed(reason, f"{value!r} is not 0 to {_MAX_SECONDS} seconds")
    return value


def parse_answer(answer: Any) -> Decision:
    """The hook's answer as a decision; :class:`HookFailed` with the documented reason."""
    if not isinstance(answer, dict):
        raise HookFailed("invalid_response", "not a JSON object")
    status = answer.get("status")
    if status not in ("continue", "review", "block"):
        raise HookFailed("invalid_status", repr(status)[:40])
    if status == "block":
        return Decision("block")
    grant_mode = answer.get("grant_mode")
    if grant_mode not in GRANT_MODES:
        raise HookFailed("invalid_grant_mode", repr(grant_mode)[:40])
    granted_for = _seconds(answer.get("granted_for", 0), "invalid_granted_for")
    if granted_for == 0 and grant_mode != "single-use":
        raise HookFailed("invalid_granted_for", f"0 for {grant_mode}")
    raw_steps = answer.get("steps") or []
    if not isinstance(raw_steps, list):
        raise HookFailed("invalid_step", "steps is not a list")
    if status == "review" and not raw_steps:
        raise HookFailed("missing_steps")
    if len(raw_steps) > MAX_STEPS:
        raise HookFailed("invalid_step", f"more than {MAX_STEPS} steps")
    steps: list[Step] = []
    for index, raw in enumerate(raw_steps if status == "review" else []):
        if not isinstance(raw, dict) or not _STEP_KEY.match(str(raw.get("key", ""))):
            raise HookFailed("invalid_step", f"step {index + 1}")
        duration = _seconds(raw.get("expiration_duration", 0), "invalid_step")
        order = raw.get("order", index + 1)
        if isinstance(order, bool) or not isinstance(order, int):
            raise HookFailed("invalid_step", f"step {index + 1}: order")
        steps.append(Step(order=max(order, 0), key=raw["key"], expiration_duration=duration))
    steps.sort(key=lambda s: s.order)
    return Decision(status, tuple(steps), grant_mode=grant_mode, granted_for=granted_for)


class DelegationHook:
    """Calls a scope's hook; failures become the default decision and an event."""

    def __init__(
        self,
        signer: BodySigning,
        client: httpx.AsyncClient,
        *,
        timeout: float,
        default: Literal["continue", "review", "block"],
        default_granted_for: int,
        on_failure: Callable[[HookRequest, Reason], Awaitable[None]],
    ) -> None:
        self._signer = signer
        self._client = client
        self._timeout = timeout
        self._default = default
        self._default_granted_for = default_granted_for
        self._on_failure = on_failure

    async def decide(self, url: str, request: HookRequest) -> Decision:
        try:
            # One deadline for the whole call: a hook that trickles its answer a byte at a
            # time must not hold the request past the timeout either.
            async with asyncio.timeout(self._timeout):
                return await self._call(url, request)
        except TimeoutError:
            failure = HookFailed("request_failed", "timed out")
        except HookFailed as caught:
            failure = caught
        log.warning(
            "step-up hook failed",
            extra={"reason": failure.reason, "scope": request.scope, "error": str(failure)},
        )
        await self._on_failure(request, failure.reason)
        if self._default == "block":
            return Decision("block")
        # A configured fallback other than block: grant as a session-bound scope, with no
        # step, since a hook that failed gave none.
        return Decision("continue", (), "session-bound", self._default_granted_for)

    async def _call(self, url: str, request: HookRequest) -> Decision:
        body = request.body()
        signed = await self._signer.sign(body)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signed.signature,
            KEY_ID_HEADER: signed.kid,
        }
        try:
            async with self._client.stream(
                "POST", url, content=body, headers=headers, timeout=self._timeout
            ) as response:
                if not response.is_success:
                    raise HookFailed("invalid_status_code", f"HTTP {response.status_code}")
                answer = b""
                async for chunk in response.aiter_bytes():
                    answer += chunk
                    if len(answer) > MAX_ANSWER_BYTES:
                        raise HookFailed("response_decode_failed", "larger than 64 KB")
        except httpx.HTTPError as exc:
            raise HookFailed("request_failed", type(exc).__name__) from exc
        try:
            parsed = json.loads(answer)
        except ValueError as exc:
            raise HookFailed("response_decode_failed", "not JSON") from exc
        return parse_answer(parsed)


def platform_of(sdk_user_agent: str | None, user_agent: str | None) -> str:
    """``WEB``, ``ANDROID`` or ``IOS``: from the SDK's own header when it sends one."""
    text = f"{sdk_user_agent or ''} {user_agent or ''}".lower()
    if sdk_user_agent:
        text = sdk_user_agent.lower()
    if "android" in text:
        return "ANDROID"
    if "ios" in text or "iphone" in text or "ipad" in text:
        return "IOS"
    return "WEB"
