"""OAuth login configs (Prelude's ``…/config/login/oauth/{provider}``, PRELUDE-API §4.10):
a provider's client, whether it is on, the scopes asked of it, the scopes its sessions
get, and how its e-mail addresses reach accounts.

One live document per provider, ``login_oauth:<provider>``, for Prelude's provider names
only. A document replaces the provider's ``SESSILE_OAUTH_<PROVIDER>_*`` client settings
member by member; what Prelude's shape has no member for (an issuer for a provider other
than Okta, GitHub's or Facebook's endpoints) still comes from the settings. Without a
document the settings rule, and the options are ``SESSILE_OAUTH_*`` of the same names.
The client secret and Apple's key are kept encrypted under the server secret and never
shown again.

``options.verify_email`` needs ``use_email_as_identifier`` and login by code to e-mail
addresses (an e-mail OTP login config, or no OTP login config at all: the settings then
take both channels); both are checked when the config is written. Left out, it is the
setting's value where those hold, else false.

``trust_email_verified`` (a sessile member) says whether the provider's word that an
address is verified proves it; left out, the provider's setting, else its default
(``login/oauth/known.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from sessile.crypto import SecretBox
from sessile.errors import BadRequest, NotFound
from sessile.live_config import ConfigDocument, LiveConfig
from sessile.login.configs.granted_scopes import GrantedScope, checked_scopes
from sessile.login.configs.otp import OtpLoginConfigs
from sessile.login.oauth.accounts import AccountLinkPolicy
from sessile.login.oauth.known import KNOWN, trusted_by_default
from sessile.oauth_config import OAuthProviderSettings

__all__ = [
    "PREFIX",
    "ConfiguredProvider",
    "OAuthLoginConfig",
    "OAuthLoginConfigBody",
    "OAuthLoginConfigs",
    "OAuthOptions",
]

PREFIX = "login_oauth:"


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ValueError("must be an absolute http(s) URL without a fragment")
    return value


HttpUrl = Annotated[
    str, StringConstraints(min_length=1, max_length=2048), AfterValidator(_http_url)
]
#: An RFC 6749 §3.3 scope token, as asked of the provider.
ProviderScope = Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")]


class OAuthOptionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    use_email_as_identifier: bool | None = Field(
        default=None, description="The provider's address becomes the user's e-mail identifier."
    )
    allow_email_account_merge: bool | None = Field(
        default=None, description="A verified provider address joins the account holding it."
    )
    verify_email: bool | None = Field(
        default=None,
        description="An unverified address is proven by an e-mail code first "
        "(status=otp_required); needs use_email_as_identifier and e-mail code login.",
    )


class AppleBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    team_id: str = Field(min_length=1, max_length=64)
    key_id: str = Field(min_length=1, max_length=64)
    p8_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="The .p8 key (PEM, P-256): write-only; left out, the stored one is kept.",
    )


class OktaBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    issuer_url: HttpUrl = Field(description="The Okta org's OpenID Connect issuer.")


class OAuthLoginConfigBody(BaseModel):
    """What ``POST`` and ``PUT …/config/login/oauth/{provider}`` take."""

    model_config = ConfigDict(extra="forbid", strict=True)
    client_id: str = Field(min_length=1, max_length=500)
    client_secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="Write-only. Required the first time; left out later, the stored one is kept.",
    )
    enabled: bool = Field(default=True, description="false answers oauth_provider_disabled.")
    scopes: list[ProviderScope] = Field(
        default_factory=list,
        max_length=30,
        description="Scopes asked of the provider; empty: the provider's usual ones.",
    )
    granted_scopes: list[GrantedScope] = Field(
        default_factory=list,
        max_length=10,
        description="Scopes the sessions of these logins get, for SESSILE_STEPUP_GRANT_TTL.",
    )
    options: OAuthOptionsBody = Field(default_factory=OAuthOptionsBody)
    apple: AppleBody | None = None
    okta: OktaBody | None = None
    redirect_uris: list[HttpUrl] = Field(
        default_factory=list,
        max_length=20,
        description="sessile: more app pages the browser may come back to from this "
        "provider, beside SESSILE_OAUTH_REDIRECT_URIS (matched exactly).",
    )
    trust_email_verified: bool | None = Field(
        default=None,
        description="sessile: whether the provider's word that an address is verified "
        "proves it; left out, SESSILE_OAUTH_<PROVIDER>_TRUST_EMAIL_VERIFIED, else true for "
        "google, apple, microsoft and github only.",
    )

    @model_validator(mode="after")
    def _fits(self) -> OAuthLoginConfigBody:
        checked_scopes(self.granted_scopes)
        return self


@dataclass(frozen=True)
class OAuthOptions:
    use_email_as_identifier: bool
    allow_email_account_merge: bool
    verify_email: bool

    def link_policy(self, trusted: bool) -> AccountLinkPolicy:
        """The policy of a provider with these options, trusted or not."""
        return AccountLinkPolicy(
            oauth_use_email_as_identifier=self.use_email_as_identifier,
            oauth_allow_email_account_merge=self.allow_email_account_merge,
            oauth_verify_email=self.verify_email,
            trust_email_verified=trusted,
        )


@dataclass(frozen=True)
class ConfiguredProvider:
    """What a social login with one provider reads: its client and its rules."""

    name: str
    settings: OAuthProviderSettings
    options: OAuthOptions
    granted_scopes: tuple[str, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    #: Whether the provider's word that an address is verified proves it.
    trust_email_verified: bool = False


def _trusted(name: str, settings: OAuthProviderSettings | None, stored: bool | None) -> bool:
    """The stored choice, else the setting, else the provider's default."""
    if stored is not None:
        return stored
    if settings is not None and settings.trust_email_verified is not None:
        return settings.trust_email_verified
    return trusted_by_default(name)


@dataclass(frozen=True)
class OAuthLoginConfig:
    """A provider's config in Prelude's shape, without its secrets; no times when only the
    settings configure it."""

    provider_id: str
    client_id: str
    enabled: bool
    scopes: tuple[str, ...]
    granted_scopes: tuple[str, ...]
    options: OAuthOptions
    apple: tuple[str, str] | None
    okta_issuer_url: str | None
    redirect_uris: tuple[str, ...]
    created_at: float | None = None
    updated_at: float | None = None
    trust_email_verified: bool = False


class OAuthLoginConfigs:
    def __init__(
        self,
        live: LiveConfig,
        server_secret: bytes,
        configured: Mapping[str, OAuthProviderSettings],
        defaults: OAuthOptions,
        otp: OtpLoginConfigs,
    ) -> None:
        """``configured``: the settings' providers; ``defaults``: the settings' options."""
        self._live = live
        self._box = SecretBox(server_secret, "login-oauth-config")
        self._configured = dict(configured)
        self._defaults = defaults
        self._otp = otp
        # Per provider, what was made of the document last seen (None: of the settings).
        self._made: dict[str, tuple[ConfigDocument | None, ConfiguredProvider]] = {}

    # Reading, on every social login --------------------------------------------------------
    async def provider(self, name: str) -> ConfiguredProvider | None:
        """The provider as configured now, or None when nothing configures it."""
        document = await self._live.get(PREFIX + name) if name in KNOWN else None
        made = self._made.get(name)
        if made is not None and made[0] is document:
            return made[1]
        if document is not None:
            configured = self._from_document(name, document.value)
        elif name in self._configured:
            settings = self._configured[name]
            configured = ConfiguredProvider(
                name,
                settings,
                self._defaults,
                trust_email_verified=_trusted(name, settings, None),
            )
        else:
            return None
        self._made[name] = (document, configured)
        return configured

    async def names(self) -> list[str]:
        """Every provider something configures (enabled or not)."""
        documents = await self._live.documents()
        stored = {n.removeprefix(PREFIX) for n in documents if n.startswith(PREFIX)}
        return sorted(stored | set(self._configured))

    async def link_policy(self, name: str) -> AccountLinkPolicy:
        configured = await self.provider(name)
        if configured is None:
            return self._defaults.link_policy(trusted_by_default(name))
        return configured.options.link_policy(configured.trust_email_verified)

    async def granted_scopes(self, name: str) -> tuple[str, ...]:
        configured = await self.provider(name)
        return configured.granted_scopes if configured else ()

    async def redirect_uris(self, name: str) -> tuple[str, ...]:
        configured = await self.provider(name)
        return configured.redirect_uris if configured else ()

    # The management API --------------------------------------------------------------------
    async def view(self, name: str) -> OAuthLoginConfig:
        """The provider's config as stored now; ``not_found`` when nothing configures it."""
        _known(name)
        self._live.forget()
        document = await self._live.get(PREFIX + name)
        if document is not None:
            configured = self._from_document(name, document.value)
            return self._view(configured, document.value, document)
        settings = self._configured.get(name)
        if settings is None:
            raise NotFound(f"Sign-in with {name} is not configured.")
        return OAuthLoginConfig(
            provider_id=name,
            client_id=settings.client_id,
            enabled=settings.enabled,
            scopes=tuple(settings.scopes or KNOWN[name].scopes),
            granted_scopes=(),
            options=self._defaults,
            apple=(settings.team_id, settings.key_id)
            if settings.team_id and settings.key_id
            else None,
            okta_issuer_url=settings.issuer if name == "okta" else None,
            redirect_uris=(),
            trust_email_verified=_trusted(name, settings, None),
        )

    async def replace(self, name: str, body: OAuthLoginConfigBody) -> OAuthLoginConfig:
        """Check and store the provider's config; nothing is stored when it is refused."""
        _known(name)
        if body.apple is not None and name != "apple":
            raise BadRequest("apple is only for the apple provider.")
        if body.okta is not None and name != "okta":
            raise BadRequest("okta is only for the okta provider.")
        self._live.forget()
        stored = await self._live.value(PREFIX + name) or {}
        value: dict[str, Any] = {
            "client_id": body.client_id,
            "client_secret": self._seal(name, "client_secret", body.client_secret)
            if body.client_secret is not None
            else stored.get("client_secret"),
            "enabled": body.enabled,
            "scopes": list(dict.fromkeys(body.scopes)),
            "granted_scopes": list(checked_scopes(body.granted_scopes)),
            "options": asdict(await self._options(body.options)),
            "apple": None,
            "okta": {"issuer_url": body.okta.issuer_url} if body.okta else None,
            "redirect_uris": list(dict.fromkeys(body.redirect_uris)),
            "trust_email_verified": body.trust_email_verified,
        }
        if body.apple is not None:
            kept = (stored.get("apple") or {}).get("p8_key")
            value["apple"] = {
                "team_id": body.apple.team_id,
                "key_id": body.apple.key_id,
                "p8_key": self._seal(name, "p8_key", body.apple.p8_key)
                if body.apple.p8_key is not None
                else kept,
            }
        if value["client_secret"] is None and not (value["apple"] or {}).get("p8_key"):
            raise BadRequest("client_secret is required.")
        if value["apple"] is not None and value["apple"]["p8_key"] is None:
            raise BadRequest("apple.p8_key is required.")
        configured = self._from_document(name, value)  # refuses what could sign nobody in
        document = await self._live.put(PREFIX + name, value)
        return self._view(configured, value, document)

    async def delete(self, name: str) -> None:
        """Back to the settings (or to not configured)."""
        _known(name)
        if not await self._live.delete(PREFIX + name):
            raise NotFound(f"Sign-in with {name} has no stored config.")

    # Inside --------------------------------------------------------------------------------
    async def _options(self, body: OAuthOptionsBody) -> OAuthOptions:
        use = (
            self._defaults.use_email_as_identifier
            if body.use_email_as_identifier is None
            else body.use_email_as_identifier
        )
        merge = (
            self._defaults.allow_email_account_merge
            if body.allow_email_account_merge is None
            else body.allow_email_account_merge
        )
        email_codes = await self._otp.offers("email")
        if body.verify_email:
            if not use:
                raise BadRequest("options.verify_email needs options.use_email_as_identifier.")
            if not email_codes:
                raise BadRequest("options.verify_email needs an e-mail OTP login config.")
        verify = (
            self._defaults.verify_email and use and email_codes
            if body.verify_email is None
            else body.verify_email
        )
        return OAuthOptions(use, merge, verify)

    def _seal(self, name: str, member: str, secret: str) -> str:
        return self._box.encrypt(secret.encode(), f"{PREFIX}{name}:{member}".encode())

    def _open(self, name: str, member: str, sealed: str | None) -> SecretStr | None:
        if sealed is None:
            return None
        return SecretStr(self._box.decrypt(sealed, f"{PREFIX}{name}:{member}".encode()).decode())

    def _from_document(self, name: str, value: Mapping[str, Any]) -> ConfiguredProvider:
        """The provider a document makes, over its settings; ``bad_request`` if it can't be."""
        base = self._configured.get(name)
        fields: dict[str, Any] = base.model_dump() if base is not None else {}
        fields.update(
            client_id=value["client_id"],
            client_secret=self._open(name, "client_secret", value["client_secret"]),
            enabled=value["enabled"],
        )
        if value["scopes"]:
            fields["scopes"] = list(value["scopes"])
        if value["apple"]:
            apple = value["apple"]
            fields.update(
                team_id=apple["team_id"],
                key_id=apple["key_id"],
                private_key=self._open(name, "p8_key", apple["p8_key"]),
            )
        if value["okta"]:
            fields["issuer"] = value["okta"]["issuer_url"]
        try:
            settings = OAuthProviderSettings.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise BadRequest(problems) from exc
        known = KNOWN[name]
        if (settings.kind or known.kind) == "oidc" and not (settings.issuer or known.issuer):
            raise BadRequest(f"{name} needs {name}.issuer_url.")
        return ConfiguredProvider(
            name,
            settings,
            OAuthOptions(**value["options"]),
            tuple(value["granted_scopes"]),
            tuple(value["redirect_uris"]),
            # Documents stored before the member existed have none: the default.
            _trusted(name, base, value.get("trust_email_verified")),
        )

    @staticmethod
    def _view(
        configured: ConfiguredProvider, value: Mapping[str, Any], document: ConfigDocument
    ) -> OAuthLoginConfig:
        apple = value["apple"]
        return OAuthLoginConfig(
            provider_id=configured.name,
            client_id=value["client_id"],
            enabled=value["enabled"],
            scopes=tuple(configured.settings.scopes or KNOWN[configured.name].scopes),
            granted_scopes=tuple(value["granted_scopes"]),
            options=OAuthOptions(**value["options"]),
            apple=(apple["team_id"], apple["key_id"]) if apple else None,
            okta_issuer_url=value["okta"]["issuer_url"] if value["okta"] else None,
            redirect_uris=tuple(value["redirect_uris"]),
            created_at=document.created_at,
            updated_at=document.updated_at,
            trust_email_verified=configured.trust_email_verified,
        )


def _known(name: str) -> None:
    if name not in KNOWN:
        raise NotFound(f"No provider named {name[:40]!r}; these are: {', '.join(KNOWN)}.")
