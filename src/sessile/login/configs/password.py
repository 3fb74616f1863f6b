"""The password login config (Prelude's ``…/config/login/password``, PRELUDE-API §4.10):
whether password login and sign-up are open, their rate limits, and the password policy
that ``/password/compliancy`` serves and every new password is checked against.

One live document, ``login_password``; without it the ``SESSILE_PASSWORD_*`` settings
rule. Rate limits are a window in nanoseconds (``ttl``) and a count (``limit``), as Prelude
writes them; the counters of the character kinds are integers (PRELUDE-API §8
contradiction 10), and ``true``/``false`` from Prelude's older pages read as 1 and 0.
``hash_method`` is ``argon2id`` or ``bcrypt`` and is echoed: sessile hashes every new
password with argon2id either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from limits import parse_many
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from sessile.live_config import ConfigDocument, LiveConfig
from sessile.login.passwords import PasswordPolicy

__all__ = [
    "HashMethod",
    "PasswordCompliancyBody",
    "PasswordLoginConfig",
    "PasswordLoginConfigBody",
    "PasswordLoginConfigs",
    "PasswordLoginRules",
    "RateLimit",
    "RateLimitBody",
]

NAME = "login_password"
NANOSECONDS = 1_000_000_000
HashMethod = Literal["argon2id", "bcrypt"]

#: A least count of one kind of character: an integer, or a boolean of the older pages.
Counter = Annotated[
    Annotated[int, Field(ge=0, le=64)] | bool,
    AfterValidator(int),
]


class RateLimitBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ttl: int = Field(
        ge=NANOSECONDS,
        le=7 * 86_400 * NANOSECONDS,
        description="The window, in nanoseconds: 1 second to 7 days, counted in whole seconds.",
    )
    limit: int = Field(ge=1, le=1_000_000, description="Attempts allowed in the window.")


class PasswordCompliancyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    min_length: int = Field(ge=6, le=128)
    max_length: int = Field(ge=0, le=1024, description="0: no maximum (sessile takes 1024).")
    uppercase: Counter = Field(description="Least number of uppercase letters.")
    lowercase: Counter = Field(description="Least number of lowercase letters.")
    numbers: Counter = Field(description="Least number of digits.")
    symbols: Counter = Field(description="Least number of other characters.")

    @model_validator(mode="after")
    def _ordered(self) -> PasswordCompliancyBody:
        if self.max_length and self.max_length < self.min_length:
            raise ValueError("max_length must be 0 or at least min_length")
        return self


class PasswordLoginConfigBody(BaseModel):
    """What ``PUT`` (and ``POST``) ``…/config/login/password`` take: every member."""

    model_config = ConfigDict(extra="forbid", strict=True)
    hash_method: HashMethod = Field(
        description="argon2id or bcrypt; new passwords are hashed with argon2id either way."
    )
    enabled: bool = Field(description="false refuses password login and sign-up (forbidden).")
    rate_limit_login_ip: RateLimitBody = Field(description="Password logins per client address.")
    rate_limit_login_identifier: RateLimitBody = Field(
        description="Password logins per e-mail address."
    )
    password_compliancy: PasswordCompliancyBody


@dataclass(frozen=True)
class RateLimit:
    ttl_ns: int
    limit: int

    @property
    def rate(self) -> str:
        """The ``limits`` notation, in whole seconds."""
        return f"{self.limit}/{math.ceil(self.ttl_ns / NANOSECONDS)} seconds"

    @classmethod
    def from_rate(cls, rate: str) -> RateLimit:
        """A setting's first window (``10/15 minutes``) in Prelude's shape."""
        item = parse_many(rate)[0]
        return cls(item.get_expiry() * NANOSECONDS, item.amount)


@dataclass(frozen=True)
class PasswordLoginRules:
    """What password login reads on each attempt."""

    enabled: bool
    rate_per_ip: str
    rate_per_identifier: str
    policy: PasswordPolicy


@dataclass(frozen=True)
class PasswordLoginConfig:
    """The config in force, in Prelude's shape; no times when the settings rule."""

    hash_method: HashMethod
    enabled: bool
    rate_limit_login_ip: RateLimit
    rate_limit_login_identifier: RateLimit
    password_compliancy: PasswordPolicy
    created_at: float | None = None
    updated_at: float | None = None

    @property
    def rules(self) -> PasswordLoginRules:
        return PasswordLoginRules(
            self.enabled,
            self.rate_limit_login_ip.rate,
            self.rate_limit_login_identifier.rate,
            self.password_compliancy,
        )

    @classmethod
    def from_document(cls, document: ConfigDocument) -> PasswordLoginConfig:
        value = document.value
        return cls(
            hash_method=value["hash_method"],
            enabled=value["enabled"],
            rate_limit_login_ip=RateLimit(**value["rate_limit_login_ip"]),
            rate_limit_login_identifier=RateLimit(**value["rate_limit_login_identifier"]),
            password_compliancy=PasswordPolicy(**value["password_compliancy"]),
            created_at=document.created_at,
            updated_at=document.updated_at,
        )


def _document(body: PasswordLoginConfigBody) -> dict[str, Any]:
    def rate(limit: RateLimitBody) -> dict[str, int]:
        return {"ttl_ns": limit.ttl, "limit": limit.limit}

    return {
        "hash_method": body.hash_method,
        "enabled": body.enabled,
        "rate_limit_login_ip": rate(body.rate_limit_login_ip),
        "rate_limit_login_identifier": rate(body.rate_limit_login_identifier),
        "password_compliancy": body.password_compliancy.model_dump(),
    }


class PasswordLoginConfigs:
    def __init__(self, live: LiveConfig, defaults: PasswordLoginRules) -> None:
        """``defaults``: the settings' rules, in force while there is no document."""
        self._live = live
        self._default_rules = defaults
        # Shown in the document's shape: the first window of each of the settings' rates.
        self._defaults = PasswordLoginConfig(
            hash_method="argon2id",
            enabled=defaults.enabled,
            rate_limit_login_ip=RateLimit.from_rate(defaults.rate_per_ip),
            rate_limit_login_identifier=RateLimit.from_rate(defaults.rate_per_identifier),
            password_compliancy=defaults.policy,
        )
        self._parsed_from: ConfigDocument | None = None
        self._parsed = self._defaults

    async def current(self, *, fresh: bool = False) -> PasswordLoginConfig:
        """The config in force; ``fresh`` reads the database, not this node's copy."""
        if fresh:
            self._live.forget()
        document = await self._live.get(NAME)
        if document is None:
            return self._defaults
        if document is not self._parsed_from:
            self._parsed = PasswordLoginConfig.from_document(document)
            self._parsed_from = document
        return self._parsed

    async def rules(self) -> PasswordLoginRules:
        """What a password login or sign-up obeys now."""
        current = await self.current()
        return self._default_rules if current is self._defaults else current.rules

    async def policy(self) -> PasswordPolicy:
        """What every new password is checked against, and compliancy serves."""
        return (await self.rules()).policy

    async def replace(self, body: PasswordLoginConfigBody) -> PasswordLoginConfig:
        return PasswordLoginConfig.from_document(await self._live.put(NAME, _document(body)))

    async def delete(self) -> bool:
        """Back to the settings; False when they already ruled."""
        return await self._live.delete(NAME)
