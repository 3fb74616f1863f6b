"""The standalone code login (PRELUDE-API §2.20, §2.21, §7): ``/otp`` sends a code to an
identifier, ``/otp/check`` proves it and answers a ``session-start`` challenge token, and
``/login/finalize`` turns that into a session bound to the client's key (with the PKCE
verifier, when ``/otp`` was given a ``code_challenge``)."""

from __future__ import annotations

from sessile.login.otp import OtpLogin
from sessile.sessions import SessionStartTokens

__all__ = ["CodeLogin"]


class CodeLogin:
    def __init__(self, otp: OtpLogin, start_tokens: SessionStartTokens) -> None:
        self._otp = otp
        self._start_tokens = start_tokens

    async def check(self, verification: str | None, code: str) -> str:
        """Prove the code; the session-start token of its login."""
        result = await self._otp.check(verification, code)
        return await self._start_tokens.issue(
            user_id=result.user_id,
            auth_method=result.auth_method,
            code_challenge=result.code_challenge,
            login_config_id=result.login_config_id,
        )
