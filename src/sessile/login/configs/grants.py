"""The scopes a login grants its session (PRELUDE-API §3.3): those of the OTP login config
the code login ran under, or of the OAuth provider's config. They stay on the session's
access tokens for ``SESSILE_STEPUP_GRANT_TTL`` seconds, the lifetime of a step-up's grant,
so a login grants no more, and no longer, than proving the same factor again would."""

from __future__ import annotations

from dataclasses import dataclass

from sessile.clock import Clock
from sessile.login.configs.oauth import OAuthLoginConfigs
from sessile.login.configs.otp import OtpLoginConfigs

__all__ = ["Grant", "LoginGrants"]


@dataclass(frozen=True)
class Grant:
    #: Space-separated, as the session keeps it.
    scope: str
    until: float


class LoginGrants:
    def __init__(
        self, otp: OtpLoginConfigs, oauth: OAuthLoginConfigs, clock: Clock, *, ttl: int
    ) -> None:
        self._otp = otp
        self._oauth = oauth
        self._clock = clock
        self._ttl = ttl

    async def for_login(self, auth_method: str, login_config_id: str | None = None) -> Grant | None:
        """The grant of a session made by ``auth_method`` (``otp_email``, ``oauth_google``,
        …), under OTP login config ``login_config_id``; None when it grants nothing."""
        scopes: tuple[str, ...] = ()
        if auth_method.startswith("otp_") and login_config_id is not None:
            config = await self._otp.get(login_config_id)
            scopes = config.granted_scopes if config is not None else ()
        elif auth_method.startswith("oauth_"):
            scopes = await self._oauth.granted_scopes(auth_method.removeprefix("oauth_"))
        if not scopes:
            return None
        return Grant(" ".join(scopes), self._clock.now() + self._ttl)
