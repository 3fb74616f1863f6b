"""The synchronous session client, on httpx."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from sessile.client._key import DPoPKey
from sessile.client._protocol import ClientState, Operation, SessionProtocol, Tokens

__all__ = ["SessionClient"]


class SessionClient(ClientState):
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
        self._protocol = SessionProtocol(base_url, key or DPoPKey.generate(), clock)
        self._http = http or httpx.Client(timeout=timeout)

    def _run(self, operation: Operation) -> Any:
        try:
            call = next(operation)
            while True:
                for attempt in range(2):
                    response = self._http.send(self._protocol.build(call))
                    if not self._protocol.accept(call, response, attempt=attempt):
                        break
                call = operation.send(response)
        except StopIteration as done:
            return done.value

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SessionClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Operations ----------------------------------------------------------------------------
    def start_otp(self, identifier_type: str, value: str) -> None:
        self._run(self._protocol.start_otp(identifier_type, value))

    def retry_otp(self) -> None:
        self._run(self._protocol.retry_otp())

    def check_otp(self, code: str) -> Tokens:
        result: Tokens = self._run(self._protocol.check_otp(code))
        return result

    def login_with_password(self, email: str, password: str) -> Tokens:
        result: Tokens = self._run(self._protocol.login_with_password(email, password))
        return result

    def sign_up(self, email: str, password: str) -> Tokens | None:
        """Tokens, or None when the address must be proven first: then ``check_otp``."""
        result: Tokens | None = self._run(self._protocol.sign_up(email, password))
        return result

    def finalize(self, challenge_token: str) -> Tokens:
        result: Tokens = self._run(self._protocol.finalize(challenge_token))
        return result

    def finalize_oauth(self, challenge_token: str, code_verifier: str) -> Tokens | None:
        """Finish a social login with the PKCE verifier the login began with. None when the
        e-mail address must be proven first: then ``check_otp`` with the code sent to it."""
        result: Tokens | None = self._run(
            self._protocol.finalize_oauth(challenge_token, code_verifier)
        )
        return result

    def refresh(self, step_up_token: str | None = None) -> Tokens:
        """Rotate; with a completed step-up's token, the new access token has its scope."""
        result: Tokens = self._run(self._protocol.refresh(step_up_token))
        return result

    def list_sessions(self, *, limit: int = 10, offset: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = self._run(self._protocol.list_sessions(limit, offset))
        return result

    def revoke_sessions(self, target: str, session_id: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._run(self._protocol.revoke_sessions(target, session_id))
        return result

    def logout(self) -> None:
        self._run(self._protocol.logout())
