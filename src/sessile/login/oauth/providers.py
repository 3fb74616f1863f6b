"""The providers an operator configured, by name, with each known provider's defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sessile.errors import OAuthProviderDisabled, OAuthProviderNotConfigured
from sessile.login.oauth.github import GitHubProvider
from sessile.login.oauth.oidc import OidcProvider
from sessile.login.oauth.profile import ProviderProfile
from sessile.oauth_config import PROVIDER_NAME, OAuthProviderSettings

__all__ = ["Provider", "Providers"]

_OIDC_SCOPES = ["openid", "email", "profile"]


@dataclass(frozen=True)
class _Defaults:
    kind: str
    issuer: str | None
    scopes: list[str]


#: Prelude's provider names. Okta has no default issuer: each organisation has its own.
KNOWN: dict[str, _Defaults] = {
    "google": _Defaults("oidc", "https://accounts.google.com", _OIDC_SCOPES),
    "apple": _Defaults("oidc", "https://appleid.apple.com", ["openid", "email", "name"]),
    "microsoft": _Defaults("oidc", "https://login.microsoftonline.com/common/v2.0", _OIDC_SCOPES),
    "okta": _Defaults("oidc", None, _OIDC_SCOPES),
    "github": _Defaults("github", None, ["read:user", "user:email"]),
}


class Provider(Protocol):
    name: str

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str | None, code_verifier: str
    ) -> str: ...

    async def accepts_issuer(self, iss: str) -> bool:
        """Whether an authorization response's ``iss`` (RFC 9207) names this provider."""
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
    defaults = KNOWN.get(name, _Defaults("oidc", None, _OIDC_SCOPES))
    kind = settings.kind or defaults.kind
    scopes = settings.scopes or defaults.scopes
    if kind == "github":
        return GitHubProvider(name, settings, scopes=scopes)
    issuer = settings.issuer or defaults.issuer
    if issuer is None:
        return None
    return OidcProvider(name, settings, issuer=issuer, scopes=scopes)


class Providers:
    """Clients are made once per process, so discovery and the JWKS are fetched once."""

    def __init__(self, configured: Mapping[str, OAuthProviderSettings]) -> None:
        self._settings = dict(configured)
        self._built: dict[str, Provider | None] = {}

    def names(self) -> list[str]:
        """The providers that can be used, for the app to show buttons."""
        return sorted(
            name
            for name, settings in self._settings.items()
            if settings.enabled and self._provider(name) is not None
        )

    def _provider(self, name: str) -> Provider | None:
        if name not in self._built:
            self._built[name] = _build(name, self._settings[name])
        return self._built[name]

    def get(self, name: str) -> Provider:
        settings = self._settings.get(name) if PROVIDER_NAME.match(name) else None
        provider = self._provider(name) if settings is not None else None
        if settings is None or provider is None:
            raise OAuthProviderNotConfigured(f"Sign-in with {name[:40]!r} is not configured.")
        if not settings.enabled:
            raise OAuthProviderDisabled(f"Sign-in with {name!r} is turned off.")
        return provider
