"""The synchronous session client, on httpx."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sessile.client._errors import SessionClientError
from sessile.client._key import DPoPKey

__all__ = ["SessionClient", "Tokens"]

_BASE = "/v1/session"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_at: int
    refresh_token: str | None
    refresh_expires_at: int | None


class SessionClient:
    """Log in, refresh and manage sessions as one DPoP-bound client.

    The refresh token travels in ``X-Refresh-Token`` (header mode); the key stays
    in memory unless saved with :meth:`DPoPKey.to_pem`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        key: DPoPKey | None = None,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key or DPoPKey.generate()
        self._http = http or httpx.Client(timeout=timeout)
        self._clock = clock
        self.nonce: str | None = None
        self.tokens: Tokens | None = None
        self.verification_token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SessionClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Transport ----------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.base_url}{_BASE}{path}"

    def _send(
        self,
        method: str,
        path: str,
        *,
        dpop: bool = False,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        url = self._url(path)
        for attempt in range(2):
            sent = dict(headers or {})
            if dpop:
                sent["DPoP"] = self.key.proof(method, url, nonce=self.nonce, iat=self._clock())
            response = self._http.request(method, url, json=json, headers=sent, params=params)
            self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
            if response.status_code < 400:
                return response
            body = _json(response)
            code = body.get("code", "internal") if isinstance(body, dict) else "internal"
            if dpop and code == "use_dpop_nonce" and attempt == 0:
                continue
            message = (
                body.get("message", response.text) if isinstance(body, dict) else response.text
            )
            raise SessionClientError(response.status_code, code, message, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _keep_tokens(self, response: httpx.Response) -> Tokens:
        body = response.json()
        expires = response.headers.get("X-Refresh-Token-Expires-At")
        previous = self.tokens.refresh_token if self.tokens else None
        self.tokens = Tokens(
            access_token=body["access_token"],
            expires_at=int(body["expires_at"]),
            refresh_token=response.headers.get("X-Refresh-Token", previous),
            refresh_expires_at=int(expires) if expires else None,
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

    # Login --------------------------------------------------------------------------------
    def start_otp(self, identifier_type: str, value: str) -> None:
        response = self._send(
            "POST", "/login/otp", json={"identifier": {"type": identifier_type, "value": value}}
        )
        self.verification_token = response.headers.get("X-Verification-Token")

    def _verification(self) -> dict[str, str]:
        return {"X-Verification-Token": self.verification_token} if self.verification_token else {}

    def retry_otp(self) -> None:
        self._send("POST", "/login/otp/retry", headers=self._verification())

    def check_otp(self, code: str) -> Tokens:
        headers = {**self._verification(), "X-Refresh-Token-Mode": "header"}
        response = self._send(
            "POST", "/login/otp/check", dpop=True, json={"code": code}, headers=headers
        )
        return self._keep_tokens(response)

    def login_with_password(self, email: str, password: str) -> Tokens:
        response = self._send(
            "POST",
            "/login/email/password",
            json={"identifier": {"type": "email_address", "value": email}, "password": password},
        )
        return self.finalize(response.json()["challenge_token"])

    def finalize(self, challenge_token: str) -> Tokens:
        response = self._send(
            "POST",
            "/login/finalize",
            dpop=True,
            json={"challenge_token": challenge_token},
            headers={"X-Refresh-Token-Mode": "header"},
        )
        return self._keep_tokens(response)

    # Session ------------------------------------------------------------------------------
    def refresh(self) -> Tokens:
        response = self._send("POST", "/refresh", dpop=True, headers=self._refresh_header())
        return self._keep_tokens(response)

    def list_sessions(self, *, limit: int = 10, offset: int = 0) -> dict[str, Any]:
        response = self._send(
            "GET", "/me/list", headers=self._bearer(), params={"limit": limit, "offset": offset}
        )
        result: dict[str, Any] = response.json()
        return result

    def revoke_sessions(self, target: str, session_id: str | None = None) -> dict[str, Any]:
        params = {"target": target, **({"session_id": session_id} if session_id else {})}
        response = self._send("POST", "/me/revoke", headers=self._bearer(), params=params)
        result: dict[str, Any] = response.json()
        return result

    def logout(self) -> None:
        headers = self._refresh_header() if self.tokens and self.tokens.refresh_token else {}
        self._send("POST", "/revoke", dpop=True, headers=headers)
        self.tokens = None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
