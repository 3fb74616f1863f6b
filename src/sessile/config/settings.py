"""Every setting, its default and its bounds, the checks that tie settings together,
and the values derived from them (DESIGN §9).

The checks of single values are in :mod:`sessile.config.validators`, where the values
come from in :mod:`sessile.config.sources`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sessile.config import sources, validators
from sessile.oauth_config import OAuthProviderSettings

__all__ = ["CommaList", "Settings", "StepKind"]

CommaList = Annotated[list[str], NoDecode]
StepKind = Literal["verify_email", "verify_sms", "verify_password"]

_DAY = 86_400


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

    # Step-up (DESIGN §12): the configuration a fresh install starts from, until one is set
    # through ``…/config/stepup``. Each scope here is ``direct``, with its steps in order:
    # ``verify_email`` (a code to a proven e-mail address), ``verify_sms`` (a code to a
    # proven phone) or ``verify_password``; no steps grants it at once. With
    # ``stepup_mode=delegated`` each is decided by the hook at ``stepup_hook_url`` instead.
    # The register scopes (``prld:email:register``, ``prld:phone:register``) are always on.
    stepup_scopes: dict[str, list[StepKind]] = {"prld:pwd:write": ["verify_email"]}
    stepup_challenge_ttl: int = Field(default=600, ge=1, le=3_600)
    #: How long a granted scope stays on the session's access tokens (``granted_for``).
    stepup_grant_ttl: int = Field(default=300, ge=1, le=86_400)
    #: ``direct``: sessile decides; ``delegated``: the app's hook answers each request.
    stepup_mode: Literal["direct", "delegated"] = "direct"
    stepup_hook_url: str | None = None
    stepup_hook_timeout: float = Field(default=5.0, gt=0, le=30)
    #: The decision when the hook fails, answers too slowly or answers nonsense.
    stepup_hook_default: Literal["continue", "block"] = "block"
    #: The app's JWKS, which signs the verification tokens of its own steps.
    stepup_jwks_url: str | None = None
    #: A password changed inside a session ends the user's other sessions.
    stepup_password_revokes_others: bool = True
    password_changed_subject: str = "Your {app_name} password was changed"
    password_changed_text: str = "The password of your {app_name} account was just changed."

    # Account notices (sessile.notices): each proven address of an account is told of
    # these changes, with a link that ends every session of the account, once, for
    # ``notice_link_ttl`` seconds. Templates take {app_name}, {identifier}, {provider},
    # {link} and {hours}.
    notice_link_ttl: int = Field(default=3 * _DAY, ge=600, le=30 * _DAY)
    account_changed_subject: str = "Your {app_name} account was changed"
    identifier_added_text: str = "{identifier} was added to your {app_name} account."
    identifier_removed_text: str = "{identifier} was removed from your {app_name} account."
    provider_linked_text: str = "A {provider} account was linked to your {app_name} account."
    end_sessions_text: str = (
        "If it wasn't you, end every session of your account at once: {link} "
        "(the link works once, for {hours} hours). Then log in again and check your account."
    )
    # The code that links a provider account to an existing one, by its address (social
    # login, "status=otp_required"): {code}, {app_name}, {minutes} and {provider}.
    link_email_subject: str = "Link a {provider} account to your {app_name} account: {code}"
    link_email_text: str = (
        "Someone asked to link a {provider} account to your {app_name} account. If it was "
        "you, enter {code}; it expires in {minutes} minutes. If not, ignore this message: "
        "nothing is linked without the code."
    )

    # Lifecycle events to webhook endpoints: events per POST, the endpoint's time to answer,
    # the retry delays (doubling from the base up to the cap), how long an event is retried
    # before it is dead-lettered, and how long delivered rows are kept. The defaults are
    # Prelude's delivery rules: 10 s to answer; retries after 1, 2, 4 … minutes, at most
    # 12 hours apart, for 2 weeks.
    event_batch_size: int = Field(default=50, ge=1, le=500)
    event_timeout: float = Field(default=10.0, gt=0, le=60)
    event_backoff_base: float = Field(default=60.0, gt=0, le=86_400)
    event_backoff_max: float = Field(default=12 * 3_600.0, gt=0)
    event_retry_horizon: int = Field(default=14 * _DAY, ge=0)
    event_retention: int = Field(default=7 * _DAY, ge=0)
    #: Webhook endpoints may point at loopback or private addresses (tests, closed labs).
    event_allow_private_urls: bool = False
    # Audit events are kept this long.
    audit_retention: int = Field(default=90 * _DAY, ge=0)
    # How old a node's copy of the ``…/config/…`` documents may grow before it reads them
    # again: a change made on one node is in force on every other within this many seconds.
    live_config_max_age: float = Field(default=2.0, ge=0, le=60)
    # POST …/tokens mints tokens for tests and service calls (marked ``minted``) when true.
    mint_tokens: bool = False

    # HTTP.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    #: ``Strict-Transport-Security: max-age`` on TLS connections, and on every answer when
    #: the public URL is https (never for a loopback one); 0 sends none.
    hsts_max_age: int = Field(default=365 * _DAY, ge=0, le=2 * 365 * _DAY)
    #: ``/metrics`` is served on a listener of its own, never on the API's port: this port
    #: (``sessile serve --metrics-port``) on ``metrics_host``. Unset: no metrics listener.
    metrics_port: int | None = Field(default=None, ge=1, le=65_535)
    metrics_host: str = "127.0.0.1"
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
        return sources.ordered_sources(settings_cls, init_settings, env_settings)

    _oauth_from_environ = model_validator(mode="before")(sources.oauth_from_environ)

    _check_providers = field_validator("oauth")(validators.check_providers)
    _check_redirect_uris = field_validator("oauth_redirect_uris")(validators.check_redirect_uris)
    _split_commas = field_validator(
        "cors_origins", "trusted_proxies", "dpop_algorithms", "oauth_redirect_uris", mode="before"
    )(validators.split_commas)
    _step_names = field_validator("stepup_scopes", mode="before")(validators.step_names)
    _check_stepup_urls = field_validator("stepup_hook_url", "stepup_jwks_url")(
        validators.check_web_url
    )
    _check_breached_url = field_validator("password_breached_url")(validators.check_breached_url)
    _check_public_url = field_validator("public_url")(validators.check_public_url)
    _check_origins = field_validator("cors_origins")(validators.check_origins)
    _check_proxies = field_validator("trusted_proxies")(validators.check_proxies)
    _check_algorithms = field_validator("dpop_algorithms")(validators.check_algorithms)
    _check_database_url = field_validator("database_url")(validators.check_database_url)
    _check_rate = field_validator(
        "otp_rate_per_identifier",
        "otp_rate_per_ip",
        "password_rate_per_identifier",
        "password_rate_per_ip",
        "oauth_rate_per_ip",
    )(validators.check_rate)
    _check_template = field_validator(
        "email_subject",
        "email_text",
        "sms_text",
        "signup_notice_subject",
        "signup_notice_text",
    )(validators.check_template)
    _check_notice_template = field_validator(
        "password_changed_subject",
        "password_changed_text",
        "account_changed_subject",
        "identifier_added_text",
        "identifier_removed_text",
        "provider_linked_text",
        "end_sessions_text",
        "link_email_subject",
        "link_email_text",
    )(validators.check_notice_template)
    _check_secret_key = field_validator("secret_key")(validators.check_secret_key)
    _check_geoip = field_validator("geoip_db")(validators.check_geoip)

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
        if self.stepup_mode == "delegated" and not self.stepup_hook_url:
            raise ValueError("stepup_mode=delegated needs stepup_hook_url")
        for scope, steps in self.stepup_scopes.items():
            if len(steps) > 5 or not re.fullmatch(r"[a-zA-Z0-9._:-]{1,100}", scope):
                raise ValueError(
                    f"stepup_scopes: {scope!r} needs at most 5 steps and a name of "
                    "a-z A-Z 0-9 . _ : -"
                )
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
