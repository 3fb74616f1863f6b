"""The session protocol without I/O: each operation is a generator that yields the
requests it needs and receives their responses, so the sync and async clients are
two small drivers around the same steps."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from sessile.client._errors import SessionClientError
from sessile.client._key import DPoPKey

__all__ = ["Call", "ClientState", "Operation", "SessionProtocol", "Tokens"]

_BASE = "/v1/session"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: int
    refresh_token: str | None
    refresh_expires_at: int | None


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    dpop: bool = False
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] | None = None


#: Yields calls, receives their successful responses, returns the operation's result.
Operation = Generator[Call, httpx.Response, Any]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class SessionProtocol:
    """State (key, nonce, tokens) and the steps of every operation."""

    def __init__(self, base_url: str, key: DPoPKey, clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.clock = clock
        self.nonce: str | None = None
        self.tokens: Tokens | None = None
        self.verification_token: str | None = None

    # One exchange ----------------------------------------------------------------------------
    def build(self, call: Call) -> httpx.Request:
        url = f"{self.base_url}{_BASE}{call.path}"
        headers = dict(call.headers)
        if call.dpop:
            headers["DPoP"] = self.key.proof(call.method, url, nonce=self.nonce, iat=self.clock())
        return httpx.Request(call.method, url, json=call.json, headers=headers, params=call.params)

    def accept(self, call: Call, response: httpx.Response, *, attempt: int) -> bool:
        """Read a response: True when it should be sent again (a fresh nonce), else
        return normally for a success or raise SessionClientError."""
        self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
        if response.status_code < 400:
            return False
        body = _json(response)
        code = body.get("code", "internal") if isinstance(body, dict) else "internal"
        if call.dpop and code == "use_dpop_nonce" and attempt == 0:
            return True
        message = body.get("message", response.text) if isinstance(body, dict) else response.text
        raise SessionClientError(response.status_code, code, message, body)

    # Helpers ---------------------------------------------------------------------------------
    def _keep_tokens(self, response: httpx.Response) -> Tokens:
        body = response.json()
        expires = response.headers.get("X-Refresh-Token-Expires-At")
        previous = self.tokens.refresh_token if self.tokens else None
        self.tokens = Tokens(
            access_token=body["access_token"],
            expires_at=int(body["expires_at"]),
            refresh_token=response.headers.get("X-Refresh-Token", previous),
            refresh_expires_at=_unix_seconds(expires) if expires else None,
        )
        return self.tokens

    def _bearer(self) -> dict[str, str]:
        if self.tokens is None:
            raise SessionClientError(401, "unauthorized", "not logged in")
        return {"Authorization": f"Bearer {self.tokens.access_token}"}

    def _refresh_header(self) -> dict[str, str]:
        if self.tokens is None or not self.tokens.refresh_token:
            raise SessionClientError(401, "unauthorized", "not logged in")
        return {"X-Refresh-Token": self.tokens.refresh_token}

    def _verification(self) -> dict[str, str]:
        token = self.verification_token
        return {"X-Verification-Token": token} if token else {}

    # Operations ------------------------------------------------------------------------------
    def start_otp(self, identifier_type: str, value: str) -> Operation:
        identifier = {"type": identifier_type, "value": value}
        # Header mode: the verification token comes back as a header, not only a cookie.
        response = yield Call(
            "POST",
            "/login/otp",
            json={"identifier": identifier},
            headers={"X-Refresh-Token-Mode": "header"},
        )
        self.verification_token = response.headers.get("X-Verification-Token")

    def retry_otp(self) -> Operation:
        yield Call("POST", "/login/otp/retry", headers=self._verification())

    def check_otp(self, code: str) -> Operation:
        headers = {**self._verification(), "X-Refresh-Token-Mode": "header"}
        response = yield Call(
            "POST", "/login/otp/check", dpop=True, json={"code": code}, headers=headers
        )
        self.verification_token = None
        return self._keep_tokens(response)

    def login_with_password(self, email: str, password: str) -> Operation:
        body = {"identifier": {"type": "email_address", "value": email}, "password": password}
        response = yield Call("POST", "/login/email/password", json=body)
        return (yield from self.finalize(response.json()["challenge_token"]))

    def sign_up(self, email: str, password: str) -> Operation:
        """Tokens, or None when the address must be proven first: then ``check_otp``."""
        body = {"identifier": {"type": "email_address", "value": email}, "password": password}
        response = yield Call("POST", "/login/email/sign-up", json=body)
        answer = response.json()
        if answer.get("status") == "otp_required":
            self.verification_token = answer["challenge_token"]
            return None
        return (yield from self.finalize(answer["challenge_token"]))

    def finalize(self, challenge_token: str) -> Operation:
        response = yield Call(
            "POST",
            "/login/finalize",
            dpop=True,
            json={"challenge_token": challenge_token},
            headers={"X-Refresh-Token-Mode": "header"},
        )
        return self._keep_tokens(response)

    def finalize_oauth(self, challenge_token: str, code_verifier: str) -> Operation:
        """Tokens, or None when the e-mail address must be proven first: then ``check_otp``."""
        response = yield Call(
            "POST",
            "/login/finalize",
            dpop=True,
            json={"challenge_token": challenge_token, "code_verifier": code_verifier},
            headers={"X-Refresh-Token-Mode": "header"},
        )
        if response.json().get("status") == "otp_required":
            self.verification_token = response.headers.get("X-Verification-Token")
            return None
        return self._keep_tokens(response)

    def refresh(self, step_up_token: str | None = None) -> Operation:
        body = {"step_up_token": step_up_token} if step_up_token else None
        response = yield Call(
            "POST", "/refresh", dpop=True, headers=self._refresh_header(), json=body
        )
        return self._keep_tokens(response)

    def list_sessions(self, limit: int, offset: int) -> Operation:
        params = {"limit": limit, "offset": offset}
        response = yield Call("GET", "/me/list", headers=self._bearer(), params=params)
        return response.json()

    def revoke_sessions(self, target: str, session_id: str | None) -> Operation:
        params = {"target": target, **({"session_id": session_id} if session_id else {})}
        response = yield Call("POST", "/me/revoke", headers=self._bearer(), params=params)
        return response.json()

    def logout(self) -> Operation:
        headers = self._refresh_header() if self.tokens and self.tokens.refresh_token else {}
        yield Call("POST", "/revoke", dpop=True, headers=headers)
        self.tokens = None


class ClientState:
    """What the sync and async clients show of their protocol's state."""

    _protocol: SessionProtocol

    @property
    def key(self) -> DPoPKey:
        return self._protocol.key

    @property
    def nonce(self) -> str | None:
        return self._protocol.nonce

    @property
    def tokens(self) -> Tokens | None:
        return self._protocol.tokens

    @tokens.setter
    def tokens(self, value: Tokens | None) -> None:
        self._protocol.tokens = value

    @property
    def verification_token(self) -> str | None:
        return self._protocol.verification_token


def _unix_seconds(value: str) -> int:
    """``X-Refresh-Token-Expires-At``: RFC 3339 (ISO 8601), or unix seconds as older
    servers sent it."""
    if value.isdigit():
        return int(value)
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
