"""How the login configs look on the wire (PRELUDE-API §4.10): Prelude's members, RFC 3339
times, and never a client secret or a private key.

Each shape is one pydantic model: the OpenAPI document shows it (``response_model``), and
the view functions below build the answers through it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sessile.http.views import rfc3339
from sessile.login.configs.oauth import OAuthLoginConfig
from sessile.login.configs.otp import OtpLoginConfig
from sessile.login.configs.password import PasswordLoginConfig, RateLimit

__all__ = [
    "LoginConfigAnswer",
    "LoginConfigList",
    "OAuthConfigAnswer",
    "PasswordConfigAnswer",
    "oauth_config_view",
    "otp_config_view",
    "password_config_view",
]


class LoginConfigView(BaseModel):
    id: str = Field(description="lcfg_ and 26 characters.")
    config_type: Literal["otp"]
    channel_type: Literal["sms", "email"]
    is_default: bool
    granted_scopes: list[str]
    template_id: str | None
    sender_id: str | None
    created_at: str
    updated_at: str


class LoginConfigAnswer(BaseModel):
    login_config: LoginConfigView


class LoginConfigList(BaseModel):
    login_configs: list[LoginConfigView]


class OAuthOptionsView(BaseModel):
    use_email_as_identifier: bool
    allow_email_account_merge: bool
    verify_email: bool


class AppleView(BaseModel):
    team_id: str
    key_id: str


class OktaView(BaseModel):
    issuer_url: str


class OAuthConfigView(BaseModel):
    provider_id: str
    client_id: str
    enabled: bool
    scopes: list[str]
    granted_scopes: list[str]
    options: OAuthOptionsView
    apple: AppleView | None
    okta: OktaView | None
    redirect_uris: list[str] = Field(description="sessile: the provider's extra app pages.")
    trust_email_verified: bool = Field(
        description="sessile: whether the provider's word that an address is verified proves it."
    )
    created_at: str | None = Field(description="null while only the settings configure it.")
    updated_at: str | None


class OAuthConfigAnswer(BaseModel):
    config: OAuthConfigView


class RateLimitView(BaseModel):
    ttl: int = Field(description="The window, in nanoseconds.")
    limit: int


class PasswordCompliancyView(BaseModel):
    min_length: int
    max_length: int
    uppercase: int
    lowercase: int
    numbers: int
    symbols: int


class PasswordConfigView(BaseModel):
    hash_method: Literal["argon2id", "bcrypt"]
    enabled: bool
    rate_limit_login_ip: RateLimitView
    rate_limit_login_identifier: RateLimitView
    password_compliancy: PasswordCompliancyView
    created_at: str | None = Field(description="null while the settings rule.")
    updated_at: str | None


class PasswordConfigAnswer(BaseModel):
    config: PasswordConfigView


def _time(timestamp: float | None) -> str | None:
    return None if timestamp is None else rfc3339(timestamp)


def otp_config_view(config: OtpLoginConfig) -> LoginConfigView:
    return LoginConfigView(
        id=config.id,
        config_type="otp",
        channel_type=config.channel_type,
        is_default=config.is_default,
        granted_scopes=list(config.granted_scopes),
        template_id=config.template_id,
        sender_id=config.sender_id,
        created_at=rfc3339(config.created_at),
        updated_at=rfc3339(config.updated_at),
    )


def oauth_config_view(config: OAuthLoginConfig) -> OAuthConfigView:
    options = config.options
    return OAuthConfigView(
        provider_id=config.provider_id,
        client_id=config.client_id,
        enabled=config.enabled,
        scopes=list(config.scopes),
        granted_scopes=list(config.granted_scopes),
        options=OAuthOptionsView(
            use_email_as_identifier=options.use_email_as_identifier,
            allow_email_account_merge=options.allow_email_account_merge,
            verify_email=options.verify_email,
        ),
        apple=AppleView(team_id=config.apple[0], key_id=config.apple[1]) if config.apple else None,
        okta=OktaView(issuer_url=config.okta_issuer_url) if config.okta_issuer_url else None,
        redirect_uris=list(config.redirect_uris),
        trust_email_verified=config.trust_email_verified,
        created_at=_time(config.created_at),
        updated_at=_time(config.updated_at),
    )


def _rate(limit: RateLimit) -> RateLimitView:
    return RateLimitView(ttl=limit.ttl_ns, limit=limit.limit)


def password_config_view(config: PasswordLoginConfig) -> PasswordConfigView:
    policy = config.password_compliancy
    return PasswordConfigView(
        hash_method=config.hash_method,
        enabled=config.enabled,
        rate_limit_login_ip=_rate(config.rate_limit_login_ip),
        rate_limit_login_identifier=_rate(config.rate_limit_login_identifier),
        password_compliancy=PasswordCompliancyView(**policy.as_dict()),
        created_at=_time(config.created_at),
        updated_at=_time(config.updated_at),
    )
