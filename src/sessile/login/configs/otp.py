"""OTP login configs (Prelude's ``…/config/login/otp``, PRELUDE-API §4.10): which channels
login by code takes, which config a login names (``login_config_id``), and the scopes its
sessions get.

Each config is a live document of its own, ``login_otp:<id>``. With none at all, login by
code takes both channels, as the settings say. Once there is one, a channel takes codes
only when some config sends by it; a login without ``login_config_id`` runs under its
channel's default: the one marked ``is_default`` most recently, else the oldest.
``template_id`` and ``sender_id`` are kept and echoed: sessile's own templates and
delivery (``SESSILE_EMAIL_*``, ``SESSILE_SMS_TEXT``) write and send the messages.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sessile.clock import Clock
from sessile.errors import BadRequest, NotFound
from sessile.live_config import ConfigDocument, LiveConfig
from sessile.login.configs.granted_scopes import CHANGE_PASSWORD, GrantedScope, checked_scopes

__all__ = [
    "MAX_OTP_CONFIGS",
    "OtpChannel",
    "OtpLoginConfig",
    "OtpLoginConfigBody",
    "OtpLoginConfigs",
    "channel_of",
    "new_login_config_id",
]

OtpChannel = Literal["sms", "email"]
PREFIX = "login_otp:"
MAX_OTP_CONFIGS = 20
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_CHANNEL_NAMES = {"email": "e-mail addresses", "sms": "phone numbers"}


def new_login_config_id(now: float, after: str | None = None) -> str:
    """``lcfg_`` and a ULID in lower case, 31 characters as in Prelude's docs: 48 bits of
    milliseconds, so ids sort by creation, then 80 random bits. Within one millisecond an
    id follows ``after`` (the ULID spec's monotonic ids)."""
    value = (int(now * 1000) << 80) | secrets.randbits(80)
    if after is not None:
        previous = _ulid_value(after)
        if value >> 80 <= previous >> 80:
            value = previous + 1
    chars = [_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5)]
    return "lcfg_" + "".join(chars)


def _ulid_value(config_id: str) -> int:
    value = 0
    for char in config_id.removeprefix("lcfg_"):
        value = (value << 5) | _CROCKFORD.index(char)
    return value


def channel_of(identifier_type: str) -> OtpChannel:
    return "email" if identifier_type == "email_address" else "sms"


class OtpLoginConfigBody(BaseModel):
    """What ``POST`` and ``PUT …/config/login/otp`` take."""

    model_config = ConfigDict(extra="forbid", strict=True)
    config_type: Literal["otp"] = Field(description='Always "otp".')
    channel_type: OtpChannel = Field(description="How the code is sent.")
    is_default: bool = Field(
        default=False, description="The config a login by this channel runs under by default."
    )
    template_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Kept and echoed; sessile writes messages with its own templates.",
    )
    sender_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Kept and echoed; sessile sends through its configured delivery.",
    )
    granted_scopes: list[GrantedScope] | None = Field(
        default=None,
        max_length=10,
        description="Scopes the sessions of these logins get, for SESSILE_STEPUP_GRANT_TTL.",
    )
    grant_change_password: bool | None = Field(
        default=None,
        description='Older form: true is granted_scopes ["prld:pwd:write"].',
    )

    @model_validator(mode="after")
    def _fits(self) -> OtpLoginConfigBody:
        checked_scopes(self.scopes())
        return self

    def scopes(self) -> tuple[str, ...]:
        scopes = list(self.granted_scopes or [])
        if self.grant_change_password:
            scopes.append(CHANGE_PASSWORD)
        return tuple(dict.fromkeys(scopes))

    def document(self) -> dict[str, object]:
        return {
            "config_type": "otp",
            "channel_type": self.channel_type,
            "is_default": self.is_default,
            "granted_scopes": list(self.scopes()),
            "template_id": self.template_id,
            "sender_id": self.sender_id,
        }


@dataclass(frozen=True)
class OtpLoginConfig:
    id: str
    channel_type: OtpChannel
    is_default: bool
    granted_scopes: tuple[str, ...]
    template_id: str | None
    sender_id: str | None
    created_at: float
    updated_at: float

    @classmethod
    def from_document(cls, document: ConfigDocument) -> OtpLoginConfig:
        value = document.value
        return cls(
            id=document.name.removeprefix(PREFIX),
            channel_type=value["channel_type"],
            is_default=bool(value["is_default"]),
            granted_scopes=tuple(value.get("granted_scopes") or ()),
            template_id=value.get("template_id"),
            sender_id=value.get("sender_id"),
            created_at=document.created_at,
            updated_at=document.updated_at,
        )


def _default(configs: list[OtpLoginConfig]) -> OtpLoginConfig:
    marked = [c for c in configs if c.is_default]
    if marked:
        return max(marked, key=lambda c: (c.updated_at, c.id))
    return min(configs, key=lambda c: c.id)


class OtpLoginConfigs:
    def __init__(self, live: LiveConfig, clock: Clock) -> None:
        self._live = live
        self._clock = clock
        # Parsed once per set of documents the live config holds, not on every login.
        self._parsed_from: Mapping[str, ConfigDocument] | None = None
        self._parsed: list[OtpLoginConfig] = []

    async def all(self, *, fresh: bool = False) -> list[OtpLoginConfig]:
        """Every config, oldest first; ``fresh`` reads the database, not this node's copy."""
        if fresh:
            self._live.forget()
        documents = await self._live.documents()
        if documents is not self._parsed_from:
            self._parsed = sorted(
                (
                    OtpLoginConfig.from_document(d)
                    for n, d in documents.items()
                    if n.startswith(PREFIX)
                ),
                key=lambda c: c.id,
            )
            self._parsed_from = documents
        return self._parsed

    async def get(self, config_id: str, *, fresh: bool = False) -> OtpLoginConfig | None:
        return next((c for c in await self.all(fresh=fresh) if c.id == config_id), None)

    async def pick(self, channel: OtpChannel, login_config_id: str | None) -> OtpLoginConfig | None:
        """The config a code login by ``channel`` runs under; None when there are no configs
        (the settings' defaults). ``bad_request`` for an unknown config, one of the other
        channel, or a channel no config sends by."""
        configs = await self.all()
        if login_config_id is not None:
            found = next((c for c in configs if c.id == login_config_id), None)
            if found is None:
                raise BadRequest("No login config has this login_config_id.")
            if found.channel_type != channel:
                raise BadRequest(
                    f"This login config sends codes to {_CHANNEL_NAMES[found.channel_type]}."
                )
            return found
        if not configs:
            return None
        of_channel = [c for c in configs if c.channel_type == channel]
        if not of_channel:
            raise BadRequest(f"Login by code to {_CHANNEL_NAMES[channel]} is not configured.")
        return _default(of_channel)

    async def offers(self, channel: OtpChannel) -> bool:
        """Whether login by code takes ``channel`` (with no configs, the settings': both)."""
        configs = await self.all(fresh=True)
        return not configs or any(c.channel_type == channel for c in configs)

    async def create(self, body: OtpLoginConfigBody) -> OtpLoginConfig:
        configs = await self.all(fresh=True)
        if len(configs) >= MAX_OTP_CONFIGS:
            raise BadRequest(f"At most {MAX_OTP_CONFIGS} OTP login configs.")
        newest = configs[-1].id if configs else None
        config_id = new_login_config_id(self._clock.now(), after=newest)
        return await self._write(config_id, body)

    async def replace(self, config_id: str, body: OtpLoginConfigBody) -> OtpLoginConfig:
        if await self.get(config_id, fresh=True) is None:
            raise NotFound("No such login config.")
        return await self._write(config_id, body)

    async def delete(self, config_id: str) -> None:
        if await self.get(config_id, fresh=True) is None or not await self._live.delete(
            PREFIX + config_id
        ):
            raise NotFound("No such login config.")

    async def _write(self, config_id: str, body: OtpLoginConfigBody) -> OtpLoginConfig:
        written = OtpLoginConfig.from_document(
            await self._live.put(PREFIX + config_id, body.document())
        )
        if written.is_default:
            # One default per channel; were two left marked, the newer one would win.
            for other in await self.all(fresh=True):
                same_channel = other.channel_type == written.channel_type
                if other.id != config_id and other.is_default and same_channel:
                    await self._live.put(PREFIX + other.id, _unmarked(other))
        return written


def _unmarked(config: OtpLoginConfig) -> dict[str, object]:
    return {
        "config_type": "otp",
        "channel_type": config.channel_type,
        "is_default": False,
        "granted_scopes": list(config.granted_scopes),
        "template_id": config.template_id,
        "sender_id": config.sender_id,
    }
