"""Login configuration set at runtime through the management API, in Prelude's shapes
(``…/config/login/…``, PRELUDE-API §4.10): the OTP, OAuth and password login configs.

Each is a live document (``sessile.live_config``): every node reads a change within
seconds, and every change is audited. Without a document, the ``SESSILE_*`` settings
rule. Services take the narrow reader they need; each read is of this node's copy, so a
login costs no database round trip for its configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessile.clock import Clock
from sessile.live_config import LiveConfig
from sessile.login.configs.grants import Grant, LoginGrants
from sessile.login.configs.oauth import OAuthLoginConfigs
from sessile.login.configs.otp import OtpLoginConfigs
from sessile.login.configs.password import PasswordLoginConfigs, PasswordLoginRules
from sessile.login.oauth.accounts import AccountLinkPolicy
from sessile.oauth_config import OAuthProviderSettings

__all__ = [
    "Grant",
    "LoginConfigs",
    "LoginGrants",
    "OAuthLoginConfigs",
    "OtpLoginConfigs",
    "PasswordLoginConfigs",
]


@dataclass(frozen=True)
class LoginConfigs:
    otp: OtpLoginConfigs
    oauth: OAuthLoginConfigs
    password: PasswordLoginConfigs
    grants: LoginGrants

    @classmethod
    def build(
        cls,
        live: LiveConfig,
        clock: Clock,
        *,
        server_secret: bytes,
        providers: dict[str, OAuthProviderSettings],
        link_defaults: AccountLinkPolicy,
        password_defaults: PasswordLoginRules,
        grant_ttl: int,
    ) -> LoginConfigs:
        """The readers, over the settings' defaults."""
        otp = OtpLoginConfigs(live, clock)
        oauth = OAuthLoginConfigs(live, server_secret, providers, link_defaults, otp)
        return cls(
            otp=otp,
            oauth=oauth,
            password=PasswordLoginConfigs(live, password_defaults),
            grants=LoginGrants(otp, oauth, clock, ttl=grant_ttl),
        )
