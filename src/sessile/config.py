"""Settings: ``SESSILE_*`` environment variables, or a TOML file (DESIGN §9).

Precedence, highest first: explicit keyword arguments, environment variables,
the TOML file named by ``SESSILE_CONFIG`` (or passed to :func:`load_settings`),
then the defaults below. Every value is validated when the server starts; a bad
one stops it with a message that names the setting.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sessile import oauth_config
from sessile.oauth_config import OAuthProviderSettings

__all__ = ["ConfigError", "Settings", "load_settings"]

CommaList = Annotated[list[str], NoDecode]
StepKind = Literal["email_otp", "sms_otp", "password"]

_DAY = 86_400
#: The least length of ``SESSILE_SECRET_KEY``, in bytes of UTF-8.
MIN_SECRET_KEY_BYTES = 32

#: A TOML file named by the caller of load_settings, ahead of SESSILE_CONFIG.
_toml_override: ContextVar[str | None] = ContextVar("sessile_toml_override", default=None)


class ConfigError(Exception):
    """Raised when the settings can't be loaded; the message names each bad setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SESSILE_",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    # Identity and storage: names fixed by DESIGN §9.
    public_url: str = "http://127.0.0.1:8000"
    app_id: str = Field(default="default", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    # The longest a database statement, a connection attempt or a wait for a pooled
    # connection may take before the request answers 503; Redis calls get the same bound.
    database_timeout: float = Field(default=10.0, gt=0, le=300)
    secret_key: SecretStr | None = None
    cors_origins: CommaList = []
    delivery: Literal["outbox", "smtp", "webhook"] = "outbox"
    outbox_path: Path | None = None
    otp_signup: bool = True

    # Tokens and sessions (seconds).
    access_token_ttl: int = Field(default=300, ge=30, le=86_400)
    # Put email, email_verified, phone_number, phone_number_verified in access tokens.
    token_identity_claims: bool = False
    refresh_grace: int = Field(default=30, ge=0, le=600)
    session_idle_timeout: int = Field(default=30 * _DAY, ge=60)
    session_absolute_lifetime: int = Field(default=90 * _DAY, ge=60)
    # Ended sessions (revoked, expired or idle) are deleted this long after they ended, in
    # batches of ``session_purge_batch`` rows, at most ``_max_batches`` per maintenance run;
    # every other purged table (sessile.cleanup) is deleted in the same bounded batches.
    session_retention: int = Field(default=30 * _DAY, ge=0)
    session_purge_batch: int = Field(default=1_000, ge=1, le=100_000)
    session_purge_max_batches: int = Field(default=20, ge=1, le=10_000)
    # Live sessions per user; a login past it ends the oldest (reason ``session_limit``).
    max_sessions_per_user: int = Field(default=100, ge=1, le=100_000)
    audience: str | None = None
    token_algorithm: Literal["ES256"] = "ES256"

    # Signing-key ring.
    jwks_max_age: int = Field(default=300, ge=0, le=86_400)
    key_rotation_interval: int = Field(default=30 * _DAY, ge=3_600)
    key_publish_delay: int | None = Field(default=None, ge=0)

    # Refresh cookie (DESIGN §4). ``cookie_insecure_dev`` is for plain-http localhost only.
    cookie_name: str = Field(
        default="__Host-sessile_refresh", pattern=r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$"
    )
    cookie_samesite: Literal["strict", "lax", "none"] = "strict"
    cookie_insecure_dev: bool = False

    # Client address and country (DESIGN §5).
    trusted_proxies: CommaList = []
    country_header: str | None = None
    geoip_db: Path | None = None

    # DPoP (DESIGN §3).
    dpop_algorithms: CommaList = ["ES256"]
    dpop_iat_leeway_past: int = Field(default=60, ge=1, le=3_600)
    dpop_iat_leeway_future: int = Field(default=5, ge=0, le=600)
    dpop_nonce_required: bool = True
    dpop_nonce_step: int = Field(default=60, ge=5, le=3_600)
    dpop_nonce_steps_accepted: int = Field(default=3, ge=1, le=60)
    dpop_nonce_iat_leeway: int = Field(default=86_400, ge=60)

    # Login by one-time code (DESIGN §6).
    otp_length: int = Field(default=6, ge=4, le=10)
    otp_ttl: int = Field(default=600, ge=60, le=3_600)
    otp_max_attempts: int = Field(default=5, ge=1, le=20)
    otp_resend_cooldown: int = Field(default=30, ge=0, le=3_600)
    otp_max_sends: int = Field(default=5, ge=1, le=20)
    otp_rate_per_identifier: str = "5/10 minutes"
    otp_rate_per_ip: str = "30/10 minutes"

    # Failed code and password checks per identifier, across challenges: after
    # ``lockout_threshold`` consecutive failures each further one locks the identifier for
    # ``lockout_base`` seconds, doubling up to ``lockout_max``; ``lockout_hard_cap``
    # consecutive failures (NIST SP 800-63B allows at most 100) lock it until an operator
    # unlocks it (``sessile users unlock``). A success resets the count.
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_base: int = Field(default=30, ge=1, le=86_400)
    lockout_max: int = Field(default=900, ge=1, le=7 * 86_400)
    lockout_hard_cap: int = Field(default=100, ge=2, le=100)

    # Login by password.
    password_signup: bool = True
    # A sign-up proves its e-mail address by a code before its first session; the address
    # of an existing account gets a notice instead, and the caller the same answer. With
    # false, sign-up logs in at once (and says when an address is taken); the first code
    # login to the address then removes that password and ends its sessions.
    signup_verify_email: bool = True
    signup_notice_subject: str = "Someone tried to sign up to {app_name} with your address"
    signup_notice_text: str = (
        "Someone tried to create a {app_name} account with this address, which already has "
        "one. If it was you, log in instead. If not, you can ignore this message."
    )
    password_min_length: int = Field(default=8, ge=6, le=128)
    password_max_length: int = Field(default=128, ge=8, le=1024)
    # Least counts of each kind of character (Prelude's compliancy shape); 0 = none needed.
    password_uppercase: int = Field(default=0, ge=0, le=64)
    password_lowercase: int = Field(default=0, ge=0, le=64)
    password_numbers: int = Field(default=0, ge=0, le=64)
    password_symbols: int = Field(default=0, ge=0, le=64)
    password_rate_per_identifier: str = "10/15 minutes"
    password_rate_per_ip: str = "100/15 minutes"
    # Breached-password check, off unless a range-query URL is set (HIBP's shape, e.g.
    # https://api.pwnedpasswords.com/range). ``_fail``: when it can't be asked, "open"
    # accepts the password (and logs), "closed" refuses to set it for now (503).
    password_breached_url: str | None = None
    password_breached_timeout: float = Field(default=2.0, gt=0, le=30)
    password_breached_fail: Literal["open", "closed"] = "open"

    # Delivery of codes (DESIGN §6).
    app_name: str = "sessile"
    email_subject: str = "Your {app_name} code: {code}"
    email_text: str = "Your {app_name} code is {code}. It expires in {minutes} minutes."
    sms_text: str = "{code} is your {app_name} code. It expires in {minutes} minutes."
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65_535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "sessile <no-reply@localhost>"
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_retries: int = Field(default=3, ge=0, le=10)
    webhook_timeout: float = Field(default=5.0, gt=0, le=60)
    # The delivery queue: how often a failed message is tried before it is dead-lettered
    # (a code also stops with its challenge), and how long settled rows are kept.
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    delivery_retention: int = Field(default=7 * _DAY, ge=0)

    # Social login (oauth_config.py): providers by name, the app's callback pages (matched
    # exactly), and when a provider's e-mail address may join an existing account.
    oauth: dict[str, OAuthProviderSettings] = {}
    oauth_redirect_uris: CommaList = []
    oauth_allow_email_account_merge: bool = True
    oauth_use_email_as_identifier: bool = True
    oauth_verify_email: bool = True
    oauth_state_ttl: int = Field(default=600, ge=60, le=3_600)
    oauth_rate_per_ip: str = "60/10 minutes"

    # Step-up (DESIGN §12): which scopes a session may ask for, and the steps each needs, in
    # order: ``email_otp`` (a code to a proven e-mail address), ``sms_otp`` (a code to a
    # proven phone) or ``password``. An empty mapping turns step-up off (``not_configured``).
    stepup_scopes: dict[str, list[StepKind]] = {
        "prld:pwd:write": ["email_otp"],
        "prld:email:register": ["email_otp"],
        "prld:phone:register": ["email_otp"],
    }
    stepup_challenge_ttl: int = Field(default=600, ge=1, le=3_600)
    #: How long a granted scope stays on the session's access tokens.
    stepup_grant_ttl: int = Field(default=300, ge=1, le=86_400)
    #: ``direct``: sessile decides; ``delegated``: a signed HTTP hook answers each request.
    stepup_mode: Literal["direct", "delegated"] = "direct"
    stepup_hook_url: str | None = None
    stepup_hook_secret: SecretStr | None = None
    stepup_hook_timeout: float = Field(default=2.0, gt=0, le=30)
    #: The decision when the hook fails, answers too slowly or answers nonsense.
    stepup_hook_default: Literal["continue", "review", "block"] = "block"
    #: A password changed inside a session ends the user's other sessions.
    stepup_password_revokes_others: bool = True
    password_changed_subject: str = "Your {app_name} password was changed"
    password_changed_text: str = (
        "The password of your {app_name} account was just changed. If it wasn't you, "
        "reset it at once and contact support."
    )

    # Lifecycle events to webhook endpoints: events per POST, the endpoint's time to answer,
    # the retry delays (doubling from the base up to the cap), how long an event is retried
    # before it is dead-lettered, and how long delivered rows are kept.
    event_batch_size: int = Field(default=50, ge=1, le=500)
    event_timeout: float = Field(default=10.0, gt=0, le=60)
    event_backoff_base: float = Field(default=60.0, gt=0, le=86_400)
    event_backoff_max: float = Field(default=12 * 3_600.0, gt=0)
    event_retry_horizon: int = Field(default=3 * _DAY, ge=0)
    event_retention: int = Field(default=7 * _DAY, ge=0)
    #: Webhook endpoints may point at loopback or private addresses (tests, closed labs).
    event_allow_private_urls: bool = False
    # Audit events are kept this long.
    audit_retention: int = Field(default=90 * _DAY, ge=0)
    # POST …/tokens mints tokens for tests and service calls (marked ``minted``) when true.
    mint_tokens: bool = False

    # HTTP.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    demo: bool = False
    #: With ``demo`` and the outbox delivery, ``/demo/outbox`` shows the latest codes to
    #: truly local requests (``sessile serve --demo-outbox``); for a laptop, never a server.
    demo_outbox: bool = False
    #: The built demo app (``npm run build`` in ``demo/``), served at ``/`` with ``--demo``.
    demo_dir: Path = Path("demo/dist")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _toml_override.get() or os.environ.get("SESSILE_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @model_validator(mode="before")
    @classmethod
    def _oauth_from_environ(cls, data: Any) -> Any:
        """``SESSILE_OAUTH_<PROVIDER>_<FIELD>`` over ``[oauth.<provider>]``, field by field."""
        from_env = oauth_config.from_environ(os.environ)
        if not from_env or not isinstance(data, dict):
            return data
        merged = {name: dict(fields) for name, fields in (data.get("oauth") or {}).items()}
        for name, fields in from_env.items():
            merged.setdefault(name, {}).update(fields)
        return {**data, "oauth": merged}

    @field_validator("oauth")
    @classmethod
    def _check_providers(
        cls, value: dict[str, OAuthProviderSettings]
    ) -> dict[str, OAuthProviderSettings]:
        for name in value:
            if not oauth_config.PROVIDER_NAME.match(name):
                raise ValueError(f"{name!r} is not a provider name like google or my_idp")
        return value

    @field_validator("oauth_redirect_uris")
    @classmethod
    def _check_redirect_uris(cls, value: list[str]) -> list[str]:
        for uri in value:
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
                raise ValueError(f"{uri!r} is not an absolute http(s) URL without a fragment")
        return value

    @field_validator(
        "cors_origins", "trusted_proxies", "dpop_algorithms", "oauth_redirect_uris", mode="before"
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("password_breached_url")
    @classmethod
    def _check_breached_url(cls, value: str | None) -> str | None:
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL such as https://api.pwnedpasswords.com/range")
        return value or None

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://auth.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value.rstrip("/")

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path not in ("", "/")
            ):
                raise ValueError(f"{origin!r} is not an origin like https://app.example.com")
        return [origin.rstrip("/") for origin in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"{network!r} is not an IP address or CIDR network") from exc
        return value

    @field_validator("dpop_algorithms")
    @classmethod
    def _check_algorithms(cls, value: list[str]) -> list[str]:
        allowed = {"ES256", "ES384", "ES512", "EdDSA", "PS256", "RS256"}
        if not value:
            raise ValueError("must name at least one algorithm")
        for alg in value:
            if alg not in allowed:
                raise ValueError(
                    f"{alg!r} is not allowed; choose from {', '.join(sorted(allowed))}"
                )
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator(
        "otp_rate_per_identifier",
        "otp_rate_per_ip",
        "password_rate_per_identifier",
        "password_rate_per_ip",
        "oauth_rate_per_ip",
    )
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as '5/10 minutes'") from exc
        return value

    @field_validator(
        "email_subject",
        "email_text",
        "sms_text",
        "signup_notice_subject",
        "signup_notice_text",
        "password_changed_subject",
        "password_changed_text",
    )
    @classmethod
    def _check_template(cls, value: str) -> str:
        try:
            value.format(code="0", app_name="x", minutes=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"unusable template ({exc}); use {{code}}, {{app_name}}, {{minutes}}"
            ) from exc
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        # HKDF derives every at-rest key from it; SecretBox refuses less than 256 bits.
        # An empty value means "unset": the generated file is used.
        raw = value.get_secret_value().encode() if value is not None else b""
        if raw and len(raw) < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"must be at least {MIN_SECRET_KEY_BYTES} bytes; make one with"
                " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return value

    @field_validator("geoip_db")
    @classmethod
    def _check_geoip(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a readable file")
        return value

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.session_idle_timeout > self.session_absolute_lifetime:
            raise ValueError("session_idle_timeout must not exceed session_absolute_lifetime")
        if self.cookie_name.startswith("__Host-") and self.cookie_insecure_dev:
            raise ValueError(
                "cookie_insecure_dev needs a cookie_name without the __Host- prefix"
                " (browsers drop __Host- cookies that are not Secure)"
            )
        if self.cookie_samesite == "none" and self.cookie_insecure_dev:
            raise ValueError("cookie_samesite=none requires a Secure cookie")
        if self.password_min_length > self.password_max_length:
            raise ValueError("password_min_length must not exceed password_max_length")
        if self.delivery == "webhook" and not (self.webhook_url and self.webhook_secret):
            raise ValueError("delivery=webhook needs webhook_url and webhook_secret")
        if self.stepup_mode == "delegated" and not (
            self.stepup_hook_url and self.stepup_hook_secret
        ):
            raise ValueError("stepup_mode=delegated needs stepup_hook_url and stepup_hook_secret")
        for scope, steps in self.stepup_scopes.items():
            if not steps or len(steps) > 5 or not 0 < len(scope) <= 100:
                raise ValueError(f"stepup_scopes: {scope!r} needs 1 to 5 steps and a short name")
        return self

    # Derived values.
    @property
    def issuer(self) -> str:
        return self.public_url

    @property
    def token_audience(self) -> str:
        return self.audience or self.app_id

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'sessile.db'}"

    @property
    def outbox_file(self) -> Path:
        return self.outbox_path or self.data_dir / "outbox.jsonl"

    @property
    def publish_delay(self) -> int:
        """How long a new key is published before it signs: past every JWKS cache."""
        if self.key_publish_delay is not None:
            return self.key_publish_delay
        return 2 * self.jwks_max_age

    @property
    def cookie_secure(self) -> bool:
        return not self.cookie_insecure_dev

    @property
    def otp_cookie_name(self) -> str:
        """The OTP verification cookie; ``__Host-`` unless in plain-http development."""
        return "sessile_otp" if self.cookie_insecure_dev else "__Host-sessile_otp"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` under the public URL, never taken from ``Host``."""
        return self.public_url + path


def load_settings(toml_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate; raise :class:`ConfigError` naming each bad setting."""
    if toml_file is not None and not Path(toml_file).is_file():
        raise ConfigError(f"config file {toml_file}: not found")
    token = _toml_override.set(str(toml_file) if toml_file is not None else None)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            location = "_".join(str(part) for part in error["loc"]) or "settings"
            name = f"SESSILE_{location.upper()}" if error["loc"] else location
            lines.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
    finally:
        _toml_override.reset(token)


Policy = TypeVar("Policy")


def policy_from(settings: Settings, cls: type[Policy]) -> Policy:
    """A service's policy: dataclass ``cls``, its fields read from the settings of the same
    names, so a service gets what it uses and nothing else."""
    assert dataclasses.is_dataclass(cls)
    return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})
