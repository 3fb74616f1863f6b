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
from sessile.config import Settings
from sessile.live_config import LiveConfig
from sessile.login.configs.grants import Grant, LoginGrants
from sessile.login.configs.oauth import OAuthLoginConfigs, OAuthOptions
from sessile.login.configs.otp import OtpLoginConfigs
from sessile.login.configs.password import PasswordLoginConfigs, PasswordLoginRules
from sessile.login.passwords import PasswordPolicy

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
        cls, live: LiveConfig, clock: Clock, server_secret: bytes, settings: Settings
    ) -> LoginConfigs:
        """The readers, with the settings as their defaults."""
        otp = OtpLoginConfigs(live, clock)
        options = OAuthOptions(
            use_email_as_identifier=settings.oauth_use_email_as_identifier,
            allow_email_account_merge=settings.oauth_allow_email_account_merge,
            verify_email=settings.oauth_verify_email,
        )
        oauth = OAuthLoginConfigs(live, server_secret, settings.oauth, options, otp)
        password = PasswordLoginRules(
            enabled=True,
            rate_per_ip=settings.password_rate_per_ip,
            rate_per_identifier=settings.password_rate_per_identifier,
            policy=PasswordPolicy.from_settings(settings),
        )
        return cls(
            otp=otp,
            oauth=oauth,
            password=PasswordLoginConfigs(live, password),
            grants=LoginGrants(otp, oauth, clock, ttl=settings.stepup_grant_ttl),
        )
