"""The providers configured now (settings, or a login config set through the management
API), by name, with each known provider's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sessile.errors import OAuthProviderDisabled, OAuthProviderNotConfigured
from sessile.login.configs.oauth import ConfiguredProvider, OAuthLoginConfigs
from sessile.login.oauth.facebook import FacebookProvider
from sessile.login.oauth.github import GitHubProvider
from sessile.login.oauth.known import KNOWN, OIDC_SCOPES, ProviderDefaults
from sessile.login.oauth.oidc import OidcProvider
from sessile.login.oauth.profile import ProviderProfile
from sessile.oauth_config import PROVIDER_NAME, OAuthProviderSettings

__all__ = ["Provider", "Providers"]


class Provider(Protocol):
    name: str

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str | None, code_verifier: str
    ) -> str: ...

    async def accepts_issuer(self, iss: str | None) -> bool:
        """Whether an authorization response's ``iss`` (RFC 9207) names this provider;
        None when the response carried none."""
        ...

    async def fetch_profile(
        self,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        nonce: str | None,
        form: Mapping[str, str],
    ) -> ProviderProfile: ...


def _build(name: str, settings: OAuthProviderSettings) -> Provider | None:
    defaults = KNOWN.get(name, ProviderDefaults("oidc", None, OIDC_SCOPES))
    kind = settings.kind or defaults.kind
    scopes = settings.scopes or list(defaults.scopes)
    if kind == "github":
        return GitHubProvider(name, settings, scopes=scopes)
    if kind == "facebook":
        return FacebookProvider(name, settings, scopes=scopes)
    issuer = settings.issuer or defaults.issuer
    if issuer is None:
        return None
    return OidcProvider(name, settings, issuer=issuer, scopes=scopes)


class Providers:
    """A client is made once per configuration of its provider, so discovery and the JWKS
    are fetched once, and again only after the configuration changed."""

    def __init__(self, configs: OAuthLoginConfigs) -> None:
        self._configs = configs
        self._built: dict[str, tuple[OAuthProviderSettings, Provider | None]] = {}

    async def names(self) -> list[str]:
        """The providers that can be used, for the app to show buttons."""
        usable = []
        for name in await self._configs.names():
            configured = await self._configs.provider(name)
            if configured and configured.settings.enabled and self._client(configured):
                usable.append(name)
        return usable

    def _client(self, configured: ConfiguredProvider) -> Provider | None:
        built = self._built.get(configured.name)
        if built is None or built[0] != configured.settings:
            built = (configured.settings, _build(configured.name, configured.settings))
            self._built[configured.name] = built
        return built[1]

    async def get(self, name: str) -> Provider:
        configured = await self._configs.provider(name) if PROVIDER_NAME.match(name) else None
        provider = self._client(configured) if configured is not None else None
        if configured is None or provider is None:
            raise OAuthProviderNotConfigured(f"Sign-in with {name[:40]!r} is not configured.")
        if not configured.settings.enabled:
            raise OAuthProviderDisabled(f"Sign-in with {name!r} is turned off.")
        return provider
